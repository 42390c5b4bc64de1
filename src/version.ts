/** The firmware version, reported in the birth, the heartbeat and discovery. Bump on every release. */
export const FIRMWARE_VERSION = '0.1.0';

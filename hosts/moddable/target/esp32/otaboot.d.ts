// Declarations of otaboot.js (native, see otaboot.c).

/** 0 or 1 for ota_0/ota_1, -1 for a factory partition or when unknown. */
export function runningSlot(): number;
/** The otadata state of the running slot ('undefined' for a serial-flashed image, 'unsupported' for factory). */
export function runningState(): 'new' | 'pending-verify' | 'valid' | 'invalid' | 'aborted' | 'undefined' | 'unsupported';
/** Bytes of the slot esp_ota_begin would write, or 0 when the partition table has no OTA slot. */
export function nextSlotSize(): number;
/** The slot the bootloader marked invalid or aborted, or undefined. */
export function lastInvalidSlot(): number | undefined;
/** esp_ota_mark_app_valid_cancel_rollback(); throws when otadata cannot be written. */
export function markValid(): void;
/** Boots the previous slot (esp_restart); throws when it holds no bootable image. */
export function rollback(): void;
/** True when this firmware was built with CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE. */
export function bootloaderRollback(): boolean;
/** Erases the first sector of the update slot (never the running one), so no bootloader can select its image; throws when the erase fails. */
export function invalidateNext(): void;

// OTA: signed jobs over MQTT, streamed and verified downloads, health-gated commit and rollback.
export { otaExtension, type OtaOptions } from './extension';

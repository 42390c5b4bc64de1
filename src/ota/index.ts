// OTA: signed jobs over MQTT, streamed and verified downloads, health-gated commit and rollback.
export { otaExtension, type OtaOptions } from './extension';
export { OtaError, type OtaErrorCode } from './errors';
export { type OtaReport, type OtaState, FINAL_STATES } from './report';
export { canonicalJson, manifestBytes } from './canonical';

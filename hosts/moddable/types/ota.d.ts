// Moddable's ESP32 `ota` module (build/devices/esp32/modules/ota/ota.js), which the SDK ships
// without a typing. constructor: esp_ota_begin on the next slot; complete: esp_ota_end and
// esp_ota_set_boot_partition (the caller restarts). Listed in the manifest's esp32 section so the
// mcconfig build sees it too.
declare module 'ota' {
  class OTA {
    constructor();
    write(data: ArrayBuffer | Uint8Array): void;
    cancel(): void;
    complete(): void;
  }
  export { OTA as default };
}

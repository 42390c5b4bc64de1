// The ESP8266 build: what it runs on (mcconfig -p esp/nodemcu). OTA through nmboot, our bootloader
// (target/esp/nmboot): the firmware writes the spare slot through the shared update port
// (src/ota/slot-update.ts over boot-flash.ts) and reads what nmboot started from its boot record.
// No TLS: the SDK's TLS stack does not fit beside the firmware in its 32 KB XS heap.
import { attachBoot } from '../../../../src/ota/attach';
import { boot } from '../../boot';
import { startFirmware } from '../../firmware';
import { createAnalog, createDigital, createI2C } from '../../io';
import { ESP8266_LIMITS, type PreferenceLike } from '../../kv-chunks';
import { createUnsupportedUpdate } from '../../update-unsupported';
import { EspBootFlash } from './boot-flash';
import { ESP_LAYOUT } from './layout';
import { inspect, ready } from './otaflash';

/** Starts the firmware on this target; main.ts hands it Moddable's `preference` module. */
export const start = (preference: PreferenceLike): void =>
  boot(
    {
      name: 'esp8266',
      kvLimits: ESP8266_LIMITS,
      preference,
      hardwareRestart: true,
      io: () => ({
        // the nodemcu target's pins (build/devices/esp/targets/nodemcu/host/provider.js); config i2c {data, clock} overrides
        i2c: createI2C({ data: 5, clock: 4, hz: 100_000 }),
        digital: createDigital(),
        analog: createAnalog(),
      }),
      update(context) {
        const problem = ready();
        if (problem !== undefined) {
          return createUnsupportedUpdate(context.version, `OTA needs nmboot and an image with its trailer (npm run flash -- --target esp8266): ${problem}`);
        }
        // the version nmboot knows this image by: its trailer's (the build writes FIRMWARE_VERSION there)
        const version = inspect(ESP_LAYOUT.app).version ?? context.version;
        if (version !== context.version) context.log.log('warn', `the image's trailer says ${version}, the firmware ${context.version}`);
        return attachBoot(new EspBootFlash(), version);
      },
    },
    startFirmware,
  );

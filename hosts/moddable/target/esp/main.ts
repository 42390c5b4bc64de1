// Entry of the ESP8266 build (mcconfig -p esp/nodemcu). No OTA: Moddable has no OTA module for
// the ESP8266. No TLS: the SDK's TLS stack does not fit beside the firmware in its 32 KB XS heap.
import Preference from 'preference';
import { boot } from '../../boot';
import { startFirmware } from '../../firmware';
import { createAnalog, createDigital, createI2C } from '../../io';
import { ESP8266_LIMITS } from '../../kv-chunks';
import { createUnsupportedUpdate } from '../../update-unsupported';

boot(
  {
    name: 'esp8266',
    kvLimits: ESP8266_LIMITS,
    preference: Preference,
    hardwareRestart: true,
    io: () => ({
      // the nodemcu target's pins (build/devices/esp/targets/nodemcu/host/provider.js); config i2c {data, clock} overrides
      i2c: createI2C({ data: 5, clock: 4, hz: 100_000 }),
      digital: createDigital(),
      analog: createAnalog(),
    }),
    update: (context) =>
      createUnsupportedUpdate(context.version, 'OTA is not available on the ESP8266 (the Moddable SDK has no OTA module for it); update over USB with npm run flash -- --target esp8266'),
  },
  startFirmware,
);

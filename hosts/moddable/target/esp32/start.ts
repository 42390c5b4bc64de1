// The ESP32 build: what it runs on (mcconfig -p esp32/nodemcu): OTA with a health-gated commit, TLS, pins.
import { boot } from '../../boot';
import { startFirmware } from '../../firmware';
import { createAnalog, createDigital, createI2C } from '../../io';
import { ESP32_LIMITS, type PreferenceLike } from '../../kv-chunks';
import { tlsSupport } from '../../tls';
import { UpdateGate } from '../../update-gate';
import { bootloaderRollback } from './otaboot';
import { createEsp32Slots } from './slots';

/** Starts the firmware on this target; main.ts hands it Moddable's `preference` module. */
export const start = (preference: PreferenceLike): void =>
  boot(
    {
      name: 'esp32',
      kvLimits: ESP32_LIMITS,
      preference,
      tls: tlsSupport,
      hardwareRestart: true,
      io: () => ({
        // the nodemcu target's pins (build/devices/esp32/targets/nodemcu/host/provider.js); config i2c {data, clock} overrides
        i2c: createI2C({ data: 21, clock: 22, hz: 100_000 }),
        digital: createDigital(),
        analog: createAnalog(),
      }),
      update(context) {
        if (!bootloaderRollback()) {
          context.log.log('warn', 'bootloader built without app rollback: a new image that hangs before Wi-Fi is caught only by the boot counter and the deadline');
        }
        const gate = new UpdateGate({ ...context, slots: createEsp32Slots() });
        gate.boot();
        return gate;
      },
    },
    startFirmware,
  );

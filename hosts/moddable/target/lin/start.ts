// The desktop build: what it runs on (mcconfig -p lin, or sim/nodemcu): real TCP sockets, Moddable's
// simulated Wi-Fi, preferences in a JSON file, no flash to update, and the register-level
// simulated chips of hosts/sim/chips on a simulated I2C bus (config simChips, e.g. "bme280@0x76").
import { SimBME280 } from '../../../sim/chips/bme280';
import { SimI2CBus } from '../../../sim/chips/i2c-bus';
import { boot } from '../../boot';
import { configString } from '../../config';
import { startFirmware } from '../../firmware';
import { ESP32_LIMITS, ESP8266_LIMITS, type PreferenceLike } from '../../kv-chunks';
import { tlsSupport } from '../../tls';
import { createUnsupportedUpdate } from '../../update-unsupported';
import mcConfig from 'mc/config';

/** Starts the firmware on this target; main.ts hands it Moddable's `preference` module. */
export const start = (preference: PreferenceLike): void =>
  boot(
    {
      name: 'lin',
      // kvProfile=esp8266 makes the desktop build store like an ESP8266 (63-byte chunks).
      kvLimits: mcConfig.kvProfile === 'esp8266' ? ESP8266_LIMITS : ESP32_LIMITS,
      preference,
      tls: tlsSupport,
      hardwareRestart: false,
      io: (config, clock) => {
        const bus = new SimI2CBus();
        bus.transcriptLimit = 0; // the bus keeps a transfer log for tests; a long-running device needs none
        for (const item of (configString(config, 'simChips') ?? '').split(',')) {
          const [name, at] = item.trim().toLowerCase().split('@');
          if (name === 'bme280') bus.attach(new SimBME280({ now: () => clock.now(), address: at ? Number(at) : 0x76 }));
        }
        return { i2c: bus.io };
      },
      update: (context) =>
        createUnsupportedUpdate(context.version, 'the desktop build has no flash slots to update; test updates on an ESP32 (npm run flash -- --target esp32)'),
    },
    startFirmware,
  );

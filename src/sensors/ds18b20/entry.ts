// Board entry "ds18b20": every DS18B20 on one 1-Wire bus, found by a ROM search when the board is
// built. One sensor per probe ("<name>-<rom>", or just the name when there is one), or one sensor
// that reports why none was found.
import type { OneWire } from '../../ports';
import { HardwareConfigError, requirePort, type BoardEntry, type BuiltSensor, type SensorDescription } from '../board';
import { SensorError } from '../errors';
import { romToHex, searchRoms } from './onewire';
import { RetryingSensor, type SensorOpener } from '../retrying';
import { DS18B20, FAMILY_DS18B20, type DS18B20Configuration } from './ds18b20';

const QUANTITIES = { temperature: { unit: '°C', deviceClass: 'temperature', filter: { decimals: 2 } } };

export const ds18b20: BoardEntry = {
  type: 'ds18b20',
  quantities: () => QUANTITIES,
  build(description, ports) {
    const OneWire = requirePort(ports.oneWire, '1-Wire', description);
    if (description.pin === undefined) throw new HardwareConfigError(`DS18B20 "${description.name}" needs the pin of its bus`);
    return probes(new OneWire({ pin: description.pin }), description);
  },
};

function probes(bus: OneWire, description: SensorDescription): BuiltSensor[] {
  const { name, pin } = description;
  let roms: Uint8Array[];
  try {
    roms = searchRoms(bus).filter((rom) => rom[0] === FAMILY_DS18B20);
  } catch (error) {
    const failure = error instanceof SensorError ? error : new SensorError('bus', `1-Wire search failed: ${(error as Error).message}`);
    return [{ name, sensor: new RetryingSensor(new Failed(failure)) }];
  }
  if (!roms.length) {
    const absent = new SensorError('absent', `no DS18B20 answered on the 1-Wire bus at pin ${pin}: check the 4.7 kΩ pull-up and VDD`);
    return [{ name, sensor: new RetryingSensor(new Failed(absent)) }];
  }
  const configuration = description.configuration as DS18B20Configuration | undefined;
  return roms.map((rom) => ({
    name: roms.length === 1 ? name : `${name}-${romToHex(rom)}`,
    sensor: new DS18B20({ sensor: { io: bus, rom }, configuration }),
  }));
}

/** A probe that could not be found: opening it reports why, at every measurement. */
class Failed implements SensorOpener {
  constructor(private readonly error: SensorError) {}
  open(): never {
    throw this.error;
  }
}

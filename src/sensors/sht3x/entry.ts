// Board entry "sht3x": Sensirion SHT30/31/35 on I2C.
import type { I2CConstructor } from '../../ports';
import { lazySensor, requirePort, type BoardEntry, type I2CBusSettings, type SensorDescription } from '../board';
import { HUMIDITY, TEMPERATURE } from '../quantities';
import { SHT3X_ADDRESS, SHT3x, type SHT3xConfiguration } from './sht3x';

const QUANTITIES = { temperature: TEMPERATURE, humidity: HUMIDITY };

export const sht3x: BoardEntry = {
  type: 'sht3x',
  address: SHT3X_ADDRESS,
  quantities: () => QUANTITIES,
  build(description, ports, i2c) {
    return lazySensor(description, open, requirePort(ports.i2c, 'I2C', description), i2c);
  },
};

function open(description: SensorDescription, io: I2CConstructor, i2c: I2CBusSettings): SHT3x {
  const sensor = { ...i2c, io, address: description.address ?? SHT3X_ADDRESS };
  return new SHT3x({ sensor, configuration: description.configuration as SHT3xConfiguration });
}

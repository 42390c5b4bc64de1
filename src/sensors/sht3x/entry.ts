// Board entry "sht3x": Sensirion SHT30/31/35 on I2C.
import type { I2CConstructor } from '../../ports';
import { lazySensor, requirePort, type BoardEntry, type DriverSource } from '../board';
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

const open = (s: DriverSource<I2CConstructor>): SHT3x => {
  return new SHT3x({ sensor: { ...s.i2c, io: s.port, address: s.description.address ?? SHT3X_ADDRESS }, configuration: s.description.configuration as SHT3xConfiguration });
};

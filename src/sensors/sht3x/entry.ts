// Board entry "sht3x": Sensirion SHT30/31/35 on I2C.
import { i2cOptions, lazySensor, type BoardEntry } from '../board';
import { HUMIDITY, TEMPERATURE } from '../quantities';
import { SHT3X_ADDRESS, SHT3x, type SHT3xConfiguration } from './sht3x';

const QUANTITIES = { temperature: TEMPERATURE, humidity: HUMIDITY };

export const sht3x: BoardEntry = {
  type: 'sht3x',
  address: SHT3X_ADDRESS,
  quantities: () => QUANTITIES,
  build(description, ports, i2c) {
    const sensor = i2cOptions(description, ports, i2c, SHT3X_ADDRESS);
    return lazySensor(description, () => new SHT3x({ sensor, configuration: description.configuration as SHT3xConfiguration }));
  },
};

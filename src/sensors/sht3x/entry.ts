// Board entry "sht3x": Sensirion SHT30/31/35 on I2C.
import { lazySensor, requirePort, type BoardEntry } from '../board';
import { HUMIDITY, TEMPERATURE } from '../quantities';
import { SHT3X_ADDRESS, SHT3x, type SHT3xConfiguration } from './sht3x';

const QUANTITIES = { temperature: TEMPERATURE, humidity: HUMIDITY };

export const sht3x: BoardEntry = {
  type: 'sht3x',
  address: SHT3X_ADDRESS,
  quantities: () => QUANTITIES,
  build(description, ports, i2c) {
    const io = requirePort(ports.i2c, 'I2C', description);
    return lazySensor(description, () => {
      const sensor = { ...i2c, io, address: description.address ?? SHT3X_ADDRESS };
      return new SHT3x({ sensor, configuration: description.configuration as SHT3xConfiguration });
    });
  },
};

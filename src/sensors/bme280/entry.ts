// Board entries "bme280" and "bmp280": one driver (it tells the chips apart by their id), two sets of
// quantities (a BMP280 has no humidity).
import type { I2CConstructor } from '../../ports';
import { lazySensor, requirePort, type BoardEntry, type DriverSource } from '../board';
import { HUMIDITY, PRESSURE, TEMPERATURE } from '../quantities';
import { BME280, BME280_ADDRESS, type BME280Configuration } from './bme280';

const BME280_QUANTITIES = { temperature: TEMPERATURE, humidity: HUMIDITY, pressure: PRESSURE };
const BMP280_QUANTITIES = { temperature: TEMPERATURE, pressure: PRESSURE };

export const bme280: BoardEntry = {
  type: 'bme280',
  address: BME280_ADDRESS,
  quantities: () => BME280_QUANTITIES,
  build(description, ports, i2c) {
    return lazySensor(description, open, requirePort(ports.i2c, 'I2C', description), i2c);
  },
};

const open = (s: DriverSource<I2CConstructor>): BME280 => {
  return new BME280({ sensor: { ...s.i2c, io: s.port, address: s.description.address ?? BME280_ADDRESS }, configuration: s.description.configuration as BME280Configuration });
};

export const bmp280: BoardEntry = {
  type: 'bmp280',
  address: BME280_ADDRESS,
  quantities: () => BMP280_QUANTITIES,
  build: bme280.build,
};

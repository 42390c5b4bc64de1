// Board entry "bh1750": ROHM BH1750FVI ambient light on I2C.
import type { I2CConstructor } from '../../ports';
import { lazySensor, requirePort, type BoardEntry, type I2CBusSettings, type SensorDescription } from '../board';
import { BH1750, BH1750_ADDRESS, type BH1750Configuration } from './bh1750';

const QUANTITIES = { illuminance: { unit: 'lx', deviceClass: 'illuminance', filter: { decimals: 1 } } };

export const bh1750: BoardEntry = {
  type: 'bh1750',
  address: BH1750_ADDRESS,
  quantities: () => QUANTITIES,
  build(description, ports, i2c) {
    return lazySensor(description, open, requirePort(ports.i2c, 'I2C', description), i2c);
  },
};

function open(description: SensorDescription, io: I2CConstructor, i2c: I2CBusSettings): BH1750 {
  const sensor = { ...i2c, io, address: description.address ?? BH1750_ADDRESS };
  return new BH1750({ sensor, configuration: description.configuration as BH1750Configuration });
}

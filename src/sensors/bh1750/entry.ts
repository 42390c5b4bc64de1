// Board entry "bh1750": ROHM BH1750FVI ambient light on I2C.
import type { I2CConstructor } from '../../ports';
import { lazySensor, requirePort, type BoardEntry, type DriverSource } from '../board';
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

const open = (s: DriverSource<I2CConstructor>): BH1750 => {
  return new BH1750({ sensor: { ...s.i2c, io: s.port, address: s.description.address ?? BH1750_ADDRESS }, configuration: s.description.configuration as BH1750Configuration });
};

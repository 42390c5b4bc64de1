// Board entry "analog": a two-point calibrated value on an ADC pin; the board description names its
// unit and device class.
import type { AnalogConstructor } from '../../ports';
import { HardwareConfigError, lazySensor, requirePort, type BoardEntry, type DriverSource, type Quantity } from '../board';
import { AnalogSensor, type AnalogSensorConfiguration } from './analog';

export const analog: BoardEntry = {
  type: 'analog',
  quantities(description): Record<string, Quantity> {
    return { value: { unit: description.unit, deviceClass: description.deviceClass, filter: { decimals: 1 } } };
  },
  build(description, ports) {
    const io = requirePort(ports.analog, 'analog', description);
    if (description.pin === undefined) throw new HardwareConfigError(`analog sensor "${description.name}" needs a pin`);
    return lazySensor(description, open, io);
  },
};

const open = (s: DriverSource<AnalogConstructor>): AnalogSensor => {
  return new AnalogSensor({ sensor: { io: s.port, pin: s.description.pin! }, configuration: s.description.configuration as AnalogSensorConfiguration });
};

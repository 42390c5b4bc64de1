// Board entry "analog": a two-point calibrated value on an ADC pin; the board description names its
// unit and device class.
import { HardwareConfigError, lazySensor, requirePort, type BoardEntry, type Quantity } from '../board';
import { AnalogSensor, type AnalogSensorConfiguration } from './analog';

export const analog: BoardEntry = {
  type: 'analog',
  quantities(description): Record<string, Quantity> {
    return { value: { unit: description.unit, deviceClass: description.deviceClass, filter: { decimals: 1 } } };
  },
  build(description, ports) {
    const io = requirePort(ports.analog, 'analog', description);
    const pin = description.pin;
    if (pin === undefined) throw new HardwareConfigError(`analog sensor "${description.name}" needs a pin`);
    return lazySensor(description, () => new AnalogSensor({ sensor: { io, pin }, configuration: description.configuration as AnalogSensorConfiguration }));
  },
};

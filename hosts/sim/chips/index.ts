// Register-level simulated sensor chips and the buses they sit on. Pure TypeScript: no Node
// modules, so the same driver-against-chip tests run under Node and on XS.
export { SimI2CBus, SimI2CError, type SimI2CDevice, type TranscriptEntry } from './i2c-bus';
export { SimOneWireBus, type SimOneWireDevice, type OneWireTranscriptEntry } from './onewire-bus';
export { SimAnalogPin, SimAnalogPins, type SimAnalogFault } from './analog';
export { SimBME280, type SimBME280Fault, type SimBME280Options } from './bme280';
export { SimSHT3x, type SimSHT3xFault, type SimSHT3xOptions } from './sht3x';
export { SimBH1750, type SimBH1750Fault, type SimBH1750Options } from './bh1750';
export { SimDS18B20, makeRom, type SimDS18B20Fault, type SimDS18B20Options } from './ds18b20';
export { DATASHEET_CALIBRATION, temperatureDouble, pressureDouble, humidityDouble, type SimBoschCalibration } from './bosch-float';
export { maximCrc, sensirionCrc } from './crc';

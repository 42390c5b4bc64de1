// Sensor drivers and their shared contract (see sensor.ts for how to drive them), one folder per chip.
export { SensorError, type SensorErrorCode } from './errors';
export { readingValues, requireInRange, type Reading, type Sensor } from './sensor';
export { measure, asSensorError, type MeasureCallback } from './measure';
export { crc8Maxim, crc8Sensirion } from './crc';
export { BME280, type BME280Configuration, type BME280Options, type BME280Reading } from './bme280/bme280';
export { SHT3x, type SHT3xConfiguration, type SHT3xOptions, type SHT3xReading, type SHT3xStatus } from './sht3x/sht3x';
export { BH1750, type BH1750Configuration, type BH1750Options, type BH1750Reading } from './bh1750/bh1750';
export { DS18B20, type DS18B20Configuration, type DS18B20Options, type DS18B20Reading } from './ds18b20/ds18b20';
export { searchRoms, romFromHex, romToHex, checkRom } from './ds18b20/onewire';
export { AnalogSensor, type AnalogSensorConfiguration, type AnalogSensorOptions, type AnalogReading } from './analog/analog';

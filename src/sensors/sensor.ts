// The one contract every sensor driver here follows (ECMA-419 sensor class pattern, plus a
// start()/conversionTime split so nothing ever busy-waits):
//
//   const sensor = new BME280({ sensor: { io: platform.i2c, address: 0x76 } });
//   sensor.configure({ ... });          // optional; may be called again later
//   const wait = sensor.start();        // begins a measurement; ms until its result is ready
//   clock.set(() => {
//     const reading = sensor.sample();  // reads the result; throws SensorError
//   }, wait);
//   sensor.close();
//
// - start() returns 0 when the result is available at once (analog pins; continuous modes once
//   their first conversion is done). `conversionTime` is the datasheet's maximum time for the
//   current configuration, in whole milliseconds.
// - sample() before the wait elapsed gets whatever the chip really does then: a NACK
//   ('not-ready'), a stale result, or a power-on value. Honour the wait; measure() does.
// - Readings follow ECMA-419 sample objects: a compound sensor nests one object per sensor class
//   (thermometer.temperature in °C, hygrometer.humidity in %RH, barometer.pressure in Pa); a
//   single-class sensor is flat ({ temperature }, { illuminance } in lux, { value, raw }).
//   readingValues() flattens either form. A value outside the chip's specified range is still
//   returned, and its name is listed in `outOfRange`; requireInRange() turns that into a
//   SensorError 'range' for callers that would rather drop the reading.

import { SensorError } from './errors';

export interface Reading {
  /** Names of the values outside the chip's specified range (e.g. ['temperature']); absent when all are in range. */
  outOfRange?: string[];
}

export interface Sensor<R extends Reading = Reading> {
  /** Datasheet maximum time from start() to a fresh result, in ms, for the current configuration. */
  readonly conversionTime: number;
  /** Starts a measurement (where the chip needs one); returns the ms to wait before sample(). */
  start(): number;
  /** Reads the latest result. Throws SensorError. */
  sample(): R;
  close(): void;
}

/** Adds `name` to the reading's outOfRange list when `value` is outside [min, max]. */
export const checkRange = (reading: Reading, name: string, value: number, min: number, max: number): void => {
  if (value >= min && value <= max) return;
  if (reading.outOfRange) reading.outOfRange.push(name);
  else reading.outOfRange = [name];
};

/** The reading itself, or SensorError 'range' when it has values outside the chip's range: for callers that drop such readings. */
export const requireInRange = <R extends Reading>(reading: R, sensorName = 'sensor'): R => {
  if (reading.outOfRange?.length) {
    throw new SensorError('range', `${sensorName}: ${reading.outOfRange.join(', ')} outside the chip's specified range (damaged element, saturation or a wiring fault)`);
  }
  return reading;
};

/** Whole milliseconds, rounded up: waiting a fraction too little reads a stale result. */
export const ceilMs = (ms: number): number => {
  return Math.ceil(ms - 1e-9);
};

/** The numbers of a reading, flat: { temperature, humidity, pressure, illuminance, value, ... }. */
export const readingValues = (reading: Reading): Record<string, number> => {
  const values: Record<string, number> = {};
  const fields = reading as unknown as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    const entry = fields[key];
    if (typeof entry === 'number') values[key] = entry;
    else if (key !== 'outOfRange' && entry && typeof entry === 'object') {
      const inner = entry as Record<string, unknown>;
      for (const name of Object.keys(inner)) {
        const value = inner[name];
        if (typeof value === 'number') values[name] = value;
      }
    }
  }
  return values;
};

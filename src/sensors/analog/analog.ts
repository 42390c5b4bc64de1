// An analog sensor on an ADC pin (soil moisture probe, photoresistor divider, ...) mapped to a
// value by two-point calibration: two raw readings taken at known conditions (e.g. probe in dry
// air and in water) define a straight line. Reads are instant, so start() returns 0.
import type { Analog, AnalogConstructor } from '../../ports';
import { SensorError } from '../errors';
import type { Reading, Sensor } from '../sensor';

export interface CalibrationPoint {
  /** ADC reading at this condition. */
  raw: number;
  /** The value it stands for, in your unit (e.g. 0 and 100 % moisture). */
  value: number;
}

export interface AnalogSensorConfiguration {
  /** Two points, e.g. [{ raw: 3100, value: 0 }, { raw: 1350, value: 100 }]. Default: 0..100 % of full scale. */
  calibration?: [CalibrationPoint, CalibrationPoint];
  /** ADC readings averaged per sample, 1..64 (default 1). */
  average?: number;
  /** Clamp the value to the calibrated span (default true). Out-of-span readings are flagged either way. */
  clamp?: boolean;
}

export interface AnalogSensorOptions {
  sensor: { io: AnalogConstructor; pin: number; resolution?: number };
  configuration?: AnalogSensorConfiguration;
}

export interface AnalogReading extends Reading {
  value: number;
  /** Mean ADC reading the value was computed from. */
  raw: number;
}

export class AnalogSensor implements Sensor<AnalogReading> {
  readonly conversionTime = 0;
  #io: Analog | undefined;
  #calibration: [CalibrationPoint, CalibrationPoint];
  #average = 1;
  #clamp = true;

  constructor(options: AnalogSensorOptions) {
    const sensor = options?.sensor;
    if (typeof sensor?.io !== 'function') throw new SensorError('config', 'analog sensor: sensor.io must be an Analog constructor (platform.analog)');
    if (!Number.isInteger(sensor.pin)) throw new SensorError('config', 'analog sensor: sensor.pin must be the ADC pin number');
    const io = (this.#io = new sensor.io({ pin: sensor.pin, resolution: sensor.resolution }));
    this.#calibration = [
      { raw: 0, value: 0 },
      { raw: 2 ** io.resolution - 1, value: 100 },
    ];
    try {
      this.configure(options.configuration ?? {});
    } catch (error) {
      io.close();
      throw error;
    }
  }

  configure(options: AnalogSensorConfiguration): void {
    const calibration = options.calibration ?? this.#calibration;
    const average = options.average ?? this.#average;
    if (
      !Array.isArray(calibration) ||
      calibration.length !== 2 ||
      !calibration.every((p) => Number.isFinite(p?.raw) && Number.isFinite(p?.value)) ||
      calibration[0].raw === calibration[1].raw
    ) {
      throw new SensorError('config', 'analog sensor: calibration needs two points {raw, value} with different raw readings, e.g. dry and wet');
    }
    if (!Number.isInteger(average) || average < 1 || average > 64) {
      throw new SensorError('config', `analog sensor: average ${JSON.stringify(average)} must be an integer from 1 to 64`);
    }
    this.#calibration = [{ ...calibration[0] }, { ...calibration[1] }];
    this.#average = average;
    this.#clamp = options.clamp ?? this.#clamp;
  }

  get configuration(): Readonly<Required<AnalogSensorConfiguration>> {
    return { calibration: [{ ...this.#calibration[0] }, { ...this.#calibration[1] }], average: this.#average, clamp: this.#clamp };
  }

  start(): number {
    return 0;
  }

  sample(): AnalogReading {
    const io = this.#io;
    if (!io) throw new SensorError('config', 'analog sensor is closed');
    let sum = 0;
    for (let i = 0; i < this.#average; i++) sum += io.read();
    const raw = sum / this.#average;
    const [a, b] = this.#calibration;
    let value = a.value + ((raw - a.raw) * (b.value - a.value)) / (b.raw - a.raw);
    const low = Math.min(a.value, b.value);
    const high = Math.max(a.value, b.value);
    const reading: AnalogReading = { value, raw };
    // An ADC at either end of its span is saturated: the input may lie beyond (broken wire, short).
    if (value < low || value > high || raw <= 0 || raw >= 2 ** io.resolution - 1) reading.outOfRange = ['value'];
    if (this.#clamp) value = Math.min(high, Math.max(low, value));
    reading.value = value;
    return reading;
  }

  close(): void {
    this.#io?.close();
    this.#io = undefined;
  }
}

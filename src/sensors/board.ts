// A chip's board entry: what src/device/hardware.ts needs to turn one item of the board description
// (config.sensors) into telemetry sensors. Each chip folder exports its entries (bme280/entry.ts);
// registry.ts lists them. Entries are plain constants: they cost no RAM until a board names them.
import type { Platform } from '../ports';
import type { I2CSensorOptions } from './i2c-device';
import { RetryingSensor, type SensorOpener } from './retrying';
import type { Sensor } from './sensor';

/** One item of the board description, as an entry's build() reads it. */
export interface SensorDescription {
  /** The entry's type name, e.g. "bme280". */
  type: string;
  /** Topic level of the sensor (the builder defaults it to the type). */
  name: string;
  address?: number;
  pin?: number;
  /** Driver configuration, passed as is (oversampling, mode, resolution, calibration, ...). */
  configuration?: Record<string, unknown>;
  /** Analog only: unit and Home Assistant device class of the calibrated value. */
  unit?: string;
  deviceClass?: string;
}

/** One value a sensor publishes. Shaped as the telemetry loop's ReadingSpec, so it is used as is. */
export interface Quantity {
  /** Where the value sits in the driver's reading, e.g. "thermometer.temperature". Default: the key. */
  readonly path?: string;
  /** `path` split at its dots, when the entry has it at hand (a module constant costs no RAM). */
  readonly parts?: readonly string[];
  readonly unit?: string;
  /** Home Assistant device class (temperature, humidity, pressure, illuminance, ...). */
  readonly deviceClass?: string;
  /** Decimals published unless the board description filters otherwise. */
  readonly filter?: { readonly decimals?: number };
}

/** The buses an entry may build on: the platform's ports. */
export type BoardPorts = Pick<Platform, 'i2c' | 'oneWire' | 'analog'>;

/** The board's I2C settings (config.i2c: data, clock, hz, ...), given to every I2C driver. */
export type I2CBusSettings = Omit<I2CSensorOptions, 'io' | 'address'>;

/** A telemetry sensor an entry made: its name (topic level) and its driver. */
export interface BuiltSensor {
  name: string;
  sensor: Sensor;
}

export interface BoardEntry {
  /** The `type` a board description names, e.g. "bme280". */
  readonly type: string;
  /** Default I2C address, for chips on I2C. */
  readonly address?: number;
  /** What the sensor publishes, by reading name. */
  quantities(description: SensorDescription): Readonly<Record<string, Quantity>>;
  /**
   * Makes the sensors for one description: usually one, whose driver is opened at the first
   * measurement (lazySensor); a bus of several chips may give one per chip. Throws
   * HardwareConfigError when the description or the platform lacks what the chip needs.
   */
  build(description: SensorDescription, ports: BoardPorts, i2c: I2CBusSettings): BuiltSensor[];
}

/** The board description cannot be built: the message says which sensor and what to change. */
export class HardwareConfigError extends Error {
}
HardwareConfigError.prototype.name = 'HardwareConfigError';

/** The port a sensor needs, or HardwareConfigError when this platform lacks it. */
export const requirePort = <T>(port: T | undefined, what: string, description: SensorDescription): T => {
  if (!port) throw new HardwareConfigError(`sensor "${description.name}" needs the ${what} port, which this platform lacks`);
  return port;
};

/** What a driver is made from: the description, the port it uses, and for I2C chips the bus settings. */
export interface DriverSource<Port> {
  readonly description: SensorDescription;
  readonly port: Port;
  readonly i2c: I2CBusSettings;
}

/**
 * Makes a driver: a module-level function of the entry, so opening a sensor keeps no closure in the
 * heap. One argument, as it runs under the boot's deepest XS stack (an ESP8266 has 256 slots).
 */
export type DriverMaker<Port> = (source: DriverSource<Port>) => Sensor;

/** One sensor named as described, whose driver `make` opens at the first measurement and again after a failure. */
export const lazySensor = <Port>(description: SensorDescription, make: DriverMaker<Port>, port: Port, i2c: I2CBusSettings = {}): BuiltSensor[] => {
  return [{ name: description.name, sensor: new RetryingSensor(new DriverOpener(make, description, port, i2c)) }];
};

/** What RetryingSensor opens: the maker and its source, kept as fields rather than in a closure. */
class DriverOpener<Port> implements SensorOpener, DriverSource<Port> {
  constructor(
    private readonly make: DriverMaker<Port>,
    readonly description: SensorDescription,
    readonly port: Port,
    readonly i2c: I2CBusSettings,
  ) {}

  open(): Sensor {
    return this.make(this);
  }
}

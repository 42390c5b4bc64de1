// The telemetry loop: each sensor sampled at its own interval through the sensor contract
// (src/sensors/sensor.ts), each reading filtered, one compact JSON message per sensor when any of its
// readings is due. A failing sensor is reported in its own message and in the heartbeat; the others
// carry on.
import type { Clock, TimerId } from '../ports';
import { measure } from '../sensors/measure';
import type { Reading, Sensor } from '../sensors/sensor';
import { ReadingFilter, type FilterOptions } from './filters';

export interface ReadingSpec {
  /** Where the value sits in the driver's sample, e.g. "thermometer.temperature". Default: the key. */
  path?: string;
  /** `path` split at its dots, when at hand (a module constant: no copy in RAM). */
  parts?: readonly string[];
  unit?: string;
  /** Home Assistant device class (temperature, humidity, pressure, illuminance, ...). */
  deviceClass?: string;
  filter?: FilterOptions;
}

export interface TelemetrySensor {
  /** Topic level and JSON name of the sensor, e.g. "env". */
  name: string;
  sensor: Sensor;
  /** Sampling interval, ms. Defaults to the configured telemetry interval. */
  interval?: number;
  /** The reading fields to publish, e.g. {temperature: {unit: "°C", ...}}. */
  readings: Record<string, ReadingSpec>;
}

export interface SensorStatus {
  /** "ok", or the SensorError code of the last failure. */
  state: string;
  errors: number;
  samples: number;
  /** Names of values out of the chip's range in the last sample. */
  outOfRange?: string[];
}

/** Where readings go, and the interval of sensors without their own: an object whose methods these are (no closures). */
export interface TelemetryOutput {
  publish(sensor: string, payload: string): void;
  /** The configured telemetry interval, ms: read at every (re)schedule, so a set-config applies. */
  defaultInterval(): number;
}

interface Entry {
  spec: TelemetrySensor;
  filters: Record<string, ReadingFilter>;
  /** The parts of the readings' paths that are not just their key ("thermometer.temperature"). */
  paths: Record<string, readonly string[]> | undefined;
  status: SensorStatus;
  timer?: TimerId;
  busy: boolean;
  lastError?: string;
}

export class Telemetry {
  private readonly entries: Entry[];
  private running = false;

  constructor(
    private readonly clock: Clock,
    sensors: TelemetrySensor[],
    private readonly out: TelemetryOutput,
  ) {
    this.entries = sensors.map((spec) => {
      const filters: Record<string, ReadingFilter> = {};
      let paths: Record<string, readonly string[]> | undefined;
      for (const key of Object.keys(spec.readings)) {
        const r = spec.readings[key];
        filters[key] = new ReadingFilter(r.filter);
        if (r.path !== undefined && r.path !== key) (paths ??= {})[key] = r.parts ?? r.path.split('.');
      }
      // every field a sample sets is here from the start (V8 keeps fields added later in a second array)
      return { spec, filters, paths, status: { state: 'pending', errors: 0, samples: 0, outOfRange: undefined }, timer: undefined, busy: false, lastError: undefined };
    });
  }

  get sensors(): TelemetrySensor[] {
    return this.entries.map((e) => e.spec);
  }

  /** Per-sensor status for the heartbeat. */
  statuses(): Record<string, SensorStatus> {
    const out: Record<string, SensorStatus> = {};
    for (const e of this.entries) out[e.spec.name] = { ...e.status };
    return out;
  }

  /** True once every sensor produced at least one good sample (an OTA health check). */
  get allSampled(): boolean {
    return this.entries.every((e) => e.status.samples > 0);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const e of this.entries) {
      this.sample(e);
      this.schedule(e);
    }
  }

  stop(): void {
    this.running = false;
    for (const e of this.entries) this.unschedule(e);
  }

  /** Applies a new default interval to the sensors that use it. */
  reschedule(): void {
    if (!this.running) return;
    for (const e of this.entries) if (e.spec.interval === undefined) this.schedule(e);
  }

  close(): void {
    this.stop();
    for (const e of this.entries) {
      try {
        e.spec.sensor.close();
      } catch {
        // a dead bus cannot be closed twice; nothing to keep
      }
    }
  }

  private schedule(e: Entry): void {
    this.unschedule(e);
    const ms = e.spec.interval ?? this.out.defaultInterval();
    e.timer = this.clock.set(() => this.sample(e), ms, ms);
  }

  private unschedule(e: Entry): void {
    if (e.timer !== undefined) this.clock.clear(e.timer);
    e.timer = undefined;
  }

  private sample(e: Entry): void {
    if (e.busy) return; // the previous conversion has not finished: skip rather than pile up
    e.busy = true;
    measure(e.spec.sensor, this.clock, (error, reading) => {
      e.busy = false;
      if (!this.running) return;
      if (error) return this.failed(e, error.code, error.message);
      this.sampled(e, reading!);
    });
  }

  private failed(e: Entry, code: string, message: string): void {
    e.status.errors++;
    e.status.state = code;
    // report a failure once when it starts or changes, not at every sample
    if (e.lastError === code) return;
    e.lastError = code;
    this.out.publish(e.spec.name, JSON.stringify({ ...this.stamp(), error: code, message }));
  }

  private sampled(e: Entry, reading: Reading): void {
    const now = this.clock.now();
    e.status.samples++;
    e.status.state = 'ok';
    e.status.outOfRange = reading.outOfRange;
    const recovered = e.lastError !== undefined;
    e.lastError = undefined;
    let due = recovered;
    for (const key of Object.keys(e.filters)) {
      const filter = e.filters[key];
      const path = e.paths?.[key];
      let raw: unknown = reading;
      if (path) for (const part of path) raw = (raw as Record<string, unknown> | undefined)?.[part];
      else raw = (reading as unknown as Record<string, unknown>)[key];
      if (typeof raw !== 'number' || !Number.isFinite(raw)) continue;
      filter.push(raw);
      if (filter.due(now)) due = true;
    }
    if (!due) return;
    const body: Record<string, unknown> = this.stamp();
    for (const key of Object.keys(e.filters)) {
      const filter = e.filters[key];
      if (filter.value === undefined) continue;
      body[key] = filter.value;
      filter.published(now);
    }
    if (reading.outOfRange) body.outOfRange = reading.outOfRange;
    // a tail call: this (large) frame is not on the XS stack under the publish (an ESP8266 has 256 slots)
    return this.out.publish(e.spec.name, JSON.stringify(body));
  }

  private stamp(): Record<string, unknown> {
    const wall = this.clock.wallTime();
    return wall === undefined ? { up: Math.round(this.clock.now()) } : { ts: Math.round(wall) };
  }
}

// Physical values for simulated sensors: a daily temperature cycle, weather drift, noise and
// occasional spikes, as pure functions of (seed, device index, wall time). The same seed gives the
// same values at the same time on any machine, and no timer runs: a device asks when it measures.
//
//   temperature  base + amplitude * cos(2π (hour - 15) / 24)    warmest at 15:00, coldest at 03:00
//                + weather drift (hours) + noise (per second) + spikes (a few per day, ~30 s)
//   humidity     falls as the temperature rises (relative humidity of a fixed amount of water)
//   pressure     altitude + slow weather fronts
//   illuminance  daylight bell from 06:00 to 20:00 (outdoor: tens of klx, indoor: hundreds), lamps
//                in the evening indoors
//   soil         dries over days, watered back up now and then
//   rssi         a fixed distance to the router, slow fading and noise

export interface EnvironmentOptions {
  /** 32-bit seed; the same seed gives the same sites and values. */
  seed: number;
  /** Minutes to add to UTC for the time of day. Default: this machine's local offset. */
  utcOffsetMinutes?: number;
  /** Spikes per site per day (expected). Default 4; 0 turns them off. */
  spikesPerDay?: number;
  /** Scale of the per-second noise (1 = default, 0 = none). */
  noise?: number;
  /** Scale of the slow weather drift of temperature, humidity and pressure (1 = default, 0 = none). */
  weather?: number;
}

export type SiteKind = 'indoor' | 'outdoor';

export interface SiteValues {
  /** °C */
  temperature: number;
  /** %RH */
  humidity: number;
  /** Pa */
  pressure: number;
  /** lux */
  illuminance: number;
  /** % volumetric water content of the soil */
  soil: number;
  /** dBm */
  rssi: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SPIKE_SLOT = 10 * 60_000;
const SPIKE_MS = 30_000;

/** A 32-bit integer hash of up to four integers (murmur3's finalizer over a running mix). */
export function hash32(a: number, b = 0, c = 0, d = 0): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = mix(h, b);
  h = mix(h, c);
  h = mix(h, d);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mix(h: number, x: number): number {
  h = Math.imul(h ^ (x | 0), 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  return Math.imul(h, 0x1b873593) ^ 0xe6546b64;
}

/** Uniform in [0, 1) from a hash. */
const unit = (h: number) => h / 4294967296;

// Channels keep the noise of different quantities independent.
const CH = { site: 1, temperature: 2, humidity: 3, pressure: 4, light: 5, soil: 6, rssi: 7, spike: 8, drift: 9 } as const;

/** Smooth noise in [-1, 1]: hashed values every `period` ms, cosine-interpolated between them. */
function smooth(seed: number, index: number, channel: number, t: number, period: number): number {
  const x = t / period;
  const i = Math.floor(x);
  const f = x - i;
  const a = unit(hash32(seed, index, channel, i)) * 2 - 1;
  const b = unit(hash32(seed, index, channel, i + 1)) * 2 - 1;
  const w = (1 - Math.cos(Math.PI * f)) / 2;
  return a + (b - a) * w;
}

/** White noise in [-1, 1] that holds for one second. */
function white(seed: number, index: number, channel: number, t: number): number {
  return unit(hash32(seed, index, channel + 100, Math.floor(t / 1000))) * 2 - 1;
}

/** Where a device is: fixed per (seed, index). */
export class Site {
  readonly kind: SiteKind;
  /** Mean temperature, °C. */
  readonly baseTemperature: number;
  /** Half the day-night swing, °C. */
  readonly amplitude: number;
  readonly baseHumidity: number;
  readonly altitude: number;
  readonly baseRssi: number;

  constructor(
    private readonly env: Environment,
    readonly index: number,
  ) {
    const r = (k: number) => unit(hash32(env.seed, index, CH.site, k));
    this.kind = r(0) < 0.3 ? 'outdoor' : 'indoor';
    const outdoor = this.kind === 'outdoor';
    this.baseTemperature = outdoor ? 8 + 14 * r(1) : 19.5 + 3 * r(1);
    this.amplitude = outdoor ? 3 + 4 * r(2) : 0.6 + 1.2 * r(2);
    this.baseHumidity = outdoor ? 55 + 25 * r(3) : 35 + 20 * r(3);
    this.altitude = Math.round(600 * r(4) * r(4));
    this.baseRssi = Math.round(-45 - 35 * r(5));
  }

  /** Hours since local midnight (fractional). */
  hourOfDay(wallMs: number): number {
    const local = wallMs + this.env.utcOffsetMinutes * 60_000;
    return (((local % DAY) + DAY) % DAY) / HOUR;
  }

  /** The undisturbed temperature: daily cycle plus weather drift, no noise or spikes. */
  trend(wallMs: number): number {
    const h = this.hourOfDay(wallMs);
    const daily = this.amplitude * Math.cos((2 * Math.PI * (h - 15)) / 24);
    const weather = this.env.weather * (this.kind === 'outdoor' ? 2.5 : 0.5) * smooth(this.env.seed, this.index, CH.drift, wallMs, 6 * HOUR);
    return this.baseTemperature + daily + weather;
  }

  /** Degrees a spike adds at this time (0 outside spikes): sun on the case, a door opened, a kettle. */
  spike(wallMs: number): number {
    const perDay = this.env.spikesPerDay;
    if (perDay <= 0) return 0;
    const slot = Math.floor(wallMs / SPIKE_SLOT);
    const h = hash32(this.env.seed, this.index, CH.spike, slot);
    if (unit(h) >= perDay / (DAY / SPIKE_SLOT)) return 0;
    const start = slot * SPIKE_SLOT + unit(hash32(h, 1)) * (SPIKE_SLOT - SPIKE_MS);
    const into = wallMs - start;
    if (into < 0 || into >= SPIKE_MS) return 0;
    const size = (unit(hash32(h, 2)) < 0.5 ? -1 : 1) * (3 + 5 * unit(hash32(h, 3)));
    // rises fast, decays slowly
    return size * Math.min(1, into / 3000) * Math.exp(-into / 12_000);
  }

  values(wallMs: number): SiteValues {
    const { seed, noise } = this.env;
    const i = this.index;
    const trend = this.trend(wallMs);
    const temperature = trend + this.spike(wallMs) + 0.05 * noise * white(seed, i, CH.temperature, wallMs);
    // Relative humidity falls about 4 %/°C as air warms with the same water content.
    const weather = this.env.weather;
    const rh = this.baseHumidity - 4 * (trend - this.baseTemperature) + 5 * weather * smooth(seed, i, CH.humidity, wallMs, 3 * HOUR) + 0.3 * noise * white(seed, i, CH.humidity, wallMs);
    const sea = 101_325 + 1_200 * weather * smooth(seed, i, CH.pressure, wallMs, 18 * HOUR);
    const pressure = sea * Math.exp(-this.altitude / 8_434) + 4 * noise * white(seed, i, CH.pressure, wallMs);
    return {
      temperature,
      humidity: Math.min(98, Math.max(5, rh)),
      pressure,
      illuminance: this.light(wallMs),
      soil: this.soil(wallMs),
      rssi: this.rssi(wallMs),
    };
  }

  /** The signal strength alone (what a heartbeat reports), without computing the rest. */
  rssi(wallMs: number): number {
    const { seed, noise } = this.env;
    return Math.round(this.baseRssi + 4 * smooth(seed, this.index, CH.rssi, wallMs, 120_000) + 1.5 * noise * white(seed, this.index, CH.rssi, wallMs));
  }

  private light(wallMs: number): number {
    const h = this.hourOfDay(wallMs);
    const { seed, noise } = this.env;
    const outdoor = this.kind === 'outdoor';
    const day = h > 6 && h < 20 ? Math.sin((Math.PI * (h - 6)) / 14) : 0;
    const clouds = 0.65 + 0.35 * smooth(seed, this.index, CH.light, wallMs, 20 * 60_000);
    let lux = day * clouds * (outdoor ? 40_000 : 350);
    if (!outdoor && h >= 18 && h < 23) lux = Math.max(lux, 180);
    lux *= 1 + 0.02 * noise * white(seed, this.index, CH.light, wallMs);
    return Math.max(0, lux);
  }

  private soil(wallMs: number): number {
    // Watered every 3 to 5 days: the content jumps to ~42 % and falls towards ~12 %.
    const period = (3 + 2 * unit(hash32(this.env.seed, this.index, CH.soil))) * DAY;
    const since = (((wallMs + unit(hash32(this.env.seed, this.index, CH.soil, 1)) * period) % period) + period) % period;
    return 12 + 30 * Math.exp(-since / (1.5 * DAY)) + 0.2 * this.env.noise * white(this.env.seed, this.index, CH.soil, wallMs);
  }
}

export class Environment {
  readonly seed: number;
  readonly utcOffsetMinutes: number;
  readonly spikesPerDay: number;
  readonly noise: number;
  readonly weather: number;

  constructor(options: EnvironmentOptions) {
    this.seed = options.seed >>> 0;
    this.utcOffsetMinutes = options.utcOffsetMinutes ?? -new Date().getTimezoneOffset();
    this.spikesPerDay = options.spikesPerDay ?? 4;
    this.noise = options.noise ?? 1;
    this.weather = options.weather ?? 1;
  }

  /** The signal strength at device `index`'s site (what its heartbeat reports), without making the site. */
  rssi(index: number, wallMs: number): number {
    const base = Math.round(-45 - 35 * unit(hash32(this.seed, index, CH.site, 5)));
    return Math.round(base + 4 * smooth(this.seed, index, CH.rssi, wallMs, 120_000) + 1.5 * this.noise * white(this.seed, index, CH.rssi, wallMs));
  }

  /** The site of device `index`. Cheap to create; holds a handful of numbers. */
  site(index: number): Site {
    return new Site(this, index);
  }
}

// The simulator's environment model: reproducible from the seed, a daily temperature cycle with its
// documented shape, slow change, occasional spikes, plausible ranges.
import { describe, expect, it } from 'vitest';
import { Environment, hash32, type Site } from '../../scripts/sim/environment';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const midnight = Date.UTC(2024, 5, 1); // a UTC midnight

function siteOf(env: Environment, kind: 'indoor' | 'outdoor'): Site {
  for (let i = 0; i < 200; i++) {
    const s = env.site(i);
    if (s.kind === kind) return s;
  }
  throw new Error(`no ${kind} site among the first 200`);
}

describe('environment', () => {
  it('gives the same values for the same seed, device and time, and other values for another seed', () => {
    const a = new Environment({ seed: 42, utcOffsetMinutes: 0 });
    const b = new Environment({ seed: 42, utcOffsetMinutes: 0 });
    const c = new Environment({ seed: 43, utcOffsetMinutes: 0 });
    const t = midnight + 13.5 * HOUR + 1234;
    for (let i = 0; i < 5; i++) expect(a.site(i).values(t)).toEqual(b.site(i).values(t));
    expect(a.site(0).values(t)).not.toEqual(c.site(0).values(t));
    expect(a.site(0).values(t)).not.toEqual(a.site(1).values(t));
  });

  it('hash32 spreads neighbouring inputs (no two of 10,000 consecutive inputs collide)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) seen.add(hash32(7, i));
    expect(seen.size).toBe(10_000);
  });

  it('follows base + A·cos(2π(h − 15)/24): warmest at 15:00, coldest at 03:00, the mean at 09:00 and 21:00', () => {
    const env = new Environment({ seed: 5, utcOffsetMinutes: 0, noise: 0, spikesPerDay: 0, weather: 0 });
    for (const site of [siteOf(env, 'indoor'), siteOf(env, 'outdoor')]) {
      const T = (h: number) => site.values(midnight + h * HOUR).temperature;
      expect(T(15)).toBeCloseTo(site.baseTemperature + site.amplitude, 9);
      expect(T(3)).toBeCloseTo(site.baseTemperature - site.amplitude, 9);
      expect(T(9)).toBeCloseTo(site.baseTemperature, 9);
      expect(T(21)).toBeCloseTo(site.baseTemperature, 9);
      // 60° past the peak: cos(π/3) = 1/2
      expect(T(19)).toBeCloseTo(site.baseTemperature + site.amplitude / 2, 9);
    }
  });

  it('shifts the cycle with the UTC offset: at UTC+2 the warmest hour is 13:00 UTC', () => {
    const env = new Environment({ seed: 5, utcOffsetMinutes: 120, noise: 0, spikesPerDay: 0, weather: 0 });
    const site = env.site(0);
    expect(site.values(midnight + 13 * HOUR).temperature).toBeCloseTo(site.baseTemperature + site.amplitude, 9);
  });

  it('relative humidity falls as the air warms: lower at 15:00 than at 03:00 by 4 %/°C', () => {
    const env = new Environment({ seed: 9, utcOffsetMinutes: 0, noise: 0, spikesPerDay: 0, weather: 0 });
    const site = siteOf(env, 'indoor');
    const rh = (h: number) => site.values(midnight + h * HOUR).humidity;
    expect(rh(3) - rh(15)).toBeCloseTo(4 * 2 * site.amplitude, 6);
  });

  it('pressure matches the barometric formula for the site altitude within 0.1 %', () => {
    const env = new Environment({ seed: 11, utcOffsetMinutes: 0, noise: 0, spikesPerDay: 0, weather: 0 });
    for (let i = 0; i < 20; i++) {
      const site = env.site(i);
      // International barometric formula (ICAO standard atmosphere), independent of the model's exponential
      const expected = 101_325 * (1 - 2.25577e-5 * site.altitude) ** 5.25588;
      expect(Math.abs(site.values(midnight).pressure - expected) / expected).toBeLessThan(0.001);
    }
  });

  it('changes slowly: consecutive 5 s samples over a day differ by at most 0.3 °C without spikes', () => {
    const env = new Environment({ seed: 3, utcOffsetMinutes: 0, spikesPerDay: 0 });
    for (const site of [env.site(0), env.site(1), env.site(2)]) {
      let previous = site.values(midnight).temperature;
      for (let t = midnight + 5000; t < midnight + DAY; t += 5000) {
        const now = site.values(t).temperature;
        expect(Math.abs(now - previous)).toBeLessThanOrEqual(0.3);
        previous = now;
      }
    }
  });

  it('has occasional spikes: about spikesPerDay episodes a day, each under 30 s and of at least 1 °C', () => {
    const env = new Environment({ seed: 21, utcOffsetMinutes: 0, spikesPerDay: 4 });
    const site = env.site(3);
    const days = 30;
    const episodes: { start: number; end: number; peak: number }[] = [];
    let open: { start: number; end: number; peak: number } | undefined;
    for (let t = midnight; t < midnight + days * DAY; t += 1000) {
      const s = site.spike(t);
      if (s !== 0) {
        open ??= { start: t, end: t, peak: 0 };
        open.end = t;
        open.peak = Math.max(open.peak, Math.abs(s));
      } else if (open) {
        episodes.push(open);
        open = undefined;
      }
    }
    // 4 a day for 30 days: 120 expected; a binomial count this far off has odds below one in a million
    expect(episodes.length).toBeGreaterThan(70);
    expect(episodes.length).toBeLessThan(170);
    for (const e of episodes) {
      expect(e.end - e.start).toBeLessThan(30_000);
      expect(e.peak).toBeGreaterThanOrEqual(1);
    }
    const none = new Environment({ seed: 21, utcOffsetMinutes: 0, spikesPerDay: 0 }).site(3);
    for (let t = midnight; t < midnight + DAY; t += 1000) expect(none.spike(t)).toBe(0);
  });

  it('stays in plausible ranges: humidity, light by day and night, soil, RSSI', () => {
    const env = new Environment({ seed: 1, utcOffsetMinutes: 0 });
    const outdoor = siteOf(env, 'outdoor');
    const indoor = siteOf(env, 'indoor');
    expect(outdoor.values(midnight + 2 * HOUR).illuminance).toBe(0);
    expect(outdoor.values(midnight + 13 * HOUR).illuminance).toBeGreaterThan(10_000);
    expect(indoor.values(midnight + 2 * HOUR).illuminance).toBe(0);
    // lamps of about 180 lx, with the sensor noise of ±2 %
    expect(indoor.values(midnight + 20 * HOUR).illuminance).toBeGreaterThan(175);
    for (let i = 0; i < 50; i++) {
      const site = env.site(i);
      for (let t = midnight; t < midnight + 7 * DAY; t += 3 * HOUR + 17_000) {
        const v = site.values(t);
        expect(v.humidity).toBeGreaterThanOrEqual(5);
        expect(v.humidity).toBeLessThanOrEqual(98);
        expect(v.temperature).toBeGreaterThan(-20);
        expect(v.temperature).toBeLessThan(45);
        expect(v.soil).toBeGreaterThan(10);
        expect(v.soil).toBeLessThan(45);
        expect(Number.isInteger(v.rssi)).toBe(true);
        expect(v.rssi).toBeLessThanOrEqual(-30);
        expect(v.rssi).toBeGreaterThanOrEqual(-95);
      }
    }
  });

  it('the RSSI alone (what a heartbeat asks for each beat) is the site\'s RSSI, without making the site', () => {
    const env = new Environment({ seed: 77, utcOffsetMinutes: 0 });
    for (let index = 0; index < 50; index++) {
      for (const t of [0, 61_000, 3_600_000, 86_399_000]) expect(env.rssi(index, 1_700_000_000_000 + t)).toBe(env.site(index).values(1_700_000_000_000 + t).rssi);
    }
  });
});

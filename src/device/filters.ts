// Per-reading filters of the telemetry loop, applied in this order:
//   median (of the last N samples) -> average (moving, over N) -> round (decimals)
// then the publish decision: without `delta` every sample is due; with it, a value is due when it
// moved at least `delta` since it was last published. `throttle` ms holds publishes back after the
// last one; `resend` ms forces a publish of an unchanged value, so consumers see it is alive.

export interface FilterOptions {
  median?: number;
  average?: number;
  decimals?: number;
  delta?: number;
  throttle?: number;
  resend?: number;
}

export class ReadingFilter {
  /** The last samples, for the median and the average: made only when those filters are on (no slot before). */
  private declare medianWindow: number[] | undefined;
  private declare averageWindow: number[] | undefined;
  private lastPublished: number | undefined = undefined;
  private lastPublishedAt = -Infinity;
  value: number | undefined = undefined;

  constructor(readonly options: FilterOptions = {}) {
    for (const key of ['median', 'average'] as const) {
      const n = options[key];
      if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 32)) throw new RangeError(`${key} window must be 1-32 samples, not ${n}`);
    }
  }

  /** Feeds a raw sample; returns the filtered value. */
  push(raw: number): number {
    let v = raw;
    const o = this.options;
    if (o.median && o.median > 1) v = median(slide((this.medianWindow ??= []), v, o.median));
    if (o.average && o.average > 1) {
      const w = slide((this.averageWindow ??= []), v, o.average);
      let sum = 0;
      for (const x of w) sum += x;
      v = sum / w.length;
    }
    if (o.decimals !== undefined) {
      const f = 10 ** o.decimals;
      v = Math.round(v * f) / f;
    }
    this.value = v;
    return v;
  }

  /** Whether the current value should be published at `now`. */
  due(now: number): boolean {
    const v = this.value;
    if (v === undefined) return false;
    const o = this.options;
    if (this.lastPublished === undefined) return true;
    if (o.throttle && now - this.lastPublishedAt < o.throttle) return false;
    if (o.resend && now - this.lastPublishedAt >= o.resend) return true;
    // without a delta every sample is published; with one, only a change of at least delta
    return o.delta === undefined || Math.abs(v - this.lastPublished) >= o.delta;
  }

  published(now: number): void {
    this.lastPublished = this.value;
    this.lastPublishedAt = now;
  }
}

const slide = (samples: number[], v: number, size: number): number[] => {
  samples.push(v);
  if (samples.length > size) samples.shift();
  return samples;
};

const median = (values: number[]): number => {
  const s = values.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

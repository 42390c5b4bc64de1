/** Exponential backoff with jitter: initial, 2x, 4x, ... capped at max, each scaled by 0.8..1.2. */
export class Backoff {
  // `source`: the platform's System (an object, so no closure is made for it)
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly source: { random(): number },
  ) {}

  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * Math.pow(2, Math.min(this.attempt, 20)));
    this.attempt++;
    return Math.round(base * (0.8 + 0.4 * this.source.random()));
  }

  reset(): void {
    this.attempt = 0;
  }
}

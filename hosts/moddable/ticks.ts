// Turns Moddable's Time.ticks into the Clock's monotonic milliseconds since start. On the chips
// Time.ticks counts milliseconds since boot in 32 bits, which XS hands over as a signed integer:
// the count is unwrapped past 2^31 ms (24.8 days) and 2^32 ms (49.7 days), so update() must run at
// least once per wrap period (the firmware's timers call now() far more often). The desktop build
// returns gettimeofday() instead, which is neither since boot nor monotonic: there the count starts
// at 0 and never steps back when the host's clock is set back.

const WRAP = 4_294_967_296;

export class TickCounter {
  private last: number | undefined;
  private total = 0;
  private wallClock = false;

  update(raw: number): number {
    if (this.last === undefined) {
      this.wallClock = raw >= WRAP || raw !== Math.floor(raw);
      this.total = this.wallClock ? 0 : raw < 0 ? raw + WRAP : raw;
    } else if (this.wallClock) {
      this.total += Math.max(0, raw - this.last);
    } else {
      this.total += (raw - this.last + WRAP) % WRAP;
    }
    this.last = raw;
    return this.total;
  }
}

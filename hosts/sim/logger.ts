// Logger port for the simulator: one line per entry, prefixed with the device id, filtered by
// level, as text or JSON lines.
import type { Logger, LogLevel } from '../../src/ports';

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export class LogLevelError extends Error {
  override name = 'LogLevelError';
  readonly code = 'ELOGLEVEL';
}

/** Parses a level name from a flag or env var; throws LogLevelError listing the valid ones. */
export function parseLogLevel(text: string): LogLevel {
  const level = text.trim().toLowerCase();
  if (level in rank) return level as LogLevel;
  throw new LogLevelError(`unknown log level "${text}": use one of ${Object.keys(rank).join(', ')}`);
}

export interface SimLoggerOptions {
  deviceId?: string;
  /** Entries below this level are dropped. Default info. */
  level?: LogLevel;
  /** One JSON object per line: {time, device, level, msg}. Default false (text). */
  json?: boolean;
  /** Where lines go (without the newline). Default: stdout. */
  write?: (line: string) => void;
  /** Wall time for the timestamp, or undefined for none (e.g. a Clock's wallTime). Default Date.now. */
  time?: () => number | undefined;
}

export class SimLogger implements Logger {
  private readonly write: (line: string) => void;
  private readonly time: () => number | undefined;
  private minimum: number;

  constructor(private readonly options: SimLoggerOptions = {}) {
    this.write = options.write ?? ((line) => process.stdout.write(line + '\n'));
    this.time = options.time ?? Date.now;
    this.minimum = rank[options.level ?? 'info'];
  }

  setLevel(level: LogLevel): void {
    this.minimum = rank[parseLogLevel(level)];
  }

  log(level: LogLevel, message: string): void {
    // An unknown level from firmware is shown rather than lost.
    if ((rank[level] ?? rank.error) < this.minimum) return;
    const t = this.time();
    const iso = t === undefined ? undefined : new Date(t).toISOString();
    const device = this.options.deviceId;
    if (this.options.json) {
      this.write(JSON.stringify({ time: iso, device, level, msg: message }));
      return;
    }
    const parts = [iso, device === undefined ? undefined : `[${device}]`, level.toUpperCase().padEnd(5), message];
    this.write(parts.filter((p) => p !== undefined).join(' '));
  }
}

// Logger port on trace(): the serial console on a device, stdout of mcsim on the desktop.
import type { Logger, LogLevel } from '../../src/ports';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export const createLogger = (minimum: LogLevel, clock: () => number): Logger => {
  const floor = RANK[minimum] ?? RANK.info;
  return {
    log(level, message) {
      if ((RANK[level] ?? RANK.error) < floor) return;
      trace(`${clock()} ${level} ${message}\n`);
    },
  };
};

export const isLogLevel = (value: unknown): value is LogLevel => {
  return value === 'debug' || value === 'info' || value === 'warn' || value === 'error';
};

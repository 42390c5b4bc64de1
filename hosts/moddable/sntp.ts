// Sets the wall clock from an SNTP server (Moddable's `sntp` module). TLS certificate checks and
// the Clock's wallTime() need it; the chips have no battery-backed clock.
import type { Logger } from '../../src/ports';
import SNTP from 'sntp';
import Time from 'time';
import { describe } from './errors';

export function startSntp(host: string, log: Logger): void {
  try {
    new SNTP({ host }, (message, value) => {
      if (message === SNTP.time && typeof value === 'number') {
        Time.set(value);
        log.log('info', `clock set from ${host}`);
      } else if (message === SNTP.error) {
        log.log('warn', `no time from SNTP server ${host}; wall time stays unknown`);
      }
    });
  } catch (error) {
    log.log('warn', `cannot ask SNTP server ${host}: ${describe(error)}`);
  }
}

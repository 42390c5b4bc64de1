// One measurement through the sensor contract, with the wait done by the Clock port: what the
// telemetry loop calls for every sensor alike.
import type { Clock } from '../ports';
import { SensorError } from './errors';
import type { Reading, Sensor } from './sensor';

export type MeasureCallback<R> = (error: SensorError | undefined, reading?: R) => void;

/** Starts a measurement, waits its conversion time on `clock`, then samples. Calls `done` once. */
export const measure = <R extends Reading>(sensor: Sensor<R>, clock: Pick<Clock, 'set'>, done: MeasureCallback<R>): void => {
  let wait: number;
  try {
    wait = sensor.start();
  } catch (error) {
    done(asSensorError(error));
    return;
  }
  const finish = () => {
    let reading: R;
    try {
      reading = sensor.sample();
    } catch (error) {
      done(asSensorError(error));
      return;
    }
    done(undefined, reading);
  };
  if (wait > 0) clock.set(finish, wait);
  else finish();
};

/** Wraps anything a driver or bus threw that is not yet a SensorError. */
export const asSensorError = (error: unknown): SensorError => {
  if (error instanceof SensorError) return error;
  return new SensorError('bus', `sensor bus failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
};

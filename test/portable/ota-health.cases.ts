// The health gate of a new image: which checks fail, and pass/fail timing within the window.
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { equal, ok, suite } from '../../hosts/xs/harness';
import { failingChecks, HealthGate, type HealthReading } from '../../src/ota/health';

const healthy: HealthReading = { wifi: true, mqtt: true, birthAcknowledged: true, sensorsSampled: true, freeMemory: 40000 };
const rules = { memoryFloor: 16384, requireSensors: true };

export default suite('ota health gate', (test) => {
  test('a healthy reading has no failing checks; each problem is named', () => {
    equal(failingChecks(healthy, rules), []);
    equal(failingChecks({ ...healthy, wifi: false }, rules), ['WiFi not connected']);
    equal(failingChecks({ ...healthy, mqtt: false, birthAcknowledged: false }, rules), ['MQTT not connected']);
    equal(failingChecks({ ...healthy, birthAcknowledged: false }, rules), ['birth message not acknowledged']);
    equal(failingChecks({ ...healthy, sensorsSampled: false }, rules), ['not every sensor sampled']);
    equal(failingChecks({ ...healthy, sensorsSampled: false }, { ...rules, requireSensors: false }), []);
    equal(failingChecks({ ...healthy, freeMemory: 16383 }, rules), ['free memory 16383 bytes, below the floor of 16384']);
    equal(failingChecks({ ...healthy, freeMemory: 16384 }, rules), []);
    equal(failingChecks({ ...healthy, freeMemory: NaN }, rules).length, 1);
  });

  test('passes at the first poll where every check holds', () => {
    const clock = new ManualClock();
    let reading = { ...healthy, mqtt: false };
    const events: string[] = [];
    const gate = new HealthGate({ ...rules, clock, window: 10000, poll: 500, probe: () => reading, onPass: () => events.push(`pass@${clock.now()}`), onFail: (r) => events.push(`fail ${r}`) });
    gate.start();
    clock.advance(2000);
    equal(events, []);
    reading = healthy;
    clock.advance(499);
    equal(events, []);
    clock.advance(1);
    equal(events, ['pass@2500']);
    ok(!gate.running, 'stopped');
    clock.advance(20000);
    equal(events.length, 1);
  });

  test('fails at the end of the window, listing what still fails', () => {
    const clock = new ManualClock();
    const events: string[] = [];
    const gate = new HealthGate({ ...rules, clock, window: 3000, poll: 1000, probe: () => ({ ...healthy, birthAcknowledged: false, freeMemory: 1000 }), onPass: () => events.push('pass'), onFail: (r) => events.push(`${clock.now()} ${r}`) });
    gate.start();
    clock.advance(2999);
    equal(events, []);
    clock.advance(1);
    equal(events, ['3000 health check not passed within 3 s: birth message not acknowledged, free memory 1000 bytes, below the floor of 16384']);
  });

  test('with a settle time the checks must hold without a break; a break starts the count again', () => {
    const clock = new ManualClock();
    let reading = healthy;
    const events: string[] = [];
    const gate = new HealthGate({ ...rules, clock, window: 10000, settle: 3000, poll: 500, probe: () => reading, onPass: () => events.push(`pass@${clock.now()}`), onFail: (r) => events.push(r) });
    gate.start();
    clock.advance(2000); // passing since the first poll at 500
    reading = { ...healthy, mqtt: false };
    clock.advance(500); // 2500: broken
    reading = healthy;
    clock.advance(500); // 3000: passing again from here
    clock.advance(2500);
    equal(events, []);
    clock.advance(500);
    equal(events, ['pass@6000']);
  });

  test('a window that ends during the settle time fails, saying how long the checks held', () => {
    const clock = new ManualClock();
    let reading = { ...healthy, mqtt: false };
    const events: string[] = [];
    const gate = new HealthGate({ ...rules, clock, window: 4000, settle: 3000, poll: 1000, probe: () => reading, onPass: () => events.push('pass'), onFail: (r) => events.push(r) });
    gate.start();
    clock.advance(2000);
    reading = healthy;
    clock.advance(2000);
    equal(events, ['health check not passed within 4 s: the checks held for only 1 s of the 3 s required']);
  });

  test('stop() ends the gate without a verdict', () => {
    const clock = new ManualClock();
    let verdicts = 0;
    const gate = new HealthGate({ ...rules, clock, window: 1000, poll: 100, probe: () => ({ ...healthy, mqtt: false }), onPass: () => verdicts++, onFail: () => verdicts++ });
    gate.start();
    gate.stop();
    clock.advance(5000);
    equal(verdicts, 0);
  });
});

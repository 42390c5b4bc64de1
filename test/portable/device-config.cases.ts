// Configuration all or nothing, with a last known good: the schema takes its own keys only, a change is
// written in one step that a power cut cannot split (the journal), and stored broker settings that the
// broker never accepts are rolled back and reported once the device is back. The whole firmware runs
// (main()) on a scripted broker, so these are the paths a device takes.
import { GOOD_KEY, ROLLBACK_KEY, TRIAL_MAX_ATTEMPTS, TRIAL_MAX_MS } from '../../src/device/broker-trial';
import { Config, ConfigError } from '../../src/device/config';
import { COMMIT_KEY, STAGE_PREFIX } from '../../src/device/config-journal';
import { applyExtraSettings } from '../../src/device/wifi-setup';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { boot, DEVICE_ID, type Rig } from './device-rig';
import { equal, ok, suite, throws } from '../../hosts/xs/harness';

const base = `nodemcu/${DEVICE_ID}`;
const built = { brokerHost: '10.0.0.2', brokerPort: 1883 };

function resultsOf(r: Rig, command: string): Record<string, unknown>[] {
  return r.published()
    .filter((p) => p.topic === `${base}/cmd/${command}/result`)
    .map((p) => JSON.parse(p.payload) as Record<string, unknown>);
}

/** Boots, connects to the scripted broker, and returns the rig. */
function online(store: MemoryStore, config: Record<string, unknown> = built): Rig {
  const r = boot(store, { config });
  r.accept();
  ok(r.device.client.connected, 'connected');
  return r;
}

/** Fails every connection attempt until the device restarts or `most` attempts were made. */
function refuseAll(r: Rig, most: number): number {
  let attempts = 0;
  while (!r.restarts.length && attempts < most) {
    r.refuse();
    attempts++;
    nextAttempt(r);
  }
  return attempts;
}

/** Runs the clock through the client's reconnect backoff, until it opens its next connection. */
function nextAttempt(r: Rig): void {
  const sockets = r.network.sockets.length;
  for (let ms = 0; ms < 70_000 && r.network.sockets.length === sockets && !r.restarts.length; ms += 100) r.clock.advance(100);
}

const pick = (values: Record<string, unknown>, keys: string[]) => keys.map((k) => values[k]);

export default suite('device configuration', (test) => {
  // ---- the schema --------------------------------------------------------------------------------

  test('the issue\'s request (an inherited name among valid ones) changes nothing and names the key', () => {
    const store = new MemoryStore();
    const r = online(store);
    const before = store.keys().slice().sort();
    r.deliver(`${base}/cmd/set-config`, '{"id":"q1","args":{"heartbeatInterval":33,"brokerPort":1,"toString":"x"}}');
    r.clock.advance(0); // set-config runs on a fresh stack, from a timer
    const reply = resultsOf(r, 'set-config').pop()!;
    equal([reply.id, reply.status], ['q1', 'error']);
    ok(String(reply.error).indexOf('"toString" is not a setting') === 0, String(reply.error));
    equal(store.keys().slice().sort(), before, 'nothing written');
    equal([r.device.values.heartbeatInterval, r.device.values.brokerPort], [60, 1883]);
    const after = boot(store.powerOn(), { config: built });
    equal([after.device.values.heartbeatInterval, after.device.values.brokerPort], [60, 1883], 'nothing after a restart either');
  });

  test('every name an object inherits is refused with an error that names it; nothing is written', () => {
    for (const name of ['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf', 'isPrototypeOf']) {
      const store = new MemoryStore();
      const c = new Config(store);
      const changes = JSON.parse(`{"heartbeatInterval":33,"${name}":"x","brokerPort":1}`) as Record<string, unknown>;
      throws(() => c.set(changes), ConfigError, `"${name}" is not a setting`);
      equal(store.keys(), [], name);
      equal([c.values.heartbeatInterval, c.values.brokerPort], [60, 1883], name);
    }
    throws(() => new Config(new MemoryStore()).set({ colour: 'red' }), ConfigError, 'unknown setting "colour"');
  });

  // ---- all or nothing, across power cuts -----------------------------------------------------------

  test('set(): a power cut at any write, and another in the next boot\'s recovery, leaves all old or all new values', () => {
    const keys = ['brokerHost', 'brokerPort', 'brokerTls', 'heartbeatInterval', 'name'];
    const before: Record<string, unknown> = { brokerHost: 'old.example', brokerPort: 1883, brokerTls: false, heartbeatInterval: 60, name: 'attic' };
    // a 63-character host: over one ESP8266 Preference entry, so the host splits its writes
    const after: Record<string, unknown> = { brokerHost: 'h'.repeat(63), brokerPort: 8883, brokerTls: true, heartbeatInterval: 15, name: 'cellar' };
    const seen = { old: 0, new: 0, cuts: 0 };
    for (let n = 1; n < 100; n++) {
      const store = new MemoryStore();
      new Config(store).set(before);
      store.powerOn().cutAt = n;
      try {
        new Config(store).set(after);
      } catch (error) {
        if (!store.cut) throw error;
      }
      const cut = store.cut;
      // the next boot finishes or discards the change; its power may go at any of its own writes too
      for (let m = 1; m < 100; m++) {
        const next = store.copy();
        next.cutAt = m;
        new Config(next); // a cut inside recovery is caught there and logged; the power is gone anyway
        const cutAgain = next.cut;
        const values = new Config(next.powerOn()).values as unknown as Record<string, unknown>;
        const got = pick(values, keys);
        const isOld = JSON.stringify(got) === JSON.stringify(pick(before, keys));
        const isNew = JSON.stringify(got) === JSON.stringify(pick(after, keys));
        ok(isOld || isNew, `cut at write ${n}, then at ${m} in recovery: a mix ${JSON.stringify(got)}`);
        equal(next.keys().filter((k) => k.indexOf(STAGE_PREFIX) === 0), [], 'no staged entries or commit mark left');
        if (!cutAgain) break;
      }
      if (isOldAfter(store, keys, before)) seen.old++;
      else seen.new++;
      if (!cut) break;
      seen.cuts++;
    }
    ok(seen.cuts >= 2 * keys.length + 1, `a cut was tried at every write (${seen.cuts})`);
    ok(seen.old > 0 && seen.new > 0, `early cuts keep the old values, late ones the new (${JSON.stringify(seen)})`);
  });

  test('a change cut short before its commit mark is discarded at boot; after it, completed (and logged)', () => {
    const staged = new MemoryStore();
    staged.set(`${STAGE_PREFIX}c.hb`, '15');
    let r = boot(staged, { config: built });
    equal([r.device.values.heartbeatInterval, staged.get(`${STAGE_PREFIX}c.hb`)], [60, undefined]);
    ok(r.logs.some((l) => l.indexOf('cut short by a restart was discarded') >= 0));
    const committed = new MemoryStore();
    committed.set(`${STAGE_PREFIX}c.hb`, '15');
    committed.set(`${STAGE_PREFIX}c.ka`, '45');
    committed.set(COMMIT_KEY, '1');
    r = boot(committed, { config: built });
    equal([r.device.values.heartbeatInterval, r.device.values.keepAlive], [15, 45]);
    equal(committed.keys().slice().sort(), ['boot', 'c.hb', 'c.ka']);
    ok(r.logs.some((l) => l.indexOf('cut short by a restart was completed') >= 0));
  });

  // ---- broker settings on trial ------------------------------------------------------------------------

  test('the broker that accepts the device is kept as the last known good', () => {
    const store = new MemoryStore();
    online(store);
    equal(JSON.parse(store.get(GOOD_KEY) as string), ['10.0.0.2', 1883, false, '', '']);
  });

  test('a new broker that refuses every attempt is rolled back after the attempt bound and reported once the device is back', () => {
    const store = new MemoryStore();
    let r = online(store);
    r.deliver(`${base}/cmd/set-config`, '{"id":"s1","args":{"brokerPort":1,"heartbeatInterval":30}}');
    r.clock.advance(0);
    equal(resultsOf(r, 'set-config').pop(), { id: 's1', status: 'ok', result: { changed: ['brokerPort', 'heartbeatInterval'], restartRequired: ['brokerPort'] } });
    // the restart: the new broker is tried
    r = boot(store.powerOn(), { config: built });
    equal(r.network.last.options.port, 1);
    equal(refuseAll(r, 10), TRIAL_MAX_ATTEMPTS);
    equal(r.restarts, ['broker settings rolled back']);
    equal(r.network.sockets.map((s) => s.options.port), [1, 1, 1]);
    equal([store.get('c.bport'), store.get('c.hb')], ['1883', '30'], 'only the broker settings go back');
    ok(r.logs.some((l) => l.indexOf('warn config: broker 10.0.0.2:1 did not accept the device (3 connection attempts failed') === 0), 'logged');
    // back on the last known good: the operator is told
    r = boot(store.powerOn(), { config: built });
    equal(r.network.last.options.port, 1883);
    r.accept();
    const notice = resultsOf(r, 'set-config').pop()!;
    equal([notice.id, notice.status], [null, 'error']);
    equal(notice.rolledBack, { from: '10.0.0.2:1', to: '10.0.0.2:1883', keys: ['brokerPort'], reason: '3 connection attempts failed, the last: connection to 10.0.0.2: connection refused' });
    ok(String(notice.error).indexOf('broker settings rolled back: 10.0.0.2:1 did not accept the device') === 0, String(notice.error));
    r.run(30_000);
    equal(r.heartbeat().config, { rolledBack: notice.rolledBack });
    ok(r.logs.some((l) => l.indexOf('warn config: broker settings rolled back') === 0));
    ok(store.get(ROLLBACK_KEY) !== undefined, 'kept until the broker has the notice');
    r.ackAll();
    equal(store.get(ROLLBACK_KEY), undefined);
    // the next boot says nothing more
    r = online(store.powerOn());
    equal(resultsOf(r, 'set-config'), []);
    r.run(30_000);
    equal(r.heartbeat().config, undefined);
  });

  test('a new broker that never answers is rolled back after the time bound', () => {
    const store = new MemoryStore();
    online(store);
    new Config(store).set({ brokerHost: '10.9.9.9' });
    const r = boot(store.powerOn(), { config: built, client: { connectTimeout: 10 * TRIAL_MAX_MS } });
    r.clock.advance(TRIAL_MAX_MS - 1);
    equal([r.restarts, r.network.sockets.length], [[], 1], 'still on trial, one attempt hanging');
    r.clock.advance(1);
    equal(r.restarts, ['broker settings rolled back']);
    equal(store.get('c.bhost'), '10.0.0.2');
    equal(JSON.parse(store.get(ROLLBACK_KEY) as string).reason, `no connection accepted within ${TRIAL_MAX_MS / 1000} s`);
  });

  test('a new broker that accepts within the trial becomes the last known good; no rollback later', () => {
    const store = new MemoryStore();
    online(store);
    new Config(store).set({ brokerPort: 8883, brokerUser: 'dev1', brokerPassword: 'pw' });
    const r = boot(store.powerOn(), { config: built });
    r.refuse();
    nextAttempt(r);
    r.accept();
    r.run(TRIAL_MAX_MS * 2);
    equal(r.restarts, []);
    equal(JSON.parse(store.get(GOOD_KEY) as string), ['10.0.0.2', 8883, false, 'dev1', 'pw']);
    ok(r.logs.some((l) => l.indexOf('config: broker 10.0.0.2:8883 accepted the device') >= 0));
  });

  test('an unusable last known good is reset and reported, never used for a rollback', () => {
    const store = new MemoryStore();
    online(store);
    new Config(store).set({ brokerPort: 1 });
    store.set(GOOD_KEY, '["10.0.0.2",99999,false,"",""]');
    let r = boot(store.powerOn(), { config: built });
    equal(refuseAll(r, 5), 5);
    equal(r.restarts, []);
    ok(r.logs.some((l) => l.indexOf(`storage: "${GOOD_KEY}" is unreadable (not the last known good broker settings: brokerPort must be between 1 and 65535`) >= 0));
    equal(store.get(GOOD_KEY), undefined);
    store.set(GOOD_KEY, 'garbage');
    r = boot(store.powerOn(), { config: built });
    r.run(1000);
    equal((r.device.heartbeat().storage as { reset: string[] }).reset, [GOOD_KEY]);
  });

  test('without a last known good (never connected) and for build-time settings there is no trial', () => {
    const fresh = new MemoryStore();
    new Config(fresh).set({ brokerPort: 1 });
    let r = boot(fresh, { config: built });
    equal(refuseAll(r, 6), 6);
    equal(r.restarts, [], 'nothing to go back to: it keeps trying');
    const store = new MemoryStore();
    online(store);
    r = boot(store.powerOn(), { config: { ...built, brokerPort: 1884 } });
    equal(refuseAll(r, 6), 6);
    equal(r.restarts, [], 'a build-time broker is the builder\'s choice');
  });

  test('a broker entered on the set-up page is on trial the same way', () => {
    const store = new MemoryStore();
    let r = online(store);
    ok(applyExtraSettings(r.device, { brokerUrl: 'mqtts://broker.invalid:8884', brokerUser: 'me', brokerPassword: 'pw' }), 'a restart is needed');
    r = boot(store.powerOn(), { config: built });
    equal([r.network.last.options.host, r.network.last.options.port], ['broker.invalid', 8884]);
    equal(refuseAll(r, 10), TRIAL_MAX_ATTEMPTS);
    r = online(store.powerOn());
    equal(r.network.last.options.port, 1883);
    equal((resultsOf(r, 'set-config').pop()!.rolledBack as Record<string, unknown>).keys, ['brokerHost', 'brokerPort', 'brokerTls', 'brokerUser', 'brokerPassword']);
    equal(JSON.stringify(resultsOf(r, 'set-config')).indexOf('pw'), -1, 'no secret in the notice');
  });
});

function isOldAfter(store: MemoryStore, keys: string[], before: Record<string, unknown>): boolean {
  const values = new Config(store.copy().powerOn()).values as unknown as Record<string, unknown>;
  return JSON.stringify(pick(values, keys)) === JSON.stringify(pick(before, keys));
}

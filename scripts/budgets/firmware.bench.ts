// Runs inside XS: the whole firmware (firmware.entry.ts) booted on the bench platform
// (firmware-platform.ts), for the firmware budgets of scripts/budgets/firmware.ts. The phases are
// benchmarks whose setup does the work, so Node can take the heap between them:
//   platform  the fakes only (the baseline)
//   boot      main(), then 1 s: connected, subscribed, birth acknowledged, first sample published
//   steady    1,000 telemetry intervals of 30 s (QoS 1, acknowledged), a heartbeat every 60 s, and a
//             ping command every 10th interval, answered
// and two measured operations on the running device: one telemetry cycle (the sampling timer fires,
// conversion, publish, PUBACK) and one ping command (request in, reply out, both acknowledged).
import type { Device } from '../../src/device/device';
import { serveBenchmarks } from '../../hosts/xs/in-xs/bench';
import { startFirmware } from './firmware.entry';
import { DEVICE_ID, benchPlatform, type BenchPlatform } from './firmware-platform';

export const STEADY_INTERVALS = 1000;
const PING_EVERY = 10;
/** The telemetryInterval and heartbeatInterval defaults (src/device/config.ts), ms. */
const TELEMETRY_MS = 30_000;
const HEARTBEAT_MS = 60_000;
const BOOT_MS = 1000;

const encoder = new TextEncoder();
const pingTopic = encoder.encode(`nodemcu/${DEVICE_ID}/cmd/ping`);
const pingRequest = encoder.encode('{"id":"bench"}');

let fx: BenchPlatform | undefined;
let device: Device | undefined;
let steady = false;

function bench(): BenchPlatform {
  fx ??= benchPlatform();
  return fx;
}

function booted(): Device {
  if (device) return device;
  const f = bench();
  device = startFirmware(f.platform);
  f.clock.advance(BOOT_MS);
  const d = device;
  check(d.client.connected && f.broker.connected, `not connected ${BOOT_MS} ms after boot`);
  check(d.presence.birthAcknowledged, 'the birth ("online") was not acknowledged');
  check(f.broker.counts.subscribes > 0, 'the device did not subscribe');
  check(d.telemetry.statuses().climate?.samples === 1, 'the BME280 was not sampled at boot');
  settled(d);
  return d;
}

function steadyState(): Device {
  const d = booted();
  if (steady) return d;
  const f = bench();
  const before = { ...f.broker.counts, qos: f.broker.counts.qos.slice() };
  for (let i = 1; i <= STEADY_INTERVALS; i++) {
    if (i % PING_EVERY === 0) f.broker.send(pingTopic, pingRequest);
    f.clock.advance(TELEMETRY_MS);
  }
  const c = f.broker.counts;
  const pings = STEADY_INTERVALS / PING_EVERY;
  // QoS 1: every telemetry message and every command reply; QoS 0: the heartbeats
  check(c.qos[1] - before.qos[1] === STEADY_INTERVALS + pings, `${c.qos[1] - before.qos[1]} QoS 1 publishes, expected ${STEADY_INTERVALS} telemetry + ${pings} replies`);
  check(c.qos[0] - before.qos[0] === (STEADY_INTERVALS * TELEMETRY_MS) / HEARTBEAT_MS, `${c.qos[0] - before.qos[0]} heartbeats`);
  check(c.deviceAcks - before.deviceAcks === pings, `${c.deviceAcks - before.deviceAcks} of ${pings} ping commands acknowledged`);
  check(d.telemetry.statuses().climate?.samples === STEADY_INTERVALS + 1, 'the BME280 was not sampled at every interval');
  check(d.client.stats.reconnects === 0 && c.connects === 1, 'the device reconnected');
  settled(d);
  steady = true;
  return d;
}

/** Nothing queued or unacknowledged, nothing logged above info, no restart. */
function settled(d: Device): void {
  const f = bench();
  const o = d.client.outboxState;
  check(o.depth === 0 && o.inflight === 0, `${o.depth} messages queued, ${o.inflight} unacknowledged`);
  check(f.log.counts.warn + f.log.counts.error === 0, `the firmware logged ${f.log.lastProblem}`);
  check(f.restarts.length === 0, `the firmware asked for a restart: ${f.restarts.join(', ')}`);
}

function check(ok: boolean, problem: string): void {
  if (!ok) throw new Error(`firmware bench: ${problem}`);
}

serveBenchmarks({
  platform: {
    setup: () => void bench(),
    run() {},
  },
  boot: {
    setup: () => void booted(),
    run() {},
  },
  steady: {
    setup: () => void steadyState(),
    run() {},
  },
  'telemetry-cycle': {
    setup: () => void steadyState(),
    run() {
      const clock = fx!.clock;
      clock.fireRepeating(TELEMETRY_MS);
      clock.settle();
    },
  },
  'command-ping': {
    setup: () => void steadyState(),
    run() {
      fx!.broker.send(pingTopic, pingRequest);
      fx!.clock.settle();
    },
  },
  /** Throws unless the device is still connected with nothing pending (after the measured runs). */
  settled: {
    run() {
      check(!!device?.client.connected, 'the device is not connected');
      settled(device!);
    },
  },
});

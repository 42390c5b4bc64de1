// Runs inside the 32-bit XS worker (scripts/xs32): the whole firmware (firmware.entry.ts) on the bench
// platform (firmware-platform.ts) with its ports probed (stack-probe.ts), driven through the
// operations whose stack depth scripts/budgets/stack.ts budgets. Each command runs one operation to
// its end (every timer it starts that falls due within a few seconds) and answers with the most slots
// a host-to-firmware call used meanwhile. The operations run in the order Node sends them, each on the
// device the previous ones left.
//
// The key-value store is the ESP8266 build's own adapter (hosts/moddable/kv-chunks.ts with its ESP8266
// limits) over a shallow stand-in for the native Preference module, and the logger has the shape of
// hosts/moddable/logger.ts, so their depth below a port call is counted as on the device.
import type { Device } from '../../src/device/device';
import type { Logger, LogLevel } from '../../src/ports';
import { toArrayBuffer, xsnap } from '../../hosts/xs/in-xs/globals';
import { ChunkedPreferenceStore, ESP8266_LIMITS } from '../../hosts/moddable/kv-chunks';
import { memoryPreference } from './memory-preference';
import { startFirmware } from './firmware.entry';
import { DEVICE_ID, benchPlatform, type BenchPlatform } from './firmware-platform';
import { StackProbe, calibrate, probePlatform, type ProbedNetwork } from './stack-probe';

/** A signed OTA job for the bench's key, made in Node (stack.ts) and set at bundle time. */
declare const OTA_JOB: string;

const TELEMETRY_MS = 30_000;
const BOOT_MS = 1000;
/** Longest the client waits before reconnecting after a lost connection (reconnect.maxDelay is far longer; the first retry comes within minDelay). */
const RECONNECT_MS = 5000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Scenario {
  f: BenchPlatform;
  network: ProbedNetwork;
  probe: StackProbe;
  device?: Device;
}

let scenario: Scenario | undefined;

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * A logger of hosts/moddable/logger.ts's shape (a level check, the clock, one native trace() call per
 * line; that module itself needs Moddable's global trace()), counting into the bench's logger.
 */
function deviceLogger(clock: () => number, counting: Logger): Logger {
  const trace = (level: LogLevel, line: string) => counting.log(level, line);
  return {
    log(level, message) {
      if (RANK[level] < RANK.info) return;
      trace(level, `${clock()} ${level} ${message}\n`);
    },
  };
}

function setup(): Scenario {
  const xs = xsnap().xs32;
  if (!xs) throw new Error('firmware stack bench: the global xs32 is missing; run this bench in the 32-bit worker (scripts/xs32)');
  const f = benchPlatform();
  const probe = new StackProbe(xs);
  calibrate(probe);
  const probed = probePlatform(f.platform, probe);
  f.platform = {
    ...probed,
    storage: new ChunkedPreferenceStore(memoryPreference(), 'fw', ESP8266_LIMITS, { encode: (t) => encoder.encode(t), decode: (b) => decoder.decode(b) }),
    log: deviceLogger(() => probed.clock.now(), f.log),
  };
  return { f, network: probed.network, probe };
}

function device(): Device {
  const d = scenario?.device;
  if (!d) throw new Error('firmware stack bench: boot first');
  return d;
}

function command(name: string, request: Record<string, unknown>): void {
  scenario!.f.broker.send(encoder.encode(`nodemcu/${DEVICE_ID}/cmd/${name}`), encoder.encode(JSON.stringify(request)));
  scenario!.f.clock.settle();
}

function check(ok: boolean, problem: string): void {
  if (!ok) throw new Error(`firmware stack bench: ${problem}`);
}

/** Connected, nothing unacknowledged, no restart asked for, and no more warnings than `expected`. */
function settled(problemsBefore: number, expected: number): void {
  const { f } = scenario!;
  const o = device().client.outboxState;
  check(device().client.connected, 'the device is not connected');
  check(o.depth === 0 && o.inflight === 0, `${o.depth} messages queued, ${o.inflight} unacknowledged`);
  const problems = f.log.counts.warn + f.log.counts.error - problemsBefore;
  check(problems <= expected, `the firmware logged ${f.log.lastProblem}`);
  check(f.restarts.length === 0, `the firmware asked for a restart: ${f.restarts.join(', ')}`);
}

/** Warnings an operation is expected to log: the lost connection. */
const EXPECTED_WARNINGS: Record<string, number> = { reconnect: 1 };

const operations: Record<string, () => void> = {
  /** main(), then 1 s: connected, subscribed, birth acknowledged, discovery and the first sample published. */
  boot() {
    const s = scenario!;
    // as hosts/moddable/boot.ts starts the firmware: from a timer, inside a try
    s.f.platform.clock.set(() => {
      try {
        s.device = startFirmware(s.f.platform);
      } catch (error) {
        s.f.log.log('error', `the firmware failed to start: ${String(error)}`);
      }
    }, 0);
    s.f.clock.advance(BOOT_MS);
    check(device().presence.birthAcknowledged, 'the birth was not acknowledged');
  },
  /** The sampling timer, the BME280 conversion and read, the QoS 1 publish and its PUBACK. */
  'telemetry-cycle'() {
    const { clock } = scenario!.f;
    clock.fireRepeating(TELEMETRY_MS);
    clock.settle();
  },
  'command-ping'() {
    command('ping', { id: 'bench' });
  },
  'get-config'() {
    command('get-config', { id: 'bench' });
  },
  /** A live setting: the heartbeat timer is set again. */
  'set-config-heartbeat'() {
    command('set-config', { id: 'bench', args: { heartbeatInterval: 120 } });
    check(device().values.heartbeatInterval === 120, 'heartbeatInterval was not set');
  },
  /** Broker settings: several keys through the journal, a restart required (not made). */
  'set-config-broker'() {
    command('set-config', { id: 'bench', args: { brokerHost: '10.0.0.2', brokerPort: 1884, brokerUser: 'device', brokerPassword: 'secret' } });
    check(device().values.brokerHost === '10.0.0.2', 'brokerHost was not set');
  },
  /** A signed job: signature check, then "unsupported" (the bench platform has no update port, as the ESP8266). */
  'ota-job'() {
    scenario!.f.broker.send(encoder.encode(`nodemcu/${DEVICE_ID}/ota/job`), encoder.encode(OTA_JOB));
    scenario!.f.clock.settle();
  },
  /** The broker drops the connection; the client reconnects, is accepted, and sends its birth again. */
  reconnect() {
    const s = scenario!;
    const connects = s.f.broker.counts.connects;
    s.network.dropConnection();
    s.f.clock.advance(RECONNECT_MS);
    check(s.f.broker.counts.connects === connects + 1, 'the device did not reconnect');
  },
};

xsnap().handleCommand = (request) => {
  const { op, trace } = JSON.parse(decoder.decode(request)) as { op: string; trace?: boolean };
  const run = operations[op];
  if (!run) throw new Error(`firmware stack bench: no operation "${op}" (have ${Object.keys(operations).join(', ')})`);
  scenario ??= setup();
  const { probe, f } = scenario;
  const problems = f.log.counts.warn + f.log.counts.error;
  probe.reset();
  probe.tracing = !!trace;
  run();
  settled(problems, EXPECTED_WARNINGS[op] ?? 0);
  return toArrayBuffer(encoder.encode(JSON.stringify({ peak: probe.peak, entries: probe.entries, extra: probe.extra, trace: probe.trace })));
};

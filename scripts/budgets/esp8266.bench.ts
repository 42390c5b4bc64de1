// Runs inside the 32-bit XS worker: the whole firmware as the ESP8266 build runs it, driven through a
// device's first weeks on the esp8266 platform (esp8266-platform.ts), one phase per command from the
// Node side (esp8266.ts), which takes the heap between phases:
//   setup      the fakes (radio, broker, phone, serial port, BME280, flash), before the mark
//   boot       first boot, no stored network: access point, captive DNS and portal up
//   improv     an Improv client on the serial port: state, device info, scan, Wi-Fi settings with a
//              wrong password (refused after the attempt)
//   portal     a phone joins the access point: a DNS query, the OS probe, the page, the form posted
//              with the right password and a device name, the page again ("Connected")
//   join       SNTP time, MQTT connect, birth, discovery; the access point closes once unused
//   telemetry  1,000 telemetry intervals with the BME280 (QoS 1), heartbeats
//   commands   100 commands: ping, get-config, set-config in turn
//   outages    20 broker outages, each until the (persisted) outbox is full and drops, then back
//   burst      30 messages in one read: 20 ping commands and 10 Home Assistant "online" births
//   ota        a signed OTA job, answered "unsupported" by the ESP8266's update port
//   end        ten more minutes; connected, nothing queued
// Each phase checks what it did and throws with the reason when it did not. xsnap runs promise jobs
// when a delivery ends (a device: when a callback returns), so a phase that must see one settle
// answers {next: <step>}, and Node runs that step as the next delivery of the same phase.
import type { Device } from '../../src/device/device';
import { Command, encodePacket, PacketType, ImprovError, ImprovState } from '../../src/improv/packet';
import { toArrayBuffer, xsnap } from '../../hosts/xs/in-xs/globals';
import { startFirmware } from './firmware.entry';
import { DEVICE_ID, HOME, esp8266Fakes, esp8266Platform, sntp, type Esp8266Fakes, type Esp8266Rig } from './esp8266-platform';
import { probeDevicePlatform, stackProbe } from './esp8266-probe';
import type { StackProbe } from './stack-probe';

/** The ESP8266 build's mc/config with the board this scenario has (esp8266.ts sets it at bundle time). */
declare const ESP8266_BUILD: Record<string, unknown>;
/** A signed OTA job for the device's key (made in Node: esp8266.ts). */
declare const OTA_JOB: string;
/** Whether the calls from the host into the firmware are measured on the XS stack (esp8266.ts's stack run). */
declare const STACK_PROBE: boolean;
/** With the probe: keep the frames at each step's deepest point (esp8266.ts --trace). */
declare const STACK_TRACE: boolean;

export const TELEMETRY_INTERVALS = 1000;
export const COMMANDS = 100;
export const OUTAGES = 20;
const TELEMETRY_MS = 30_000;
const BURST_COMMANDS = 20;
const BURST_BIRTHS = 10;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

let fakes: Esp8266Fakes | undefined;
let rig: Esp8266Rig | undefined;
let device: Device | undefined;
let improvResults = 0;
let probe: StackProbe | undefined;

function check(ok: boolean, problem: string): void {
  if (!ok) throw new Error(`esp8266 scenario: ${problem}`);
}

function dev(): Device {
  check(!!device, 'the firmware did not start');
  return device!;
}

/** What the Improv client saw from the device since the last call. */
const improv = { states: 0, lastState: -1, errors: 0, lastError: -1, results: 0, scanResults: 0 };

function onSerial(bytes: Uint8Array): void {
  // the device writes whole packets ("IMPROV", version, type, length, data, checksum), then a newline
  if (bytes.length < 10 || bytes[0] !== 0x49) return;
  const type = bytes[7];
  if (type === PacketType.currentState) {
    improv.states++;
    improv.lastState = bytes[9]!;
  } else if (type === PacketType.errorState) {
    improv.errors++;
    improv.lastError = bytes[9]!;
  } else if (type === PacketType.rpcResult) {
    improv.results++;
    if (bytes[9] === Command.scan && bytes[10]! > 0) improv.scanResults++;
  }
}

function rpc(command: number, strings: string[] = []): void {
  const parts = strings.map((s) => encoder.encode(s));
  let length = 0;
  for (const p of parts) length += 1 + p.length;
  const data = new Uint8Array(2 + length);
  data[0] = command;
  data[1] = length;
  let at = 2;
  for (const p of parts) {
    data[at++] = p.length;
    data.set(p, at);
    at += p.length;
  }
  rig!.serial.send(encodePacket(PacketType.rpc, data));
}

/** A DNS query for `name`, type A, as a phone sends it. */
function dnsQuery(name: string, id: number): Uint8Array {
  const labels = name.split('.');
  let length = 12 + 5;
  for (const l of labels) length += 1 + l.length;
  const q = new Uint8Array(length);
  q[0] = id >> 8;
  q[1] = id & 0xff;
  q[2] = 0x01; // recursion desired
  q[5] = 1; // one question
  let at = 12;
  for (const l of labels) {
    q[at++] = l.length;
    for (let i = 0; i < l.length; i++) q[at++] = l.charCodeAt(i);
  }
  at++; // root
  q[at + 1] = 1; // type A
  q[at + 3] = 1; // class IN
  return q;
}

const PHONE_HEADERS =
  'Host: 192.168.4.1\r\n' +
  'Connection: keep-alive\r\n' +
  'Upgrade-Insecure-Requests: 1\r\n' +
  'User-Agent: Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36\r\n' +
  'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n' +
  'Accept-Encoding: gzip, deflate\r\n' +
  'Accept-Language: en-GB,en;q=0.9\r\n';

function get(path: string): string {
  return `GET ${path} HTTP/1.1\r\n${PHONE_HEADERS}\r\n`;
}

function post(path: string, form: string): string {
  return `POST ${path} HTTP/1.1\r\n${PHONE_HEADERS}Origin: http://192.168.4.1\r\nReferer: http://192.168.4.1/\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n${form}`;
}

function command(name: string, request: string): void {
  rig!.broker.send(encoder.encode(`nodemcu/${DEVICE_ID}/cmd/${name}`), encoder.encode(request));
}

/** Connected, with nothing queued or unacknowledged. */
function settled(what: string): void {
  const d = dev();
  const o = d.client.outboxState;
  check(d.client.connected && rig!.broker.connected, `${what}: not connected`);
  check(o.depth === 0 && o.inflight === 0, `${what}: ${o.depth} messages held, ${o.inflight} unacknowledged`);
  check(rig!.system.restarts.length === 0, `${what}: the firmware asked for a restart: ${rig!.system.restarts.join(', ')}`);
  // the radio keeps a record of every connect(): the fake's, not the device's
  rig!.radio.connects.length = 0;
}

const phases: Record<string, () => Record<string, unknown>> = {
  setup() {
    fakes = esp8266Fakes(STACK_PROBE);
    fakes.serial.onDevice = onSerial;
    return {};
  },

  boot() {
    const r = (rig = esp8266Platform(fakes!, ESP8266_BUILD));
    if (STACK_PROBE) {
      r.platform = probeDevicePlatform(r.platform, (probe = stackProbe()));
      probe.tracing = STACK_TRACE;
    }
    // as hosts/moddable/boot.ts starts the firmware: from a timer, on a fresh stack
    r.clock.set(() => {
      device = startFirmware(r.platform);
    }, 0);
    r.clock.advance(2000);
    const d = dev();
    check(d.provisioning?.state === 'ap', `provisioning is "${d.provisioning?.state}", not "ap", with no stored network`);
    check(!!r.radio.accessPoint, 'the access point is not up');
    check(r.network.dns.listening, 'the captive DNS server is not listening');
    check(r.network.lan.listeners.length === 1, 'the portal web server is not listening');
    check(!d.client.connected, 'MQTT connected before Wi-Fi');
    return { ap: r.radio.accessPoint!.ssid };
  },

  improv() {
    const r = rig!;
    rpc(Command.currentState);
    check(improv.lastState === ImprovState.ready, `Improv state ${improv.lastState}, not ready`);
    rpc(Command.deviceInfo);
    rpc(Command.scan);
    r.clock.advance(1000);
    check(improv.scanResults >= 3, `${improv.scanResults} networks in the Improv scan, expected the 3 around`);
    const results = improv.results;
    rpc(Command.wifiSettings, [HOME.ssid, 'wrong password']);
    check(improv.lastState === ImprovState.provisioning, 'Improv did not report "provisioning" while trying the settings');
    r.clock.advance(3000);
    improvResults = results;
    // the failure reaches Improv through a promise: its job runs once this delivery ends, as on a device once the timer's callback returns
    return { next: 'improv-result' };
  },

  'improv-result'() {
    check(improv.lastError === ImprovError.unableToConnect, `Improv error ${improv.lastError}, not "unable to connect", after a wrong password`);
    check(improv.results === improvResults, 'Improv sent a result for settings that did not work');
    check(dev().provisioning?.state === 'ap', 'the access point closed after a failed Improv attempt');
    return { improvResults: improv.results };
  },

  portal() {
    const r = rig!;
    const phone = r.phone;
    r.radio.stationJoins();
    r.clock.advance(10);
    const dns = r.network.dns;
    dns.query(dnsQuery('connectivitycheck.gstatic.com', 0x1234), phone.address, 53012);
    const a = dns.answer;
    check(!!a && a.length > 4 && a[a.length - 4] === 192 && a[a.length - 1] === 1, 'the captive DNS did not answer with the access point');
    dns.answer = undefined;
    const probe = phone.exchange(get('/generate_204'));
    check(probe.status === 302, `the OS probe got ${probe.head}, not a redirect`);
    return { next: 'portal-page' };
  },

  'portal-page'() {
    const page = rig!.phone.exchange(get('/'));
    check(page.status === 200 && page.bytes > 1000, `the page: ${page.head}, ${page.bytes} bytes`);
    return { next: 'portal-form', page: page.bytes };
  },

  'portal-form'() {
    const form = `s=${HOME.ssid}&p=${HOME.password.replace(/ /g, '+')}&n=greenhouse`;
    const posted = rig!.phone.exchange(post('/connect', form));
    check(posted.status === 303, `the form got ${posted.head}, not "303 See Other"`);
    return { next: 'portal-joined' };
  },

  'portal-joined'() {
    const r = rig!;
    r.clock.advance(1000);
    check(dev().provisioning?.state === 'connected', `provisioning is "${dev().provisioning?.state}" after the form`);
    const after = r.phone.exchange(get('/'));
    check(after.status === 200, `the page after the form: ${after.head}`);
    r.radio.stationLeaves();
    return { after: after.bytes };
  },

  join() {
    const r = rig!;
    sntp(r.clock);
    r.clock.advance(5000);
    const d = dev();
    check(d.client.connected, 'MQTT did not connect after Wi-Fi');
    check(d.presence.birthAcknowledged, 'the birth was not acknowledged');
    check(d.values.name === 'greenhouse', `the device name from the form is "${d.values.name}"`);
    rpc(Command.currentState);
    check(improv.lastState === ImprovState.provisioned, `Improv state ${improv.lastState}, not provisioned`);
    r.clock.advance(60_000);
    check(!r.radio.accessPoint, 'the access point is still up a minute after joining');
    check(!r.network.dns.listening && r.network.lan.listeners.length === 0, 'the portal servers still run after the access point closed');
    settled('join');
    return {};
  },

  telemetry() {
    const r = rig!;
    const d = dev();
    const before = r.broker.counts.qos[1];
    const samples = d.telemetry.statuses().climate?.samples ?? 0;
    for (let i = 0; i < TELEMETRY_INTERVALS; i++) r.clock.advance(TELEMETRY_MS);
    check((d.telemetry.statuses().climate?.samples ?? 0) - samples === TELEMETRY_INTERVALS, 'the BME280 was not sampled at every interval');
    check(r.broker.counts.qos[1] - before === TELEMETRY_INTERVALS, `${r.broker.counts.qos[1] - before} QoS 1 publishes, expected ${TELEMETRY_INTERVALS}`);
    check(d.client.stats.reconnects === 0, 'the device reconnected');
    settled('telemetry');
    return {};
  },

  commands() {
    const r = rig!;
    const d = dev();
    const acks = r.broker.counts.deviceAcks;
    const replies = r.broker.counts.qos[1];
    for (let i = 0; i < COMMANDS; i++) {
      const kind = i % 3;
      if (kind === 0) command('ping', `{"id":"p${i}"}`);
      else if (kind === 1) command('get-config', `{"id":"g${i}"}`);
      else command('set-config', `{"id":"s${i}","args":{"heartbeatInterval":${i % 2 ? 90 : 60}}}`);
      r.clock.advance(1000);
    }
    check(r.broker.counts.deviceAcks - acks === COMMANDS, `${r.broker.counts.deviceAcks - acks} of ${COMMANDS} commands acknowledged`);
    // every command answered; telemetry keeps going meanwhile (QoS 1 too)
    check(r.broker.counts.qos[1] - replies >= COMMANDS, `${r.broker.counts.qos[1] - replies} QoS 1 publishes for ${COMMANDS} commands`);
    check(d.values.heartbeatInterval === 60 || d.values.heartbeatInterval === 90, 'set-config did not apply');
    settled('commands');
    return {};
  },

  outages() {
    const r = rig!;
    const d = dev();
    const max = d.values.outboxMessages;
    let dropped = 0;
    let most = 0;
    for (let n = 0; n < OUTAGES; n++) {
      r.network.outage();
      const start = d.client.outboxState.dropped.reduce((a, b) => a + b, 0);
      // until the outbox is full and has dropped a message
      for (let i = 0; i < max + 4 && d.client.outboxState.dropped.reduce((a, b) => a + b, 0) === start; i++) r.clock.advance(TELEMETRY_MS);
      const o = d.client.outboxState;
      most = Math.max(most, o.bytes);
      check(o.dropped.reduce((a, b) => a + b, 0) > start, `outage ${n + 1}: the outbox (${o.depth} messages, ${o.bytes} bytes) never filled`);
      dropped += o.dropped.reduce((a, b) => a + b, 0) - start;
      r.network.restore();
      for (let i = 0; i < 180 && !(d.client.connected && d.client.outboxState.depth === 0); i++) r.clock.advance(1000);
      settled(`outage ${n + 1}`);
      r.clock.advance(TELEMETRY_MS);
    }
    return { dropped, outboxBytes: most };
  },

  burst() {
    const r = rig!;
    const acks = r.broker.counts.deviceAcks;
    for (let i = 0; i < BURST_COMMANDS; i++) command('ping', `{"id":"b${i}"}`);
    for (let i = 0; i < BURST_BIRTHS; i++) r.broker.publish('homeassistant/status', 'online', 1);
    r.clock.advance(5000);
    check(r.broker.counts.deviceAcks - acks === BURST_COMMANDS + BURST_BIRTHS, `${r.broker.counts.deviceAcks - acks} of ${BURST_COMMANDS + BURST_BIRTHS} messages of the burst acknowledged`);
    settled('burst');
    return {};
  },

  ota() {
    const r = rig!;
    r.network.watch = encoder.encode('"state":"unsupported"');
    r.network.seen = 0;
    r.broker.send(encoder.encode(`nodemcu/${DEVICE_ID}/ota/job`), encoder.encode(OTA_JOB));
    r.clock.advance(2000);
    check(r.network.seen > 0, 'the OTA job was not answered "unsupported"');
    r.network.watch = undefined;
    settled('ota');
    return {};
  },

  end() {
    rig!.clock.advance(600_000);
    settled('end');
    return { warnings: rig!.log.counts.warn, errors: rig!.log.counts.error };
  },
};

xsnap().handleCommand = (request) => {
  const { phase } = JSON.parse(decoder.decode(request)) as { phase: string };
  const run = phases[phase];
  if (!run) throw new Error(`esp8266 scenario: no phase "${phase}" (have ${Object.keys(phases).join(', ')})`);
  probe?.reset();
  const result = run();
  // the deepest call from the host into the firmware during this step (the probe is made at boot)
  if (probe) {
    result.stack = probe.peak;
    if (probe.tracing) result.trace = probe.trace;
  }
  return toArrayBuffer(encoder.encode(JSON.stringify(result)));
};

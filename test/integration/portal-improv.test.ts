// Improv Wi-Fi serial, end to end: a client written from the spec (framing like the Improv serial
// SDK: packets start a line, end with a checksum and a newline) provisions the simulated device
// over the simulated serial port, first an in-process pipe, then real FIFOs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSerialPipe, openSerialPath, type SerialFactory, type SerialHostEnd } from '../../hosts/sim/serial';
import { attachImprovSerial } from '../../src/improv/service';
import { homeNetwork, startPortalDevice, type PortalDevice } from './portal-rig';

interface Packet {
  type: number;
  data: number[];
}

/** Improv client side: builds RPC packets and reads device packets the way the Improv SDK does. */
class ImprovClient {
  readonly packets: Packet[] = [];
  private line: number[] = [];
  private inPacket: number | undefined;
  private skipLine = false;
  private waiters: Array<() => void> = [];

  constructor(private readonly send: (bytes: Uint8Array) => void) {}

  feed(bytes: Uint8Array): void {
    for (const b of bytes) {
      if (this.inPacket !== undefined) {
        this.line.push(b);
        if (this.line.length === this.inPacket) {
          this.take(this.line);
          this.line = [];
          this.inPacket = undefined;
        }
        continue;
      }
      if (this.skipLine) {
        if (b === 10) this.skipLine = false;
        continue;
      }
      if (b === 10) {
        this.line = [];
        continue;
      }
      this.line.push(b);
      if (this.line.length === 9) {
        if (String.fromCharCode(...this.line.slice(0, 6)) !== 'IMPROV') {
          this.line = [];
          this.skipLine = true;
          continue;
        }
        this.inPacket = 9 + this.line[8] + 1;
      }
    }
  }

  private take(bytes: number[]): void {
    let sum = 0;
    for (let i = 0; i < bytes.length - 1; i++) sum += bytes[i];
    expect(sum & 0xff, 'device checksum').toBe(bytes[bytes.length - 1]);
    expect(bytes[6], 'version').toBe(1);
    this.packets.push({ type: bytes[7], data: bytes.slice(9, 9 + bytes[8]) });
    for (const w of this.waiters.splice(0)) w();
  }

  rpc(command: number, payload: number[] = []): void {
    const body = [0x49, 0x4d, 0x50, 0x52, 0x4f, 0x56, 1, 0x03, payload.length + 2, command, payload.length, ...payload];
    let sum = 0;
    for (const b of body) sum += b;
    this.send(new Uint8Array([...body, sum & 0xff, 10]));
  }

  /** Waits until a packet matching `match` has arrived; returns all packets received meanwhile. */
  async until(match: (p: Packet) => boolean, timeoutMs = 10_000): Promise<Packet[]> {
    const start = this.packets.length;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.packets.slice(start);
      if (got.some(match)) {
        this.packets.length = 0;
        return got;
      }
      if (Date.now() > deadline) throw new Error(`no matching Improv packet within ${timeoutMs} ms; got ${JSON.stringify(got)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
}

/** RPC result data: command, length, strings. */
function strings(p: Packet): string[] {
  const out: string[] = [];
  let o = 2;
  while (o < 2 + p.data[1]) {
    out.push(Buffer.from(p.data.slice(o + 1, o + 1 + p.data[o])).toString('utf8'));
    o += 1 + p.data[o];
  }
  return out;
}

const isState = (s: number) => (p: Packet) => p.type === 0x01 && p.data[0] === s;
const isError = (e: number) => (p: Packet) => p.type === 0x02 && p.data[0] === e;
const isResult = (cmd: number) => (p: Packet) => p.type === 0x04 && p.data[0] === cmd;
const utf8 = (s: string) => [...Buffer.from(s, 'utf8')];
const settings = (ssid: string, password: string) => [utf8(ssid).length, ...utf8(ssid), utf8(password).length, ...utf8(password)];

let dev: PortalDevice | undefined;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  dev?.close();
  dev = undefined;
});

async function provisioningRun(serialPort: SerialFactory, host: { write(b: Uint8Array): void; onData(h: (b: Uint8Array) => void): void }): Promise<void> {
  dev = await startPortalDevice({ portal: { enabled: false } });
  dev.platform.serial = serialPort;
  const improv = attachImprovSerial(dev.platform, {
    target: dev.prov,
    info: { firmwareName: 'nodemcu-mqtt', firmwareVersion: '0.1.0', hardware: 'esp8266/nodemcu', deviceName: 'Greenhouse' },
    redirectUrl: (ip) => `http://${ip}/`,
  });
  cleanups.push(() => improv.close());
  const client = new ImprovClient((b) => host.write(b));
  host.onData((b) => client.feed(b));
  // The device logs on the same port; the client must skip those lines.
  improv.serial.write(new Uint8Array(Buffer.from('[info] provisioning: access point up\n')));

  client.rpc(0x02);
  let got = await client.until(isState(0x02));
  expect(got.some(isError(0x00)), 'error state cleared first').toBe(true);

  client.rpc(0x03);
  got = await client.until(isResult(0x03));
  expect(strings(got.find(isResult(0x03)) as Packet)).toEqual(['nodemcu-mqtt', '0.1.0', 'esp8266/nodemcu', 'Greenhouse']);

  client.rpc(0x04);
  got = await client.until((p) => isResult(0x04)(p) && p.data[1] === 0);
  const nets = got.filter((p) => isResult(0x04)(p) && p.data[1] > 0).map(strings);
  expect(nets).toEqual([
    [homeNetwork.ssid, '-52', 'YES'],
    ['Neighbour', '-71', 'YES'],
    ['Café Libre', '-83', 'NO'],
  ]);

  improv.serial.write(new Uint8Array(Buffer.from('[warn] a log line between packets\n')));
  client.rpc(0x01, settings(homeNetwork.ssid, 'wrong password'));
  got = await client.until(isError(0x03));
  expect(got.some(isState(0x03)), 'provisioning state shown while trying').toBe(true);
  expect(dev.kv.keys()).toEqual([]);
  expect(dev.prov.state).toBe('ap');

  client.rpc(0x01, settings(homeNetwork.ssid, 'correct horse'));
  got = await client.until(isResult(0x01));
  const order = got.filter((p) => p.type !== 0x02).map((p) => (p.type === 0x01 ? `state ${p.data[0]}` : 'result'));
  expect(order).toEqual(['state 3', 'state 4', 'result']);
  expect(strings(got.find(isResult(0x01)) as Packet)).toEqual(['http://192.168.1.50/']);
  expect(dev.prov.store.list()).toEqual([{ ssid: homeNetwork.ssid, password: 'correct horse' }]);
  expect(dev.prov.state).toBe('connected');

  client.rpc(0x02);
  got = await client.until(isResult(0x02));
  expect(got.some(isState(0x04))).toBe(true);
  expect(strings(got.find(isResult(0x02)) as Packet)).toEqual(['http://192.168.1.50/']);
}

describe('Improv serial', () => {
  it('provisions the device over an in-process serial pipe', async () => {
    const pipe = createSerialPipe({ chunkSize: 7 });
    cleanups.push(() => pipe.host.close());
    await provisioningRun(pipe.device, pipe.host);
  });

  it('provisions the device over real FIFOs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'improv-fifo-'));
    const toDevice = join(dir, 'to-device');
    const toHost = join(dir, 'to-host');
    execFileSync('mkfifo', [toDevice, toHost]);
    const writer = new net.Socket({ fd: fs.openSync(toDevice, fs.constants.O_RDWR | fs.constants.O_NONBLOCK), readable: false, writable: true });
    const reader = new net.Socket({ fd: fs.openSync(toHost, fs.constants.O_RDWR | fs.constants.O_NONBLOCK), readable: true, writable: false });
    cleanups.push(() => {
      writer.destroy();
      reader.destroy();
      rmSync(dir, { recursive: true, force: true });
    });
    const host: SerialHostEnd = {
      write: (b) => void writer.write(b),
      onData: (h) => reader.on('data', (d: Buffer) => h(new Uint8Array(d))),
      close: () => {},
    };
    await provisioningRun(openSerialPath({ read: toDevice, write: toHost }), host);
  });

  it('answers bad checksums, unknown commands and malformed settings with error codes', async () => {
    dev = await startPortalDevice({ portal: { enabled: false } });
    const pipe = createSerialPipe();
    dev.platform.serial = pipe.device;
    const improv = attachImprovSerial(dev.platform, {
      target: dev.prov,
      info: { firmwareName: 'f', firmwareVersion: 'v', hardware: 'h', deviceName: 'd' },
    });
    cleanups.push(() => improv.close());
    const client = new ImprovClient((b) => pipe.host.write(b));
    pipe.host.onData((b) => client.feed(b));

    pipe.host.write(new Uint8Array([0x49, 0x4d, 0x50, 0x52, 0x4f, 0x56, 1, 0x03, 0x02, 0x02, 0x00, 0xe6, 10]));
    await client.until(isError(0x01));
    client.rpc(0x09);
    await client.until(isError(0x02));
    client.rpc(0x01, [40, ...utf8('x')]);
    await client.until(isError(0x01));
    client.rpc(0x01, settings('Home', 'short'));
    await client.until(isError(0x01));
    client.rpc(0x01, settings('x'.repeat(33), 'long enough'));
    await client.until(isError(0x01));
    expect(dev.kv.keys()).toEqual([]);
    client.rpc(0x02);
    await client.until(isState(0x02));
  });
});

// The captive DNS server on a real loopback UDP port, queried with node:dgram: every A query gets
// the access point's address, malformed packets get nothing, and the server keeps answering.
import dgram from 'node:dgram';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPortalDevice, type PortalDevice } from './portal-rig';

let dev: PortalDevice;
let client: dgram.Socket;
const replies: Buffer[] = [];

beforeAll(async () => {
  dev = await startPortalDevice();
  client = dgram.createSocket('udp4');
  client.on('message', (m) => replies.push(m));
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
});
afterAll(() => {
  client?.close();
  dev?.close();
});

/** A standard query built by hand: RD set, one question. */
function query(id: number, name: string, type = 1): Buffer {
  const labels = name.split('.').filter(Boolean);
  const parts: number[] = [id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const l of labels) parts.push(l.length, ...Buffer.from(l, 'ascii'));
  parts.push(0, type >> 8, type & 0xff, 0, 1);
  return Buffer.from(parts);
}

async function ask(packet: Uint8Array, waitMs = 300): Promise<Buffer[]> {
  replies.length = 0;
  client.send(packet, dev.dnsPort, '127.0.0.1');
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && replies.length === 0) await new Promise((r) => setTimeout(r, 5));
  if (replies.length === 0) await new Promise((r) => setTimeout(r, 20));
  return replies.splice(0);
}

describe('captive DNS over UDP', () => {
  it('answers the probe host names of every OS with the access point address', async () => {
    const names = ['connectivitycheck.gstatic.com', 'clients3.google.com', 'captive.apple.com', 'www.msftconnecttest.com', 'detectportal.firefox.com', 'example.com'];
    for (const [i, name] of names.entries()) {
      const [reply] = await ask(query(0x4000 + i, name));
      expect(reply, name).toBeDefined();
      expect(reply.readUInt16BE(0)).toBe(0x4000 + i);
      expect(reply[2] & 0x80, 'QR').toBe(0x80);
      expect(reply[3] & 0x0f, 'RCODE').toBe(0);
      expect(reply.readUInt16BE(6), 'ANCOUNT').toBe(1);
      expect([...reply.subarray(reply.length - 4)]).toEqual([192, 168, 4, 1]);
    }
  });

  it('gives AAAA queries an empty NOERROR answer', async () => {
    const [reply] = await ask(query(7, 'captive.apple.com', 28));
    expect(reply.readUInt16BE(6)).toBe(0);
    expect(reply[3] & 0x0f).toBe(0);
  });

  it('ignores malformed packets and keeps answering', async () => {
    const bad = [
      Buffer.alloc(0),
      Buffer.from([1, 2, 3]),
      Buffer.alloc(600, 0x41),
      Buffer.concat([query(9, 'a.b'), Buffer.alloc(520)]),
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
      Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]),
      Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1]),
    ];
    for (const packet of bad) expect(await ask(packet, 100)).toEqual([]);
    expect((await ask(query(10, 'still.working'))).length).toBe(1);
  });

  it('survives random and mutated packets', async () => {
    const base = query(0x1234, 'connectivitycheck.gstatic.com');
    const sentIds = new Set<number>();
    replies.length = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 80 }),
          fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map((flips) => {
            const b = Buffer.from(base);
            for (const [at, v] of flips) b[at] = v;
            return new Uint8Array(b);
          }),
        ),
        (packet) => {
          if (packet.length >= 2) sentIds.add((packet[0] << 8) | packet[1]);
          client.send(packet, dev.dnsPort, '127.0.0.1');
        },
      ),
      { numRuns: 300, seed: 7 },
    );
    await new Promise((r) => setTimeout(r, 500));
    const got = replies.splice(0);
    expect(got.length).toBeGreaterThan(0);
    for (const reply of got) {
      // Whatever was answered is a well-formed response to a query that was sent.
      expect(reply[2] & 0x80).toBe(0x80);
      expect(sentIds.has(reply.readUInt16BE(0))).toBe(true);
    }
    expect((await ask(query(11, 'after.fuzz'))).length).toBe(1);
  });
});

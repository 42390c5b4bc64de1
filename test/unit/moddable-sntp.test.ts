// The Moddable host's SNTP client (hosts/moddable/sntp.ts) on a scripted UDP socket and the manual
// clock: what it sends, which replies set the time, and when it gives up.
import { describe, expect, it } from 'vitest';
import { startSntp, sntpSeconds, type SntpDeps } from '../../hosts/moddable/sntp';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import type { LogLevel, UdpOptions, UdpPacket, UdpSocket } from '../../src/ports';

const SERVER = '192.0.2.7';
/** 2026-01-01T00:00:00Z */
const UNIX_2026 = 1_767_225_600;
const NTP_TO_UNIX = 2_208_988_800;

function reply(ntpSeconds: number, { mode = 4, stratum = 2, length = 48 } = {}): Uint8Array {
  const packet = new Uint8Array(length);
  packet[0] = (4 << 3) | mode;
  packet[1] = stratum;
  if (length >= 44) new DataView(packet.buffer).setUint32(40, ntpSeconds);
  return packet;
}

function harness(options: { resolveTo?: string; udpThrows?: boolean } = {}) {
  const clock = new ManualClock();
  const sent: { data: Uint8Array; address: string; port: number }[] = [];
  const inbox: UdpPacket[] = [];
  const logs: [LogLevel, string][] = [];
  const times: number[] = [];
  let open: (UdpOptions & { closed: boolean }) | undefined;
  const deps: SntpDeps = {
    clock,
    log: { log: (level, message) => logs.push([level, message]) },
    setTime: (seconds) => times.push(seconds),
    resolve: (_host, done) => clock.set(() => done(options.resolveTo ?? SERVER), 0),
    udp(o): UdpSocket {
      if (options.udpThrows) throw new Error('no free sockets');
      open = { ...o, closed: false };
      return {
        port: 50_000,
        read: () => inbox.shift(),
        write: (data, address, port) => sent.push({ data: data.slice(), address, port }),
        close: () => void (open!.closed = true),
      };
    },
  };
  const deliver = (...packets: Uint8Array[]) => {
    for (const data of packets) inbox.push({ data, address: SERVER, port: 123 });
    open!.onReadable(packets.length);
  };
  return { clock, sent, logs, times, deps, deliver, socket: () => open };
}

describe('the Moddable host SNTP client', () => {
  it('asks the resolved server with a version 4 client request and sets the clock from its answer', () => {
    const h = harness();
    startSntp('pool.ntp.org', h.deps);
    h.clock.advance(0);
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]!.address).toBe(SERVER);
    expect(h.sent[0]!.port).toBe(123);
    expect([...h.sent[0]!.data]).toEqual([0x23, ...new Array(47).fill(0)]);
    h.deliver(reply(UNIX_2026 + NTP_TO_UNIX));
    expect(h.times).toEqual([UNIX_2026]);
    expect(h.logs).toContainEqual(['info', 'clock set from pool.ntp.org']);
    expect(h.socket()!.closed).toBe(true);
    expect(h.clock.pending).toBe(0);
  });

  it('ignores a kiss-o-death, a packet that is not from a server and a short one, and takes the next good answer', () => {
    const h = harness();
    startSntp('pool.ntp.org', h.deps);
    h.clock.advance(0);
    h.deliver(reply(UNIX_2026 + NTP_TO_UNIX, { stratum: 0 }), reply(UNIX_2026 + NTP_TO_UNIX, { mode: 3 }), reply(UNIX_2026 + NTP_TO_UNIX, { length: 40 }));
    expect(h.times).toEqual([]);
    expect(h.socket()!.closed).toBe(false);
    h.clock.advance(5_000);
    expect(h.sent).toHaveLength(2);
    h.deliver(reply(UNIX_2026 + 60 + NTP_TO_UNIX));
    expect(h.times).toEqual([UNIX_2026 + 60]);
  });

  it('sends 5 requests 5 s apart, then says the wall time stays unknown and closes its socket', () => {
    const h = harness();
    startSntp('pool.ntp.org', h.deps);
    h.clock.advance(0);
    h.clock.advance(24_999);
    expect(h.sent).toHaveLength(5);
    expect(h.logs).toEqual([]);
    h.clock.advance(1);
    expect(h.sent).toHaveLength(5);
    expect(h.logs).toEqual([['warn', 'no time from SNTP server pool.ntp.org; wall time stays unknown']]);
    expect(h.socket()!.closed).toBe(true);
    expect(h.clock.pending).toBe(0);
  });

  it('gives up at once when the name does not resolve, and says why when no socket opens', () => {
    const unresolved = harness({ resolveTo: '' });
    startSntp('nowhere.invalid', unresolved.deps);
    unresolved.clock.advance(0);
    expect(unresolved.logs).toEqual([['warn', 'no time from SNTP server nowhere.invalid; wall time stays unknown']]);
    expect(unresolved.socket()).toBeUndefined();

    const noSocket = harness({ udpThrows: true });
    startSntp('pool.ntp.org', noSocket.deps);
    noSocket.clock.advance(0);
    expect(noSocket.logs).toEqual([['warn', 'cannot ask SNTP server pool.ntp.org: no free sockets']]);
  });

  it('reads timestamps of the era that starts in 2036 (RFC 4330 section 3)', () => {
    expect(sntpSeconds(reply(0xffff_ffff))).toBe(0xffff_ffff - NTP_TO_UNIX);
    // 2036-02-07T06:28:16Z is NTP second 0 of era 1
    expect(sntpSeconds(reply(0))).toBe(2_085_978_496);
    expect(sntpSeconds(reply(100))).toBe(2_085_978_596);
  });
});

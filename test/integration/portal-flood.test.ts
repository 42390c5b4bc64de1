// The portal under connection floods, on real loopback sockets through the simulator's Network
// adapter and with the default limits: idle sockets, held or re-opened, must not keep a real
// client from the page or from submitting the form.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homeNetwork, rawRequest, startPortalDevice, waitFor, type PortalDevice } from './portal-rig';

let dev: PortalDevice;

beforeAll(async () => {
  dev = await startPortalDevice();
});
afterAll(() => dev?.close());

/**
 * Idle sockets to the portal from `from` (a loopback address of its own, as an attacker's host is not
 * the phone); with `reopen`, each one the server closes is opened again (at most `maxReopens`).
 */
class Flood {
  readonly sockets = new Set<net.Socket>();
  closedByServer = 0;
  private stopped = false;
  private reopens = 0;

  constructor(
    private readonly port: number,
    private readonly reopen: boolean,
    private readonly from = '127.0.0.1',
    private readonly maxReopens = 20_000,
  ) {}

  open(count: number): Promise<void> {
    const connected = Array.from({ length: count }, () => this.one());
    return Promise.all(connected).then(() => {});
  }

  private one(): Promise<void> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: this.port, localAddress: this.from });
      this.sockets.add(socket);
      socket.on('connect', () => resolve());
      socket.on('error', () => resolve()); // a reset counts as closed
      socket.on('close', () => {
        resolve();
        this.sockets.delete(socket);
        if (this.stopped) return;
        this.closedByServer++;
        if (this.reopen && this.reopens++ < this.maxReopens) void this.one();
      });
    });
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
  }
}

const get = 'GET / HTTP/1.1\r\nHost: 192.168.4.1\r\n\r\n';

function formPost(body: string): string {
  return `POST /connect HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

describe('portal HTTP under a connection flood', () => {
  it('eight idle sockets re-opened by an attacker do not turn real requests away: 5 of 5 answered', async () => {
    // the attacker's host (127.0.0.2) is not the phone's (127.0.0.1)
    const flood = new Flood(dev.httpPort, true, '127.0.0.2');
    try {
      await flood.open(8);
      // The attacker's sockets push each other out and come back: let that churn get going first.
      await waitFor(() => (flood.closedByServer >= 200 ? true : undefined), 10_000, '200 idle sockets closed and re-opened');
      const before = flood.closedByServer;
      const statuses: Array<number | undefined> = [];
      for (let i = 0; i < 5; i++) {
        const r = await rawRequest(dev.httpPort, [get], 0, 5_000);
        statuses.push(r.status);
        if (r.status === 200) expect(r.body).toContain('<form method="post" action="/connect">');
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
      expect(flood.closedByServer).toBeGreaterThan(before);
    } finally {
      flood.stop();
    }
  });

  it('200 idle sockets do not stop a real form post', async () => {
    const flood = new Flood(dev.httpPort, false);
    try {
      await flood.open(200);
      const password = encodeURIComponent(homeNetwork.password ?? '');
      const r = await rawRequest(dev.httpPort, [formPost(`s=${encodeURIComponent(homeNetwork.ssid)}&p=${password}&n=Kitchen`)], 0, 5_000);
      expect(r.status).toBe(303);
      expect(r.head).toContain('\r\nLocation: /\r\n');
      await dev.waitForState('connected');
      expect(dev.prov.savedNetworks()).toEqual([homeNetwork.ssid]);
      expect(dev.extras).toEqual([{ deviceName: 'Kitchen' }]);
      // Each new connection closed the oldest idle one of the (single, loopback) client: 2 are left.
      await waitFor(() => (flood.closedByServer >= 199 ? true : undefined), 5_000, 'the server to close all but one idle socket');
      expect(flood.sockets.size).toBe(1);
    } finally {
      flood.stop();
    }
  });
});

// A simulated device for the portal tests: provisioning on the simulated radio, a memory store
// with the ESP8266 value limit, and the portal's HTTP and DNS servers on real loopback ports.
import net from 'node:net';
import { RealClock } from '../../hosts/sim/clock';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { createNodeNetwork } from '../../hosts/sim/net';
import { SimRadio, type SimNetwork } from '../../hosts/sim/radio';
import type { Clock, Platform } from '../../src/ports';
import type { ExtraSettings } from '../../src/provisioning/validate';
import { Provisioning, type ProvisioningOptions, type ProvisioningState } from '../../src/provisioning/provisioning';

export interface PortalDevice {
  prov: Provisioning;
  radio: SimRadio;
  kv: MemoryStore;
  clock: Clock;
  platform: Platform;
  states: ProvisioningState[];
  extras: ExtraSettings[];
  logs: string[];
  httpPort: number;
  dnsPort: number;
  /** Resolves when provisioning reaches `state` (rejects after timeoutMs). */
  waitForState(state: ProvisioningState, timeoutMs?: number): Promise<void>;
  close(): void;
}

export const homeNetwork: SimNetwork = { ssid: 'Home <Net> "5"', password: 'correct horse', rssi: -52, ip: '192.168.1.50' };
const otherNetworks: SimNetwork[] = [
  { ssid: 'Neighbour', password: 'neighbour-pass', rssi: -71 },
  { ssid: 'Café Libre', rssi: -83 },
];

export async function startPortalDevice(options: Partial<ProvisioningOptions> = {}, networks = [homeNetwork, ...otherNetworks]): Promise<PortalDevice> {
  const clock = new RealClock();
  const radio = new SimRadio({ clock, networks, scanMs: 50, associateMs: 100, authFailMs: 200, dhcpMs: 50 });
  const kv = new MemoryStore({ maxValueBytes: 63 });
  const logs: string[] = [];
  const platform: Platform = {
    clock,
    system: { deviceId: () => '5ccf7f00beef', restart() {}, freeMemory: () => 40_000, resetReason: () => 'power-on', random: () => Math.random() },
    log: { log: (level, message) => logs.push(`${level}: ${message}`) },
    storage: kv,
    network: createNodeNetwork(),
    wifi: radio,
  };
  const states: ProvisioningState[] = [];
  const extras: ExtraSettings[] = [];
  const waiters: Array<() => void> = [];
  const prov = new Provisioning({
    platform,
    prefix: 'nodemcu',
    firmwareVersion: '0.1.0',
    apLingerMs: 3_000,
    ...options,
    portal: { listenAddress: '127.0.0.1', httpPort: 0, dnsPort: 0, ...options.portal },
    onState: (s) => {
      states.push(s);
      options.onState?.(s);
      for (const w of waiters.splice(0)) w();
    },
    onExtraSettings: (e) => {
      extras.push(e);
      options.onExtraSettings?.(e);
    },
  });
  prov.start();
  const portalOn = options.portal?.enabled !== false;
  // Sockets bind on a later event-loop turn; their ports are known once bound.
  const udpPort = portalOn ? await waitFor(() => prov.portalDnsPort || undefined, 5_000, 'the portal DNS port') : 0;
  const httpPort = portalOn ? await waitFor(() => prov.portalHttpPort || undefined, 5_000, 'the portal HTTP port') : 0;
  // The access point's first scan fills the page's network list.
  await waitFor(() => (prov.scanResults.length ? true : undefined), 5_000, 'the first scan');
  return {
    prov,
    radio,
    kv,
    clock,
    platform,
    states,
    extras,
    logs,
    httpPort,
    dnsPort: udpPort,
    waitForState(state, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        if (prov.state === state) return resolve();
        const timer = setTimeout(() => reject(new Error(`provisioning did not reach "${state}" within ${timeoutMs} ms (now "${prov.state}")`)), timeoutMs);
        const check = () => {
          if (prov.state === state) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        waiters.push(check);
      });
    },
    close() {
      prov.stop();
    },
  };
}

/** Polls until `get` returns a value (every 10 ms, at most timeoutMs). */
export async function waitFor<T>(get: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface RawResponse {
  /** Status code, or undefined when the server closed without answering. */
  status?: number;
  head: string;
  body: string;
  /** ms from the first byte sent to the socket closing. */
  elapsedMs: number;
}

/**
 * Sends raw bytes (each chunk after `gapMs`) and reads until the server closes. Fails after
 * timeoutMs: the server must always close the connection.
 */
export function rawRequest(port: number, chunks: Array<string | Uint8Array>, gapMs = 0, timeoutMs = 15_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const started = Date.now();
    const received: Buffer[] = [];
    let timers: NodeJS.Timeout[] = [];
    const overall = setTimeout(() => {
      socket.destroy();
      reject(new Error(`server did not close the connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (d) => received.push(d));
    socket.on('error', () => {}); // a reset counts as closed
    socket.on('close', () => {
      clearTimeout(overall);
      for (const t of timers) clearTimeout(t);
      const all = Buffer.concat(received);
      const split = all.indexOf('\r\n\r\n');
      const head = (split >= 0 ? all.subarray(0, split) : all).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(head);
      const body = split >= 0 ? all.subarray(split + 4).toString('utf8') : '';
      resolve({ status: m ? Number(m[1]) : undefined, head, body, elapsedMs: Date.now() - started });
    });
    socket.on('connect', () => {
      timers = chunks.map((c, i) =>
        setTimeout(() => {
          if (!socket.destroyed) socket.write(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
        }, i * gapMs),
      );
    });
  });
}

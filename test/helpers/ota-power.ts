// One boot's "power": a clock, a network and a key-value store that all die at once on kill(), as
// they do when a board loses power or resets. Code still on the stack afterwards finds dead ports:
// no timer fires, no byte leaves, nothing more is stored.
import { RealClock } from '../../hosts/sim/clock';
import { createNodeNetwork } from '../../hosts/sim/net';
import type { Clock, KeyValueStore, Network, TcpOptions, TcpSocket, TimerId } from '../../src/ports';

export class PowerDomain {
  alive = true;
  readonly clock: Clock;
  readonly network: Network;
  private readonly timers = new Set<TimerId>();
  private readonly sockets = new Set<TcpSocket>();

  /** `refuse`: every outgoing connection fails (an image whose network never comes up); `onRead`: bytes read per remote port. */
  constructor(options: { refuse?: boolean; onRead?(port: number, bytes: number): void } = {}) {
    const inner = new RealClock();
    const net = createNodeNetwork();
    const timers = this.timers;
    const sockets = this.sockets;
    const domain = this;
    this.clock = {
      now: () => inner.now(),
      wallTime: () => inner.wallTime(),
      set(callback, ms, repeat) {
        if (!domain.alive) return undefined;
        const id: TimerId = inner.set(
          () => {
            if (repeat === undefined) timers.delete(id);
            if (domain.alive) callback();
          },
          ms,
          repeat,
        );
        timers.add(id);
        return id;
      },
      clear(id) {
        timers.delete(id);
        inner.clear(id);
      },
    };
    this.network = {
      connect(o: TcpOptions): TcpSocket {
        if (!domain.alive || options.refuse) {
          const dead: TcpSocket = { read: () => undefined, write: () => undefined, close: () => undefined };
          if (domain.alive) domain.clock.set(() => o.onError(Object.assign(new Error(`TCP ${o.host}:${o.port}: connection refused (no network)`), { code: 'ECONNREFUSED' })), 5);
          return dead;
        }
        const guard = <A extends unknown[]>(f: ((...a: A) => void) | undefined) => (...a: A) => {
          if (domain.alive) f?.(...a);
        };
        const socket = net.connect({
          ...o,
          onReadable: guard(o.onReadable),
          onWritable: guard(o.onWritable),
          onError: (e) => {
            sockets.delete(socket);
            if (domain.alive) o.onError(e);
          },
        });
        sockets.add(socket);
        return {
          read: () => {
            if (!domain.alive) return undefined;
            const bytes = socket.read();
            if (bytes) options.onRead?.(o.port, bytes.length);
            return bytes;
          },
          write: (b) => {
            if (domain.alive) socket.write(b); // without power, bytes go nowhere
          },
          close: () => {
            sockets.delete(socket);
            socket.close();
          },
        };
      },
    };
  }

  /** The store as this boot sees it: writes after the power is gone never happen. */
  guardStore(store: KeyValueStore): KeyValueStore {
    return {
      get: (key) => store.get(key),
      keys: () => store.keys(),
      set: (key, value) => {
        if (this.alive) store.set(key, value);
      },
      delete: (key) => {
        if (this.alive) store.delete(key);
      },
    };
  }

  kill(): void {
    if (!this.alive) return;
    this.alive = false;
    for (const t of this.timers) this.clock.clear(t);
    this.timers.clear();
    for (const s of this.sockets) {
      try {
        s.close();
      } catch {
        // already gone
      }
    }
    this.sockets.clear();
  }
}

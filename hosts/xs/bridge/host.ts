// The Node side of the port bridge: answers the Platform requests of code running inside XS
// (hosts/xs/bridge/xs-platform.ts) with real Node adapters (the simulator's network, a key-value
// store, Node timers) and delivers their events back into XS, one delivery at a time.
import type { IncomingConnection, KeyValueStore, Listener, LogLevel, Network, TcpSocket } from '../../../src/ports';
import { createNodeNetwork } from '../../sim/net';
import { bundleForXs, type BundleSource } from '../bundle';
import { XsWorker, type Delivery, type XsWorkerOptions } from '../worker';
import { MemoryStore } from '../../sim/fakes/store';
import { decodeFrame, encodeFrame, type Header } from './wire';

export interface BridgeEvent {
  name: string;
  data: unknown;
  body: Uint8Array;
}

export interface BridgeHostOptions extends Omit<XsWorkerOptions, 'onCommand'> {
  /** The firmware entry to bundle (a file, or source) or an already bundled script. */
  entry: string | BundleSource | { code: string };
  network?: Network;
  /** Default: a MemoryStore (hosts/sim/fakes/store.ts); pass a FileKeyValueStore to keep values. */
  storage?: KeyValueStore;
  /** Receives platform.log lines. Default: kept in `logs` only. */
  onLog?: (level: LogLevel, message: string) => void;
  /** Called when firmware asks for system.restart(reason). */
  onRestart?: (reason: string) => void;
  /** Wall-clock ms since the epoch for clock.wallTime(); default Date.now. Return undefined for "not synced yet". */
  wallTime?: () => number | undefined;
}

/** Thrown by host.next() when the awaited event does not come in time. */
export class BridgeTimeoutError extends Error {
  readonly code = 'BRIDGE_TIMEOUT';
}
BridgeTimeoutError.prototype.name = 'BridgeTimeoutError';

export class BridgeHost {
  readonly worker: XsWorker;
  /** Log lines from inside XS, oldest first (capped at 1000). */
  readonly logs: { level: LogLevel; message: string }[] = [];
  /** Deliveries that threw inside XS (firmware callbacks that failed), oldest first. */
  readonly failures: Error[] = [];

  private readonly network: Network;
  private readonly storage: KeyValueStore;
  private readonly options: BridgeHostOptions;
  private readonly started = performance.now();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly sockets = new Map<number, TcpSocket>();
  private readonly incoming = new Map<number, IncomingConnection>();
  private readonly listeners = new Map<number, Listener>();
  private readonly events: BridgeEvent[] = [];
  private readonly waiters = new Set<{ name: string; resolve: (event: BridgeEvent) => void }>();
  private readonly handlers = new Map<string, (event: BridgeEvent) => void>();
  private nextIncomingId = -1;
  private closed = false;

  private constructor(options: BridgeHostOptions) {
    this.options = options;
    this.network = options.network ?? createNodeNetwork();
    this.storage = options.storage ?? new MemoryStore();
    this.worker = new XsWorker({ ...options, onCommand: (request) => this.answer(request) });
  }

  /** Bundles (when needed) and boots the entry inside a new XS worker. */
  static async start(options: BridgeHostOptions): Promise<BridgeHost> {
    const entry = options.entry;
    const code = typeof entry === 'object' && 'code' in entry ? entry.code : (await bundleForXs(entry)).code;
    const host = new BridgeHost(options);
    try {
      await host.worker.evaluate(code);
    } catch (error) {
      await host.close();
      throw error;
    }
    return host;
  }

  /** Calls a function the firmware registered with bridge.onCall(name); resolves with its JSON value. */
  async call<T = unknown>(name: string, args?: unknown, body?: Uint8Array): Promise<T> {
    const { reply } = await this.deliver({ ev: 'call', name, args: args ?? null }, body);
    return decodeFrame(reply).header.value as T;
  }

  /** Calls `handler` for every event the firmware emits under `name` (events already queued included). */
  on(name: string, handler: (event: BridgeEvent) => void): void {
    this.handlers.set(name, handler);
    for (let i = 0; i < this.events.length; ) {
      if (this.events[i]!.name === name) handler(this.events.splice(i, 1)[0]!);
      else i++;
    }
  }

  /** The next event emitted under `name` (oldest queued first). */
  next(name: string, timeoutMs = 10_000): Promise<BridgeEvent> {
    const index = this.events.findIndex((e) => e.name === name);
    if (index >= 0) return Promise.resolve(this.events.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        name,
        resolve: (event: BridgeEvent) => {
          clearTimeout(timer);
          resolve(event);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const failures = this.failures.length ? `; failures inside XS: ${this.failures.map((f) => f.message).join(' | ')}` : '';
        reject(new BridgeTimeoutError(`no "${name}" event from XS within ${timeoutMs} ms${failures}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Stops timers, closes sockets and listeners, then the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
    for (const listener of this.listeners.values()) listener.close();
    this.listeners.clear();
    await this.worker.close();
  }

  private deliver(header: Header, body?: Uint8Array): Promise<Delivery> {
    return this.worker.command(encodeFrame(header, body));
  }

  /** Delivers an event whose failure belongs to the firmware, not to a caller: it is recorded. */
  private post(header: Header, body?: Uint8Array): void {
    if (this.closed) return;
    this.deliver(header, body).catch((error: Error) => {
      if (!this.closed) this.failures.push(error);
    });
  }

  private async answer(request: Uint8Array): Promise<Uint8Array> {
    const { header, body } = decodeFrame(request);
    try {
      return header.op === 'listen' ? await this.listen(header) : this.dispatch(header, body);
    } catch (error) {
      const e = error as { code?: unknown; message?: unknown };
      return encodeFrame({ error: { code: typeof e.code === 'string' ? e.code : 'EIO', message: String(e.message ?? error) } });
    }
  }

  /** XS waits (blocked) for the bound port, which Node may learn only after the listen call returns. */
  private async listen(header: Header): Promise<Uint8Array> {
    const id = header.id as number;
    if (!this.network.listen) unsupported('listen');
    const listener = this.network.listen({
      port: header.port as number,
      address: (header.address as string | undefined) ?? undefined,
      onConnection: (connection) => {
        const conn = this.nextIncomingId--;
        this.incoming.set(conn, connection);
        this.post({ ev: 'connection', id, conn, remoteAddress: connection.remoteAddress });
      },
      onError: (error) => this.post({ ev: 'listen-error', id, code: codeOf(error), message: error.message }),
    });
    this.listeners.set(id, listener);
    for (let i = 0; i < 200 && listener.port === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    return encodeFrame({ port: listener.port });
  }

  private dispatch(header: Header, body: Uint8Array): Uint8Array {
    const ok = encodeFrame({});
    const id = header.id as number;
    switch (header.op) {
      case 'now':
        return encodeFrame({ now: performance.now() - this.started });
      case 'wall':
        return encodeFrame({ wall: (this.options.wallTime ?? Date.now)() ?? null });
      case 'timer': {
        const ms = Math.max(0, Number(header.ms) || 0);
        const repeat = header.repeat as number | undefined;
        const fire = () => this.post({ ev: 'timer', id });
        if (repeat === undefined || repeat === null) {
          this.timers.set(id, setTimeout(() => (this.timers.delete(id), fire()), ms));
        } else {
          this.timers.set(
            id,
            setTimeout(() => {
              fire();
              this.timers.set(id, setInterval(fire, Math.max(1, Number(repeat) || 0)));
            }, ms),
          );
        }
        return ok;
      }
      case 'untimer':
        clearTimeout(this.timers.get(id));
        this.timers.delete(id);
        return ok;
      case 'connect': {
        const socket = this.network.connect({
          host: header.host as string,
          port: header.port as number,
          tls: (header.tls as never) ?? undefined,
          ...this.socketEvents(id),
        });
        this.sockets.set(id, socket);
        return ok;
      }
      case 'write':
        this.socket(id).write(body.slice());
        return ok;
      case 'close':
        this.sockets.get(id)?.close();
        this.sockets.delete(id);
        return ok;
      case 'unlisten':
        this.listeners.get(id)?.close();
        this.listeners.delete(id);
        return ok;
      case 'accept': {
        const connection = this.incoming.get(id);
        if (!connection) throw Object.assign(new Error(`no pending incoming connection ${id}`), { code: 'EINVAL' });
        this.incoming.delete(id);
        this.sockets.set(id, connection.accept(this.socketEvents(id)));
        return ok;
      }
      case 'kv.get': {
        const value = this.storage.get(header.key as string);
        if (value === undefined) return ok;
        return typeof value === 'string'
          ? encodeFrame({ type: 'string' }, new TextEncoder().encode(value))
          : encodeFrame({ type: 'bytes' }, value);
      }
      case 'kv.set':
        this.storage.set(header.key as string, header.type === 'string' ? new TextDecoder().decode(body) : body.slice());
        return ok;
      case 'kv.delete':
        this.storage.delete(header.key as string);
        return ok;
      case 'kv.keys':
        return encodeFrame({ keys: this.storage.keys() });
      case 'log': {
        const level = header.level as LogLevel;
        const message = header.message as string;
        this.logs.push({ level, message });
        if (this.logs.length > 1000) this.logs.shift();
        this.options.onLog?.(level, message);
        return ok;
      }
      case 'emit': {
        const event = { name: header.name as string, data: header.data, body: body.slice() };
        const waiter = [...this.waiters].find((w) => w.name === event.name);
        const handler = this.handlers.get(event.name);
        if (waiter) {
          this.waiters.delete(waiter);
          waiter.resolve(event);
        } else if (handler) handler(event);
        else this.events.push(event);
        return ok;
      }
      case 'restart':
        this.options.onRestart?.(header.reason as string);
        return ok;
      default:
        throw Object.assign(new Error(`unknown bridge request ${JSON.stringify(header.op)}`), { code: 'EINVAL' });
    }
  }

  private socketEvents(id: number) {
    return {
      onWritable: (count: number) => this.post({ ev: 'writable', id, count }),
      onReadable: () => {
        const bytes = this.sockets.get(id)?.read();
        if (bytes?.length) this.post({ ev: 'readable', id }, bytes);
      },
      onError: (error: Error) => {
        this.sockets.delete(id);
        this.post({ ev: 'error', id, code: codeOf(error), message: error.message });
      },
    };
  }

  private socket(id: number): TcpSocket {
    const socket = this.sockets.get(id);
    if (!socket) throw Object.assign(new Error(`socket ${id} is closed`), { code: 'ECLOSED' });
    return socket;
  }
}

function codeOf(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'EIO';
}

function unsupported(what: string): never {
  throw Object.assign(new Error(`this network has no ${what}()`), { code: 'ENOTSUP' });
}

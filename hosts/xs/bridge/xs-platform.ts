// Runs inside XS: a Platform (src/ports.ts) whose clock, timers, TCP sockets, listeners, key-value
// store and log are served by the Node parent (hosts/xs/bridge/host.ts) over issueCommand. XS has no
// timers or sockets of its own, so the parent owns them and delivers their events back through
// handleCommand. Requests and their answers are synchronous for XS; events arrive as deliveries.
import type {
  Clock,
  IncomingConnection,
  KeyValueStore,
  Listener,
  ListenerOptions,
  Logger,
  Network,
  Platform,
  System,
  TcpOptions,
  TcpSocket,
  TimerId,
} from '../../../src/ports';
import { toArrayBuffer, xsnap } from '../in-xs/globals';
import { decodeFrame, encodeFrame, type Header } from './wire';

/** An error the Node side reported (socket failure, bad argument), with its code (ECONNREFUSED, ...). */
export class BridgeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
BridgeError.prototype.name = 'BridgeError';

export interface BridgeOptions {
  deviceId?: string;
  /** Seed of system.random() (a xorshift32 generator), for reproducible runs. Default 1. */
  seed?: number;
  /** What system.freeMemory() reports; XS cannot see the device's heap. Default 65536. */
  freeMemory?: number;
  config?: Record<string, unknown>;
}

/** Handles a call from the Node side (host.call(name, args)); the value returned goes back as JSON. */
type CallHandler = (args: unknown, body: Uint8Array) => unknown;

export interface XsBridge {
  platform: Platform;
  /** Registers a function the Node side can call with host.call(name, args). */
  onCall(name: string, handler: CallHandler): void;
  /** Sends a named event to the Node side (host.next(name) / host.on(name)). */
  emit(name: string, data?: unknown, body?: Uint8Array): void;
}

type Handlers = Omit<TcpOptions, 'host' | 'port' | 'tls'>;

interface SocketState {
  handlers: Handlers;
  chunks: Uint8Array[];
  buffered: number;
  closed: boolean;
  failed: boolean;
}

/** Creates the platform and installs globalThis.handleCommand. One per XS machine. */
export function startBridge(options: BridgeOptions = {}): XsBridge {
  const xs = xsnap();
  const timers = new Map<number, { callback: () => void; repeat: boolean }>();
  const sockets = new Map<number, SocketState>();
  const listeners = new Map<number, ListenerOptions>();
  const calls = new Map<string, CallHandler>();
  let nextId = 1;
  let random = (options.seed ?? 1) >>> 0 || 1;

  function request(header: Header, body?: Uint8Array): { header: Header; body: Uint8Array } {
    const answer = decodeFrame(new Uint8Array(xs.issueCommand(toArrayBuffer(encodeFrame(header, body)))));
    const error = answer.header.error as { code: string; message: string } | undefined;
    if (error) throw new BridgeError(error.code, error.message);
    return answer;
  }

  const clock: Clock = {
    now: () => request({ op: 'now' }).header.now as number,
    wallTime: () => request({ op: 'wall' }).header.wall as number | undefined,
    set(callback, ms, repeat) {
      const id = nextId++;
      timers.set(id, { callback, repeat: repeat !== undefined });
      request({ op: 'timer', id, ms, repeat });
      return id;
    },
    clear(id: TimerId) {
      if (typeof id !== 'number' || !timers.delete(id)) return;
      request({ op: 'untimer', id });
    },
  };

  function socketFor(id: number, handlers: Handlers, where: string): TcpSocket {
    const state: SocketState = { handlers, chunks: [], buffered: 0, closed: false, failed: false };
    sockets.set(id, state);
    return {
      read() {
        if (!state.buffered) return undefined;
        const out = state.chunks.length === 1 ? state.chunks[0]! : concat(state.chunks, state.buffered);
        state.chunks = [];
        state.buffered = 0;
        return out;
      },
      write(bytes) {
        if (state.closed) throw new BridgeError('ECLOSED', `TCP ${where}: write after close()`);
        if (state.failed) throw new BridgeError('ECLOSED', `TCP ${where}: write on a failed connection (onError was called)`);
        request({ op: 'write', id }, bytes);
      },
      close() {
        if (state.closed) return;
        state.closed = true;
        sockets.delete(id);
        request({ op: 'close', id });
      },
    };
  }

  const network: Network = {
    connect(o) {
      const id = nextId++;
      request({ op: 'connect', id, host: o.host, port: o.port, tls: o.tls });
      return socketFor(id, o, `${o.host}:${o.port}`);
    },
    listen(o): Listener {
      const id = nextId++;
      const { port } = request({ op: 'listen', id, port: o.port, address: o.address }).header as { port: number };
      listeners.set(id, o);
      return {
        port,
        close() {
          if (listeners.delete(id)) request({ op: 'unlisten', id });
        },
      };
    },
  };

  const storage: KeyValueStore = {
    get(key) {
      const { header, body } = request({ op: 'kv.get', key });
      if (header.type === 'string') return new TextDecoder().decode(body);
      if (header.type === 'bytes') return body.slice();
      return undefined;
    },
    set(key, value) {
      const isString = typeof value === 'string';
      request({ op: 'kv.set', key, type: isString ? 'string' : 'bytes' }, isString ? new TextEncoder().encode(value) : value);
    },
    delete(key) {
      request({ op: 'kv.delete', key });
    },
    keys: () => request({ op: 'kv.keys' }).header.keys as string[],
  };

  const system: System = {
    deviceId: () => options.deviceId ?? 'xs-device',
    restart(reason) {
      request({ op: 'restart', reason });
    },
    freeMemory: () => options.freeMemory ?? 65536,
    resetReason: () => 'power-on',
    random() {
      // xorshift32 (Marsaglia 2003): deterministic per seed, plenty for backoff jitter.
      random ^= random << 13;
      random ^= random >>> 17;
      random ^= random << 5;
      random >>>= 0;
      return random / 0x100000000;
    },
  };

  const log: Logger = { log: (level, message) => void request({ op: 'log', level, message }) };

  function onEvent(header: Header, body: Uint8Array): ArrayBuffer | undefined {
    const id = header.id as number;
    switch (header.ev) {
      case 'timer': {
        const timer = timers.get(id);
        if (!timer) return undefined; // cleared while the event was on its way
        if (!timer.repeat) timers.delete(id);
        timer.callback();
        return undefined;
      }
      case 'writable': {
        const state = sockets.get(id);
        if (state && !state.closed && !state.failed) state.handlers.onWritable?.(header.count as number);
        return undefined;
      }
      case 'readable': {
        const state = sockets.get(id);
        if (!state || state.closed || state.failed) return undefined;
        state.chunks.push(body.slice());
        state.buffered += body.length;
        state.handlers.onReadable(state.buffered);
        return undefined;
      }
      case 'error': {
        const state = sockets.get(id);
        if (!state || state.closed || state.failed) return undefined;
        state.failed = true;
        sockets.delete(id);
        state.handlers.onError(new BridgeError(header.code as string, header.message as string));
        return undefined;
      }
      case 'connection': {
        const listener = listeners.get(id);
        const connId = header.conn as number;
        if (!listener) return undefined;
        let accepted = false;
        const connection: IncomingConnection = {
          remoteAddress: header.remoteAddress as string,
          accept(handlers) {
            if (accepted) throw new BridgeError('EINVAL', 'accept() was already called for this connection');
            accepted = true;
            const socket = socketFor(connId, handlers, `${connection.remoteAddress} (incoming)`);
            request({ op: 'accept', id: connId });
            return socket;
          },
        };
        listener.onConnection(connection);
        return undefined;
      }
      case 'listen-error': {
        const listener = listeners.get(id);
        listener?.onError?.(new BridgeError(header.code as string, header.message as string));
        return undefined;
      }
      case 'call': {
        const name = header.name as string;
        const handler = calls.get(name);
        if (!handler) throw new BridgeError('EINVAL', `no call handler named "${name}" inside XS (register it with bridge.onCall)`);
        const value = handler(header.args, body);
        return toArrayBuffer(encodeFrame({ value: value === undefined ? null : value }));
      }
      default:
        throw new BridgeError('EINVAL', `unknown bridge event ${JSON.stringify(header.ev)}`);
    }
  }

  xs.handleCommand = (buffer) => {
    const { header, body } = decodeFrame(new Uint8Array(buffer));
    return onEvent(header, body);
  };

  return {
    platform: { clock, system, log, storage, network, config: options.config },
    onCall(name, handler) {
      calls.set(name, handler);
    },
    emit(name, data, body) {
      request({ op: 'emit', name, data: data === undefined ? null : data }, body);
    },
  };
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

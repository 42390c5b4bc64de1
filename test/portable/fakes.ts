// Fakes shared by the portable cases: a clock moved by hand, a socket and network that record what
// the code under test writes and feed it bytes, and a key-value store in a Map. Pure TypeScript, so
// the cases that use them run on XS too.
import type { Clock, KeyValueStore, Network, TcpOptions, TcpSocket } from '../../src/ports';
import { hex } from '../../hosts/xs/harness';

interface Timer {
  at: number;
  fn: () => void;
  repeat?: number;
}

/** Timers fire only inside advance(), in time order. */
export class VirtualClock implements Clock {
  time = 0;
  private readonly timers = new Map<number, Timer>();
  private nextId = 1;
  now(): number {
    return this.time;
  }
  wallTime(): number | undefined {
    return undefined;
  }
  set(fn: () => void, ms: number, repeat?: number): number {
    this.timers.set(this.nextId, { at: this.time + ms, fn, repeat });
    return this.nextId++;
  }
  clear(id: unknown): void {
    this.timers.delete(id as number);
  }
  advance(ms: number): void {
    const end = this.time + ms;
    for (let guard = 0; guard < 10000; guard++) {
      let next: [number, Timer] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      const [id, t] = next;
      this.time = t.at;
      if (t.repeat) t.at += t.repeat;
      else this.timers.delete(id);
      t.fn();
    }
    this.time = end;
  }
}

export const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

export class ScriptedSocket implements TcpSocket {
  private readonly writes: Uint8Array[] = [];
  private inbound: Uint8Array | undefined;
  closed = false;
  constructor(readonly options: TcpOptions) {}
  read(): Uint8Array | undefined {
    const bytes = this.inbound;
    this.inbound = undefined;
    return bytes;
  }
  write(bytes: Uint8Array): void {
    if (this.closed) throw new Error('write after close');
    this.writes.push(bytes.slice());
  }
  close(): void {
    this.closed = true;
  }
  open(): void {
    this.options.onWritable?.(4096);
  }
  receive(text: string): void {
    this.receiveBytes(hex(text));
  }
  receiveBytes(bytes: Uint8Array): void {
    this.inbound = bytes;
    this.options.onReadable(bytes.length);
  }
  sent(): string[] {
    return this.writes.splice(0).map(toHex);
  }
}

export class ScriptedNetwork implements Network {
  readonly sockets: ScriptedSocket[] = [];
  connect(options: TcpOptions): TcpSocket {
    const s = new ScriptedSocket(options);
    this.sockets.push(s);
    return s;
  }
  get last(): ScriptedSocket {
    return this.sockets[this.sockets.length - 1];
  }
}

export class MapStore implements KeyValueStore {
  readonly map = new Map<string, string | Uint8Array>();
  get(key: string) {
    return this.map.get(key);
  }
  set(key: string, value: string | Uint8Array) {
    this.map.set(key, value);
  }
  delete(key: string) {
    this.map.delete(key);
  }
  keys() {
    return Array.from(this.map.keys());
  }
}

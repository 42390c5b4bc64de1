// Network faults for one simulated device, without a proxy process per device: a Network port
// wrapper that can take the Wi-Fi link down (sockets fail, new connections are unreachable), cut
// connections (reset), stall them half-open (nothing flows either way, nobody is told), and refuse
// connections. For faults on the wire itself (delay, 1-byte fragments, duplicated segments) put
// FaultProxy (proxy.ts) between a client and its broker.
//
// Callbacks into the firmware are guarded: an exception escaping one is a firmware crash, handed
// to onPanic, and never reaches Node's event loop (where it would take every device down).
import type { Network, TcpOptions, TcpSocket } from '../../src/ports';
import { NetworkError } from '../../hosts/sim/net';

export type LinkFault = 'wifi-down' | 'refuse' | 'stall';

/** The state of one device's link to the world; it outlives reboots (the router does not care). */
export class LinkState {
  /** No Wi-Fi: nothing gets through. Set by the runner from the radio. */
  wifiUp = true;
  /** New connections are refused (e.g. an image that never reaches the broker). */
  refusing = false;
  /** Half-open: connections stay open but nothing flows, and no FIN or RST arrives. */
  stalled = false;
}

export interface FaultNetworkOptions {
  base: Network;
  link: LinkState;
  /** An exception escaped a firmware callback. */
  onPanic?: (error: unknown) => void;
  /** Runs `fn` soon, outside the caller's stack. Default setImmediate. */
  defer?: (fn: () => void) => void;
}

/** The Network port one boot of a device uses. */
export class FaultNetwork implements Network {
  // Lists, made when first needed: a device has one connection or two, and thousands of devices share a process.
  private sockets: FaultSocket[] | undefined;
  /** Closed by the firmware during a stall: the peer hears of it only when the stall ends. */
  private zombies: FaultSocket[] | undefined;
  private dead = false;
  /** The options' parts, kept as fields (the options object is not kept: one object less per boot). */
  readonly base: Network;
  readonly link: LinkState;
  private readonly onPanic: ((error: unknown) => void) | undefined;
  private readonly defer: ((fn: () => void) => void) | undefined;
  listen?: Network['listen'];
  udp?: Network['udp'];

  constructor(options: FaultNetworkOptions) {
    // every field set here, so that they all live in the object itself (V8 keeps later ones apart)
    this.sockets = undefined;
    this.zombies = undefined;
    const base = (this.base = options.base);
    this.link = options.link;
    this.onPanic = options.onPanic;
    this.defer = options.defer;
    // shared functions, not a closure per device; only what the base network can do
    this.listen = base.listen ? forwardListen : undefined;
    this.udp = base.udp ? forwardUdp : undefined;
  }

  /** Open connections of this boot. */
  get open(): number {
    return this.sockets?.length ?? 0;
  }

  connect(options: TcpOptions): TcpSocket {
    const link = this.link;
    const socket = new FaultSocket(this, options);
    if (this.dead) return socket;
    if (!link.wifiUp) socket.failSoon(new NetworkError('ENETUNREACH', `TCP ${options.host}:${options.port}: no Wi-Fi link (network unreachable)`));
    else if (link.refusing) socket.failSoon(new NetworkError('ECONNREFUSED', `TCP ${options.host}:${options.port}: connection refused`));
    else {
      if (this.sockets) this.sockets.push(socket);
      else this.sockets = [socket];
      socket.attach(this.base);
    }
    return socket;
  }

  /** Every open connection fails with a reset, as when a NAT or firewall drops it. */
  cutAll(why = 'connection reset (cut)'): number {
    const victims = this.sockets?.slice() ?? [];
    for (const s of victims) s.kill(new NetworkError('ECONNRESET', `TCP ${s.where}: ${why}`));
    return victims.length;
  }

  /** The Wi-Fi link went down: open connections fail and new ones are unreachable until it is up. */
  linkLost(): number {
    this.link.wifiUp = false;
    const victims = this.sockets?.slice() ?? [];
    for (const s of victims) s.kill(new NetworkError('ENETDOWN', `TCP ${s.where}: Wi-Fi link lost`));
    return victims.length;
  }

  /** Starts or ends a half-open stall of every connection, current and new. */
  setStalled(on: boolean): void {
    this.link.stalled = on;
    if (on) return;
    for (const s of this.sockets?.slice() ?? []) s.resume();
    const zombies = this.zombies;
    this.zombies = undefined;
    for (const z of zombies ?? []) z.bury();
  }

  /** Power is gone: sockets close without a word to the firmware, and nothing new opens. */
  shutdown(): void {
    this.dead = true;
    const all = [...(this.sockets ?? []), ...(this.zombies ?? [])];
    this.sockets = this.zombies = undefined;
    for (const s of all) s.silence();
  }

  /** @internal */
  forget(socket: FaultSocket): void {
    this.sockets = without(this.sockets, socket);
  }

  /** @internal */
  haunt(socket: FaultSocket): void {
    if (this.zombies) this.zombies.push(socket);
    else this.zombies = [socket];
  }

  /** @internal */
  exorcise(socket: FaultSocket): void {
    this.zombies = without(this.zombies, socket);
  }

  /** @internal An exception escaped a firmware callback: the device panics (or it is thrown on). */
  panic(error: unknown): void {
    if (this.onPanic) this.onPanic(error);
    else throw error;
  }

  /** @internal */
  later(fn: () => void): void {
    (this.defer ?? setImmediate)(fn);
  }

  /** @internal */
  get isDead(): boolean {
    return this.dead;
  }
}

function forwardListen(this: FaultNetwork, options: Parameters<NonNullable<Network['listen']>>[0]) {
  return this.base.listen!(options);
}

function forwardUdp(this: FaultNetwork, options: Parameters<NonNullable<Network['udp']>>[0]) {
  return this.base.udp!(options);
}

/** The list without `item` (the same list when it is not in it; undefined when nothing is left). */
function without<T>(list: T[] | undefined, item: T): T[] | undefined {
  const i = list ? list.indexOf(item) : -1;
  if (i < 0) return list;
  list!.splice(i, 1);
  return list!.length ? list : undefined;
}

/**
 * One connection: the real socket underneath, and the faults on top. It is also the handlers it
 * gives the real network (onWritable, onReadable, onError: methods, not closures, with thousands of
 * sockets per process).
 */
class FaultSocket implements TcpSocket, TcpOptions {
  private inner: TcpSocket | undefined;
  /** The firmware was told it failed, or closed it itself: no more callbacks. */
  private finished = false;
  /** Writes held back by a stall. */
  private held: Uint8Array[] | undefined;
  private pendingWritable = false;
  private pendingReadable = false;
  private pendingError: Error | undefined;

  constructor(
    private readonly net: FaultNetwork,
    private readonly options: TcpOptions,
  ) {}

  get where(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  get host(): string {
    return this.options.host;
  }

  get port(): number {
    return this.options.port;
  }

  get tls(): TcpOptions['tls'] {
    return this.options.tls;
  }

  private get stalled(): boolean {
    return this.net.link.stalled;
  }

  attach(base: Network): void {
    this.inner = base.connect(this);
  }

  /** @internal the real socket is writable */
  onWritable(count: number): void {
    if (this.finished) return;
    if (this.stalled) this.pendingWritable = true;
    else this.writable(count);
  }

  /** @internal bytes arrived on the real socket */
  onReadable(count: number): void {
    if (this.finished) return;
    if (this.stalled) this.pendingReadable = true;
    else this.readable(count);
  }

  /** @internal the real socket failed or was closed by the peer */
  onError(error: Error): void {
    this.inner = undefined;
    this.net.exorcise(this);
    if (this.finished) return;
    // A half-open link hides the peer's FIN or RST too.
    if (this.stalled) this.pendingError = error;
    else this.fail(error);
  }

  failSoon(error: Error): void {
    this.net.later(() => {
      if (!this.finished && !this.net.isDead) this.fail(error);
    });
  }

  /** Closes the real socket at once and tells the firmware `error`, outside the caller's stack. */
  kill(error: Error): void {
    this.closeInner();
    this.held = undefined;
    this.pendingError = undefined;
    this.net.forget(this);
    this.failSoon(error);
  }

  silence(): void {
    this.finished = true;
    this.closeInner();
    this.held = undefined;
  }

  /** The stall is over: the close the firmware did during it reaches the peer now. */
  bury(): void {
    this.closeInner();
  }

  resume(): void {
    if (this.finished) return;
    const inner = this.inner;
    const held = this.held;
    this.held = undefined;
    if (inner) for (const bytes of held ?? []) this.safeWrite(inner, bytes);
    if (this.pendingWritable) {
      this.pendingWritable = false;
      this.writable(1);
    }
    if (this.finished) return;
    if (this.pendingReadable) {
      this.pendingReadable = false;
      this.readable(1);
    }
    if (this.finished) return;
    if (this.pendingError) {
      const error = this.pendingError;
      this.pendingError = undefined;
      this.fail(error);
    }
  }

  read(): Uint8Array | undefined {
    if (this.stalled || this.finished) return undefined;
    return this.inner?.read();
  }

  write(bytes: Uint8Array): void {
    if (this.finished) throw new NetworkError('ECLOSED', `TCP ${this.where}: write after close()`);
    const inner = this.inner;
    if (!inner) return; // failing: the error callback is on its way
    if (!this.stalled) this.safeWrite(inner, bytes);
    else if (this.held) this.held.push(bytes.slice());
    else this.held = [bytes.slice()];
  }

  close(): void {
    if (this.finished) return;
    this.finished = true;
    this.held = undefined;
    this.net.forget(this);
    if (this.stalled && this.inner) this.net.haunt(this);
    else this.closeInner();
  }

  private fail(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.net.forget(this);
    this.closeInner();
    try {
      this.options.onError(error);
    } catch (thrown) {
      this.net.panic(thrown);
    }
  }

  // The firmware's callbacks, guarded (no closure per event: thousands of sockets, every message).
  private writable(count: number): void {
    try {
      this.options.onWritable?.(count);
    } catch (error) {
      this.net.panic(error);
    }
  }

  private readable(count: number): void {
    try {
      this.options.onReadable(count);
    } catch (error) {
      this.net.panic(error);
    }
  }

  private safeWrite(inner: TcpSocket, bytes: Uint8Array): void {
    try {
      inner.write(bytes);
    } catch {
      // the real socket failed; its onError tells the firmware
    }
  }

  private closeInner(): void {
    const inner = this.inner;
    this.inner = undefined;
    try {
      inner?.close();
    } catch {
      // already closed
    }
  }
}

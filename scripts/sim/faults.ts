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
  private readonly sockets = new Set<FaultSocket>();
  /** Closed by the firmware during a stall: the peer hears of it only when the stall ends. */
  private readonly zombies = new Set<FaultSocket>();
  private readonly defer: (fn: () => void) => void;
  private dead = false;

  constructor(readonly options: FaultNetworkOptions) {
    this.defer = options.defer ?? setImmediate;
    const base = options.base;
    if (base.listen) this.listen = (o) => base.listen!(o);
    if (base.udp) this.udp = (o) => base.udp!(o);
  }

  listen?: Network['listen'];
  udp?: Network['udp'];

  get link(): LinkState {
    return this.options.link;
  }

  /** Open connections of this boot. */
  get open(): number {
    return this.sockets.size;
  }

  connect(options: TcpOptions): TcpSocket {
    const link = this.options.link;
    const socket = new FaultSocket(this, options);
    if (this.dead) return socket;
    if (!link.wifiUp) socket.failSoon(new NetworkError('ENETUNREACH', `TCP ${options.host}:${options.port}: no Wi-Fi link (network unreachable)`));
    else if (link.refusing) socket.failSoon(new NetworkError('ECONNREFUSED', `TCP ${options.host}:${options.port}: connection refused`));
    else {
      this.sockets.add(socket);
      socket.attach(this.options.base);
    }
    return socket;
  }

  /** Every open connection fails with a reset, as when a NAT or firewall drops it. */
  cutAll(why = 'connection reset (cut)'): number {
    const victims = [...this.sockets];
    for (const s of victims) s.kill(new NetworkError('ECONNRESET', `TCP ${s.where}: ${why}`));
    return victims.length;
  }

  /** The Wi-Fi link went down: open connections fail and new ones are unreachable until it is up. */
  linkLost(): number {
    this.options.link.wifiUp = false;
    const victims = [...this.sockets];
    for (const s of victims) s.kill(new NetworkError('ENETDOWN', `TCP ${s.where}: Wi-Fi link lost`));
    return victims.length;
  }

  /** Starts or ends a half-open stall of every connection, current and new. */
  setStalled(on: boolean): void {
    this.options.link.stalled = on;
    if (on) return;
    for (const s of [...this.sockets]) s.resume();
    for (const z of [...this.zombies]) z.bury();
    this.zombies.clear();
  }

  /** Power is gone: sockets close without a word to the firmware, and nothing new opens. */
  shutdown(): void {
    this.dead = true;
    for (const s of [...this.sockets, ...this.zombies]) s.silence();
    this.sockets.clear();
    this.zombies.clear();
  }

  /** @internal */
  forget(socket: FaultSocket): void {
    this.sockets.delete(socket);
  }

  /** @internal */
  haunt(socket: FaultSocket): void {
    this.zombies.add(socket);
  }

  /** @internal */
  exorcise(socket: FaultSocket): void {
    this.zombies.delete(socket);
  }

  /** @internal */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      if (this.options.onPanic) this.options.onPanic(error);
      else throw error;
    }
  }

  /** @internal */
  later(fn: () => void): void {
    this.defer(fn);
  }

  /** @internal */
  get isDead(): boolean {
    return this.dead;
  }
}

/** One connection: the real socket underneath, and the faults on top. */
class FaultSocket implements TcpSocket {
  readonly where: string;
  private inner: TcpSocket | undefined;
  /** The firmware was told it failed, or closed it itself: no more callbacks. */
  private finished = false;
  private held: Uint8Array[] = [];
  private pendingWritable = false;
  private pendingReadable = false;
  private pendingError: Error | undefined;

  constructor(
    private readonly net: FaultNetwork,
    private readonly options: TcpOptions,
  ) {
    this.where = `${options.host}:${options.port}`;
  }

  private get stalled(): boolean {
    return this.net.link.stalled;
  }

  attach(base: Network): void {
    this.inner = base.connect(new Upstream(this, this.options));
  }

  /** @internal the real socket is writable */
  upWritable(count: number): void {
    if (this.finished) return;
    if (this.stalled) this.pendingWritable = true;
    else this.net.guard(() => this.options.onWritable?.(count));
  }

  /** @internal bytes arrived on the real socket */
  upReadable(count: number): void {
    if (this.finished) return;
    if (this.stalled) this.pendingReadable = true;
    else this.net.guard(() => this.options.onReadable(count));
  }

  /** @internal the real socket failed or was closed by the peer */
  upError(error: Error): void {
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
    this.held = [];
    this.pendingError = undefined;
    this.net.forget(this);
    this.failSoon(error);
  }

  silence(): void {
    this.finished = true;
    this.closeInner();
    this.held = [];
  }

  /** The stall is over: the close the firmware did during it reaches the peer now. */
  bury(): void {
    this.closeInner();
  }

  resume(): void {
    if (this.finished) return;
    const inner = this.inner;
    if (inner) for (const bytes of this.held.splice(0)) this.safeWrite(inner, bytes);
    if (this.pendingWritable) {
      this.pendingWritable = false;
      this.net.guard(() => this.options.onWritable?.(1));
    }
    if (this.finished) return;
    if (this.pendingReadable) {
      this.pendingReadable = false;
      this.net.guard(() => this.options.onReadable(1));
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
    if (this.stalled) this.held.push(bytes.slice());
    else this.safeWrite(inner, bytes);
  }

  close(): void {
    if (this.finished) return;
    this.finished = true;
    this.held = [];
    this.net.forget(this);
    if (this.stalled && this.inner) this.net.haunt(this);
    else this.closeInner();
  }

  private fail(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.net.forget(this);
    this.closeInner();
    this.net.guard(() => this.options.onError(error));
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

/** The handlers given to the real network: methods, not closures (thousands of sockets per process). */
class Upstream implements TcpOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: TcpOptions['tls'];

  constructor(
    private readonly socket: FaultSocket,
    options: TcpOptions,
  ) {
    this.host = options.host;
    this.port = options.port;
    this.tls = options.tls;
  }

  onWritable(count: number): void {
    this.socket.upWritable(count);
  }

  onReadable(count: number): void {
    this.socket.upReadable(count);
  }

  onError(error: Error): void {
    this.socket.upError(error);
  }
}

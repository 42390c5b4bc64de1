// A loopback TCP proxy that injects network faults between a client and a server: cut
// connections, half-open stalls, refused connections, delay, 1-byte fragmentation, duplication.
import net from 'node:net';

export type Direction = 'both' | 'toServer' | 'toClient';

export interface FaultProxyOptions {
  targetHost: string;
  targetPort: number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port to listen on. Default 0 (a free one). */
  port?: number;
}

interface Faults {
  delayMs: number;
  fragment: boolean;
  /** Pause between the 1-byte writes of fragment mode, so each byte arrives as its own read. */
  fragmentGapMs: number;
  duplicate: boolean;
}

const wants = (direction: Direction, toServer: boolean) => direction === 'both' || (direction === 'toServer') === toServer;

/** One direction of one connection: an ordered queue that honours delay/stall/fragment/duplicate. */
class Pipe {
  private readonly queue: { bytes: Buffer; due: number }[] = [];
  private busy = false;
  private timer: NodeJS.Timeout | undefined;
  private ending = false;
  bytes = 0;

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly faults: Faults,
    private readonly stalled: () => boolean,
  ) {
    from.on('data', (chunk: Buffer) => {
      this.queue.push({ bytes: chunk, due: Date.now() + this.faults.delayMs });
      this.pump();
    });
    from.on('end', () => {
      this.ending = true;
      this.pump();
    });
  }

  pump(): void {
    if (this.busy || this.to.destroyed) return;
    if (this.stalled()) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0) {
      const head = this.queue[0];
      const wait = head.due - Date.now();
      if (wait > 0) {
        this.timer = setTimeout(() => this.pump(), wait);
        return;
      }
      if (this.faults.fragment) {
        const byte = head.bytes.subarray(0, 1);
        head.bytes = head.bytes.subarray(1);
        if (head.bytes.length === 0) this.queue.shift();
        this.busy = true;
        this.send(byte, () => {
          this.timer = setTimeout(() => {
            this.busy = false;
            this.pump();
          }, this.faults.fragmentGapMs);
        });
        return;
      }
      this.queue.shift();
      this.send(head.bytes);
    }
    if (this.ending && !this.to.destroyed) this.to.end();
  }

  private send(bytes: Buffer, written?: () => void): void {
    const copies = this.faults.duplicate ? 2 : 1;
    for (let i = 1; i <= copies; i++) this.to.write(bytes, i === copies ? written : undefined);
    this.bytes += bytes.length * copies;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

class Connection {
  readonly toServer: Pipe;
  readonly toClient: Pipe;

  constructor(
    readonly client: net.Socket,
    readonly server: net.Socket,
    proxy: { toServer: Faults; toClient: Faults; stalled: () => boolean },
    onClosed: () => void,
  ) {
    this.toServer = new Pipe(client, server, proxy.toServer, proxy.stalled);
    this.toClient = new Pipe(server, client, proxy.toClient, proxy.stalled);
    let closed = false;
    const close = (hadError: boolean) => {
      if (closed) return;
      closed = true;
      this.toServer.stop();
      this.toClient.stop();
      // An error on one side is passed on as a reset; a clean close was already relayed as FIN.
      for (const s of [client, server]) if (hadError && !s.destroyed) s.resetAndDestroy();
      onClosed();
    };
    for (const s of [client, server]) {
      s.on('error', () => close(true));
      s.on('close', (hadError) => {
        if (hadError) close(true);
        else if (client.destroyed && server.destroyed) close(false);
        else if (s.destroyed) (s === client ? server : client).end();
      });
    }
  }

  setPaused(paused: boolean): void {
    for (const s of [this.client, this.server]) if (paused) s.pause();
    else s.resume();
    if (!paused) {
      this.toServer.pump();
      this.toClient.pump();
    }
  }

  cut(): void {
    for (const s of [this.client, this.server]) if (!s.destroyed) s.resetAndDestroy();
  }
}

export class FaultProxy {
  private readonly live = new Set<Connection>();
  private readonly toServer: Faults = { delayMs: 0, fragment: false, fragmentGapMs: 2, duplicate: false };
  private readonly toClient: Faults = { delayMs: 0, fragment: false, fragmentGapMs: 2, duplicate: false };
  private stalled = false;
  private refusing = false;
  private closed = false;
  /** Connections accepted since start (refused ones included). */
  accepted = 0;
  /** Bytes forwarded by closed connections; see bytesToServer/bytesToClient. */
  private pastToServer = 0;
  private pastToClient = 0;

  private constructor(
    private readonly server: net.Server,
    private readonly options: FaultProxyOptions,
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    const proxy = new FaultProxy(server, options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Live proxied connections. */
  get connections(): number {
    return this.live.size;
  }

  get bytesToServer(): number {
    let n = this.pastToServer;
    for (const c of this.live) n += c.toServer.bytes;
    return n;
  }

  get bytesToClient(): number {
    let n = this.pastToClient;
    for (const c of this.live) n += c.toClient.bytes;
    return n;
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    if (this.refusing || this.closed) {
      client.destroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = net.connect({ host: this.options.targetHost, port: this.options.targetPort, noDelay: true, allowHalfOpen: true });
    const connection = new Connection(client, upstream, { toServer: this.toServer, toClient: this.toClient, stalled: () => this.stalled }, () => {
      this.pastToServer += connection.toServer.bytes;
      this.pastToClient += connection.toClient.bytes;
      this.live.delete(connection);
    });
    this.live.add(connection);
    if (this.stalled) connection.setPaused(true);
  }

  /** Destroys every current connection abruptly (TCP RST to both sides). */
  cutAll(): void {
    for (const c of [...this.live]) c.cut();
  }

  /** Half-open link: nothing is forwarded either way while on; sockets stay open. Queued data flows on resume. */
  stall(on: boolean): void {
    this.stalled = on;
    for (const c of this.live) c.setPaused(on);
  }

  /** While on, new connections are accepted and immediately closed. */
  refuse(on: boolean): void {
    this.refusing = on;
  }

  /** Holds every chunk for ms before forwarding it (order kept). */
  delay(ms: number, direction: Direction = 'both'): void {
    for (const f of this.faultsFor(direction)) f.delayMs = Math.max(0, ms);
  }

  /** Forwards one byte per write, with gapMs between bytes so each arrives as its own read. */
  fragment(on: boolean, direction: Direction = 'both', gapMs = 2): void {
    for (const f of this.faultsFor(direction)) {
      f.fragment = on;
      f.fragmentGapMs = gapMs;
    }
  }

  /** Forwards every chunk twice. */
  duplicate(on: boolean, direction: Direction = 'both'): void {
    for (const f of this.faultsFor(direction)) f.duplicate = on;
  }

  /** Clears every fault (stall, refuse, delay, fragment, duplicate). */
  heal(): void {
    this.refuse(false);
    this.delay(0);
    this.fragment(false);
    this.duplicate(false);
    this.stall(false);
  }

  private faultsFor(direction: Direction): Faults[] {
    const out: Faults[] = [];
    if (wants(direction, true)) out.push(this.toServer);
    if (wants(direction, false)) out.push(this.toClient);
    return out;
  }

  /** Stops listening and cuts every connection. */
  close(): Promise<void> {
    this.closed = true;
    this.cutAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// The simulator's own MQTT broker (aedes, in this process) on a loopback port, so `npm start` needs
// nothing installed. restart() is the broker-restart fault: every connection drops, the port
// refuses for a while, then a new broker instance listens on the same port with the same retained
// messages and stored sessions (like a broker with persistence coming back).
import net from 'node:net';
import { listen, listenWithFallback } from './listen';
import { Aedes } from 'aedes';

export interface EmbeddedBrokerOptions {
  /** Default 1883; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** When the port is taken, use a free one instead of failing. Default false. */
  fallbackToFreePort?: boolean;
}

export class BrokerStartError extends Error {
  override name = 'BrokerStartError';
  constructor(
    readonly code: 'EADDRINUSE' | 'EACCES' | 'EIO',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class EmbeddedBroker {
  /** Broker restarts so far. */
  restarts = 0;
  private aedes: Aedes;
  private server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private up = true;
  private stopped = false;
  /** Kept across restarts: retained messages, sessions, queued QoS 1/2 messages. */
  private readonly persistence: unknown;

  private constructor(
    aedes: Aedes,
    server: net.Server,
    readonly host: string,
    readonly port: number,
    /** The port asked for, when a free one was used instead. */
    readonly requestedPort: number | undefined,
  ) {
    this.aedes = aedes;
    this.server = server;
    this.persistence = (aedes as unknown as { persistence: unknown }).persistence;
    this.track(server);
  }

  static async start(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
    const host = options.host ?? '127.0.0.1';
    const wanted = options.port ?? 1883;
    const aedes = await Aedes.createBroker();
    let started: Awaited<ReturnType<typeof listenWithFallback<net.Server>>>;
    try {
      started = await listenWithFallback(() => net.createServer(aedes.handle), wanted, host, options.fallbackToFreePort);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      await new Promise<void>((r) => aedes.close(() => r()));
      if (code === 'EADDRINUSE') throw new BrokerStartError('EADDRINUSE', `port ${wanted} on ${host} is in use (another MQTT broker?): pass --port 0 for a free port, or --broker mqtt://${host}:${wanted} to use that broker`, { cause: error });
      if (code === 'EACCES') throw new BrokerStartError('EACCES', `no permission to listen on port ${wanted}: use a port above 1023`, { cause: error });
      throw new BrokerStartError('EIO', `the embedded broker could not listen on ${host}:${wanted}: ${(error as Error).message}`, { cause: error });
    }
    const { server, port, requested } = started;
    return new EmbeddedBroker(aedes, server, host, port, requested);
  }

  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
  }

  get running(): boolean {
    return this.up;
  }

  /** Clients connected right now. */
  get clients(): number {
    return this.up ? this.aedes.connectedClients : 0;
  }

  /**
   * Drops every connection and stops listening (connections are refused), then after `downMs`
   * starts a new broker instance on the same port with the stored retained messages and sessions.
   */
  async restart(downMs = 1000): Promise<void> {
    if (this.stopped) throw new Error('the broker was stopped; it cannot restart');
    if (!this.up) return;
    await this.halt();
    await new Promise((r) => setTimeout(r, downMs));
    if (this.stopped) return;
    const aedes = await Aedes.createBroker({ persistence: this.persistence });
    const server = net.createServer(aedes.handle);
    // Another process may grab the port in between; try a few times.
    for (let attempt = 0; ; attempt++) {
      try {
        await listen(server, this.port, this.host);
        break;
      } catch (error) {
        if (attempt >= 20 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
          await new Promise<void>((r) => aedes.close(() => r()));
          throw new BrokerStartError('EIO', `the embedded broker could not listen again on ${this.host}:${this.port}: ${(error as Error).message}`, { cause: error });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.aedes = aedes;
    this.server = server;
    this.track(server);
    this.up = true;
    this.restarts++;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.up) await this.halt();
  }

  private track(server: net.Server): void {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  private async halt(): Promise<void> {
    this.up = false;
    const server = this.server;
    const closed = new Promise<void>((r) => server.close(() => r()));
    // An abrupt end, as when the broker process dies: no DISCONNECT, the sockets just close.
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((r) => this.aedes.close(() => r()));
    await closed;
  }
}

// The dashboard's web server on a loopback port: one self-contained page, a JSON snapshot, and a
// Server-Sent Events stream (a full snapshot on connect, then the changed rows twice a second).
import http from 'node:http';
import { listenWithFallback } from '../listen';
import type { DeviceRow, FleetModel } from './model';
import { dashboardPage } from './page';

export interface DashboardOptions {
  model: FleetModel;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Loopback only: the page has no authentication. */
  host?: string;
  /** When the port is taken, use a free one instead of failing. Default false. */
  fallbackToFreePort?: boolean;
  /** Rows sent to the page at most (the summary counts all). Default 300. */
  maxRows?: number;
  /** Ms between pushed updates. Default 500. */
  pushMs?: number;
}

export class DashboardError extends Error {
  override name = 'DashboardError';
  constructor(
    readonly code: 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'EIO',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export class Dashboard {
  private readonly clients = new Set<http.ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private readonly maxRows: number;

  private constructor(
    private readonly server: http.Server,
    private readonly model: FleetModel,
    readonly host: string,
    readonly port: number,
    readonly requestedPort: number | undefined,
    options: DashboardOptions,
  ) {
    this.maxRows = options.maxRows ?? 300;
    this.timer = setInterval(() => this.push(), options.pushMs ?? 500);
    this.timer.unref();
    this.keepAlive = setInterval(() => this.broadcast(': keep-alive\n\n'), 15_000);
    this.keepAlive.unref();
  }

  static async start(options: DashboardOptions): Promise<Dashboard> {
    const host = options.host ?? '127.0.0.1';
    if (!LOOPBACK.has(host)) throw new DashboardError('EADDRNOTAVAIL', `the dashboard listens on loopback only (127.0.0.1 or ::1), not ${host}: it has no authentication`);
    const wanted = options.port ?? 8080;
    let holder: Dashboard | undefined;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => holder?.handle(req, res);
    let started: Awaited<ReturnType<typeof listenWithFallback<http.Server>>>;
    try {
      started = await listenWithFallback(() => http.createServer(handler), wanted, host, options.fallbackToFreePort);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new DashboardError('EADDRINUSE', `port ${wanted} is in use: pass --dashboard-port 0 for a free port, or another number`, { cause: error });
      }
      throw new DashboardError('EIO', `the dashboard could not listen on ${host}:${wanted}: ${(error as Error).message}`, { cause: error });
    }
    const { server, port, requested } = started;
    holder = new Dashboard(server, options.model, host, port, requested, options);
    return holder;
  }

  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}/`;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.keepAlive);
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET\n');
      return;
    }
    if (path === '/') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
      });
      res.end(dashboardPage(this.model.prefix));
    } else if (path === '/api/snapshot') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(this.model.snapshot(this.maxRows)));
    } else if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(`retry: 1000\nevent: snapshot\ndata: ${JSON.stringify(this.model.snapshot(this.maxRows))}\n\n`);
      this.clients.add(res);
      req.on('close', () => this.clients.delete(res));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /\n');
    }
  }

  private push(): void {
    this.model.refreshStale(); // a device turns stale by staying silent: no message marks it
    const ids = this.model.takeDirty();
    if (!ids.length || !this.clients.size) return;
    const snapshot = this.model.snapshot(0);
    const shown = new Set(this.model.list().slice(0, this.maxRows).map((r) => r.id));
    const rows: DeviceRow[] = [];
    const removed: string[] = [];
    for (const id of ids) {
      const row = this.model.get(id);
      if (!row) removed.push(id);
      else if (shown.has(id)) rows.push(row);
    }
    const update = { at: snapshot.at, online: snapshot.online, stale: snapshot.stale, total: snapshot.total, campaign: snapshot.campaign, rows, removed };
    this.broadcast(`event: update\ndata: ${JSON.stringify(update)}\n\n`);
  }

  private broadcast(text: string): void {
    for (const res of this.clients) res.write(text);
  }
}


// An image server for simulator tests: serves byte arrays over HTTP/1.1 with Range support, and
// injects faults per request (truncate, corrupt a byte, stall, chunked coding, ignore Range, error
// status) so the device's download path meets what real networks and servers do.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface ImageFault {
  /** Close the connection after this many body bytes of the response. */
  truncateAfter?: number;
  /** Flip every bit of the byte at this image offset (when this response covers it). */
  corruptAt?: number;
  /** Send this many body bytes, then nothing more while keeping the connection open. */
  stallAfter?: number;
  /** Chunked transfer coding instead of Content-Length. */
  chunked?: boolean;
  /** Answer 200 with the whole image even when a Range was asked for. */
  ignoreRange?: boolean;
  /** Answer with this status and an empty body. */
  status?: number;
}

interface ServedRequest {
  path: string;
  /** First byte asked for with Range, if any. */
  from?: number;
  status: number;
  /** Number of this request among those for the same path, from 1. */
  n: number;
}

export interface SimHttpServerOptions {
  files?: Record<string, Uint8Array>;
  host?: string;
  port?: number;
  fault?(request: { path: string; from?: number; n: number }): ImageFault | undefined;
  /** PEM key and certificate: serve HTTPS instead of HTTP. */
  tls?: { key: string; cert: string };
}

export interface SimHttpServer {
  readonly port: number;
  readonly requests: ServedRequest[];
  url(path: string): string;
  setFile(path: string, bytes: Uint8Array): void;
  close(): Promise<void>;
}

export async function startSimHttpServer(options: SimHttpServerOptions = {}): Promise<SimHttpServer> {
  const files = new Map(Object.entries(options.files ?? {}));
  const requests: ServedRequest[] = [];
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const host = options.host ?? '127.0.0.1';

  const handler: http.RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const n = (counts.get(path) ?? 0) + 1;
    counts.set(path, n);
    const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
    const from = range ? Number(range[1]) : undefined;
    const fault = options.fault?.({ path, from, n }) ?? {};
    const file = files.get(path);
    const answer = (status: number, headers: Record<string, string | number> = {}, body?: Uint8Array) => {
      requests.push({ path, from, status, n });
      res.writeHead(status, headers);
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, { allow: 'GET, HEAD' });
    if (fault.status) return answer(fault.status, { 'content-length': 0 });
    if (!file) return answer(404, { 'content-length': 0 });
    let start = 0;
    if (from !== undefined && !fault.ignoreRange) {
      if (from >= file.length) return answer(416, { 'content-range': `bytes */${file.length}`, 'content-length': 0 });
      start = from;
    }
    let body = file.subarray(start);
    if (fault.corruptAt !== undefined && fault.corruptAt >= start && fault.corruptAt < file.length) {
      body = body.slice();
      body[fault.corruptAt - start] ^= 0xff;
    }
    const status = start > 0 ? 206 : 200;
    const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
    if (status === 206) headers['content-range'] = `bytes ${start}-${file.length - 1}/${file.length}`;
    if (!fault.chunked) headers['content-length'] = body.length;
    requests.push({ path, from, status, n });
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return res.end();
    const cut = fault.truncateAfter ?? fault.stallAfter;
    if (cut === undefined || cut >= body.length) return res.end(body);
    res.write(body.subarray(0, cut), () => {
      if (fault.truncateAfter !== undefined) res.socket?.destroy();
    });
  };
  const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    requests,
    url: (path) => `${options.tls ? 'https' : 'http'}://${host}:${port}${path}`,
    setFile: (path, bytes) => void files.set(path, bytes),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// The rollout's own HTTP server: serves the campaign's image (GET and HEAD, with Range so devices
// resume interrupted downloads) and nothing else.
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FleetError } from './errors';

export interface ImageServer {
  readonly port: number;
  readonly host: string;
  /** Requests served, and body bytes sent. */
  readonly stats: { requests: number; bytes: number; ranges: number };
  close(): Promise<void>;
}

export async function serveImage(options: { file: string; path: string; host: string; port: number }): Promise<ImageServer> {
  const size = statSync(options.file).size;
  const stats = { requests: 0, bytes: 0, ranges: 0 };
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    stats.requests++;
    if ((req.url ?? '').split('?')[0] !== options.path) return void res.writeHead(404, { 'content-length': 0 }).end();
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 }).end();
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
    if (range) {
      start = Number(range[1]);
      if (start >= size) return void res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-length': 0 }).end();
      stats.ranges++;
    }
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', 'content-length': size - start };
    if (start > 0) headers['content-range'] = `bytes ${start}-${size - 1}/${size}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    if (req.method === 'HEAD') return void res.end();
    const stream = createReadStream(options.file, { start, highWaterMark: 16 * 1024 });
    stream.on('data', (chunk) => (stats.bytes += chunk.length));
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new FleetError('io', `cannot serve the image on ${options.host}:${options.port}: ${error.message}${error.code === 'EADDRINUSE' ? ' (the port is taken: is another rollout running?)' : ''}`)),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    host: options.host,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

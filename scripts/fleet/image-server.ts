// The rollout's own HTTP server: serves the campaign's image (GET and HEAD, with Range so devices
// resume interrupted downloads) and nothing else.
//
// A fleet asks for the image all at once when a stage starts: at most `concurrency` responses are
// sent at a time, the other requests wait their turn in arrival order, and one that waited
// `queueTimeout` ms is answered 503 with Retry-After (the firmware retries a 503 after a pause,
// without counting it as a broken download). The wait stays below the firmware's stall timeout
// (15 s), so a queued device never gives up on a silent server. The image is served from memory.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FleetError } from './errors';

/** Responses sent at once, by default. */
export const DEFAULT_CONCURRENCY = 64;
/** Ms a request may wait for its turn before it is answered 503, by default. */
export const DEFAULT_QUEUE_TIMEOUT = 10_000;
/** Seconds a device is asked to wait before it asks again (Retry-After of a 503). */
const RETRY_AFTER_S = 2;

export interface ImageServerStats {
  /** Requests received (any path and method). */
  requests: number;
  /** Body bytes sent. */
  bytes: number;
  /** Requests for a part of the image (Range), i.e. resumed downloads. */
  ranges: number;
  /** Requests answered 503 after waiting `queueTimeout`. */
  busy: number;
  /** Most responses in progress at once. */
  peakConcurrent: number;
  /** Most requests waiting at once. */
  peakQueued: number;
  /** Ms during which at least one response was in progress (throughput = bytes / active time). */
  activeMs: number;
}

export interface ImageServer {
  readonly port: number;
  readonly host: string;
  readonly stats: ImageServerStats;
  close(): Promise<void>;
}

export interface ImageServerOptions {
  file: string;
  path: string;
  host: string;
  port: number;
  /** Responses sent at once. Default DEFAULT_CONCURRENCY. */
  concurrency?: number;
  /** Ms a request waits for its turn before a 503. Default DEFAULT_QUEUE_TIMEOUT. */
  queueTimeout?: number;
}

/** "bytes=N-" or "bytes=N-M" (one range; what a resuming download asks for), as [start, end] inclusive. */
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d+)-(\d*)$/.exec(String(header ?? '').trim());
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(size - 1, Number(m[2]));
  if (start >= size || end < start) return 'unsatisfiable';
  return [start, end];
}

export async function serveImage(options: ImageServerOptions): Promise<ImageServer> {
  const image = readFileSync(options.file);
  const size = image.length;
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  const queueTimeout = options.queueTimeout ?? DEFAULT_QUEUE_TIMEOUT;
  const stats: ImageServerStats = { requests: 0, bytes: 0, ranges: 0, busy: 0, peakConcurrent: 0, peakQueued: 0, activeMs: 0 };
  const sockets = new Set<Socket>();
  const queue: { send: () => void; timer: NodeJS.Timeout }[] = [];
  let sending = 0;
  let activeSince = 0;

  const finished = () => {
    sending--;
    if (sending === 0) stats.activeMs += performance.now() - activeSince;
    const next = queue.shift();
    if (next) {
      clearTimeout(next.timer);
      next.send();
    }
  };

  const server = http.createServer((req, res) => {
    stats.requests++;
    if ((req.url ?? '').split('?')[0] !== options.path) return void res.writeHead(404, { 'content-length': 0 }).end();
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 }).end();
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') return void res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-length': 0 }).end();
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
    if (req.method === 'HEAD') return void res.writeHead(200, { ...headers, 'content-length': size }).end();
    const send = () => {
      if (res.destroyed) return;
      if (sending === 0) activeSince = performance.now();
      sending++;
      stats.peakConcurrent = Math.max(stats.peakConcurrent, sending);
      let done = false;
      const end = () => {
        if (done) return;
        done = true;
        finished();
      };
      res.once('close', end);
      const [start, last] = range ?? [0, size - 1];
      if (range) {
        stats.ranges++;
        headers['content-range'] = `bytes ${start}-${last}/${size}`;
      }
      res.writeHead(range ? 206 : 200, { ...headers, 'content-length': last - start + 1 });
      const body = image.subarray(start, last + 1);
      res.end(body, () => (stats.bytes += body.length));
    };
    if (sending < concurrency) return send();
    const waiting = {
      send,
      timer: setTimeout(() => {
        const i = queue.indexOf(waiting);
        if (i >= 0) queue.splice(i, 1);
        stats.busy++;
        res.writeHead(503, { 'retry-after': String(RETRY_AFTER_S), 'content-length': 0 }).end();
      }, queueTimeout),
    };
    queue.push(waiting);
    stats.peakQueued = Math.max(stats.peakQueued, queue.length);
    // a device that gave up while waiting leaves the queue
    req.socket.once('close', () => {
      const i = queue.indexOf(waiting);
      if (i >= 0) {
        queue.splice(i, 1);
        clearTimeout(waiting.timer);
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new FleetError('io', `cannot serve the image on ${options.host}:${options.port}: ${error.message}${error.code === 'EADDRINUSE' ? ' (the port is taken: is another rollout running?)' : ''}`)),
    );
    server.listen({ port: options.port, host: options.host, backlog: 4096 }, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    host: options.host,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const w of queue.splice(0)) clearTimeout(w.timer);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

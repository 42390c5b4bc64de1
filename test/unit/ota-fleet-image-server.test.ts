// The rollout's image server at fleet scale: at most `concurrency` downloads at once, the others in
// line (a 503 with Retry-After when one waits too long), Range for resumed downloads, and counts of
// what it did.
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRange, serveImage, type ImageServer } from '../../scripts/fleet/image-server';

const servers: ImageServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function imageFile(size: number): { file: string; bytes: Buffer } {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + 3) & 0xff;
  const file = join(mkdtempSync(join(tmpdir(), 'image-server-')), 'image.bin');
  writeFileSync(file, bytes);
  return { file, bytes };
}

function get(port: number, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/img.bin', headers, agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (b: Buffer) => parts.push(b));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
      })
      .on('error', reject);
  });
}

describe('the rollout image server', () => {
  it('parses the ranges a resuming download asks for', () => {
    expect(parseRange('bytes=100-', 1000)).toEqual([100, 999]);
    expect(parseRange('bytes=100-199', 1000)).toEqual([100, 199]);
    expect(parseRange('bytes=900-5000', 1000)).toEqual([900, 999]);
    expect(parseRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=5-2', 1000)).toBe('unsatisfiable');
    expect(parseRange(undefined, 1000)).toBeUndefined();
    expect(parseRange('items=1-2', 1000)).toBeUndefined();
  });

  it('serves many devices at once, never more than its concurrency, every one the whole image', async () => {
    const { file, bytes } = imageFile(300_000);
    const server = await serveImage({ file, path: '/img.bin', host: '127.0.0.1', port: 0, concurrency: 3 });
    servers.push(server);
    const replies = await Promise.all(Array.from({ length: 20 }, () => get(server.port)));
    for (const r of replies) {
      expect(r.status).toBe(200);
      expect(r.body.equals(bytes)).toBe(true);
    }
    expect(server.stats.peakConcurrent).toBeLessThanOrEqual(3);
    expect(server.stats.peakConcurrent).toBeGreaterThan(0);
    expect(server.stats.requests).toBe(20);
    expect(server.stats.bytes).toBe(20 * bytes.length);
    expect(server.stats.activeMs).toBeGreaterThan(0);
  });

  it('resumes with Range: 206 with the rest of the image and its Content-Range; 416 past the end', async () => {
    const { file, bytes } = imageFile(50_000);
    const server = await serveImage({ file, path: '/img.bin', host: '127.0.0.1', port: 0 });
    servers.push(server);
    const part = await get(server.port, { Range: 'bytes=20000-' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe('bytes 20000-49999/50000');
    expect(part.body.equals(bytes.subarray(20000))).toBe(true);
    expect((await get(server.port, { Range: 'bytes=50000-' })).status).toBe(416);
    expect(server.stats.ranges).toBe(1);
  });

  it('a request that waits longer than queueTimeout for its turn is told to come back (503, Retry-After)', async () => {
    // larger than the socket buffers: a device that does not read holds its download open
    const { file } = imageFile(32 * 1024 * 1024);
    const server = await serveImage({ file, path: '/img.bin', host: '127.0.0.1', port: 0, concurrency: 1, queueTimeout: 200 });
    servers.push(server);
    const stuck = net.connect(server.port, '127.0.0.1');
    stuck.pause();
    stuck.write('GET /img.bin HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    const waited = await get(server.port);
    expect(waited.status).toBe(503);
    expect(waited.headers['retry-after']).toBe('2');
    expect(server.stats.busy).toBe(1);
    expect(server.stats.peakQueued).toBe(1);
    stuck.destroy();
    await new Promise((r) => setTimeout(r, 50));
    // the slot is free again
    expect((await get(server.port, { Range: 'bytes=33554000-' })).status).toBe(206);
  });
});

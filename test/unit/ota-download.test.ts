// The device's download path (src/ota/download.ts over the sim TCP/TLS port) against a real HTTP
// server that misbehaves on purpose, writing into the simulator's flash slots.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bootSim, buildSimImage, checkSimImage } from '../../hosts/sim/bootloader';
import { RealClock } from '../../hosts/sim/clock';
import { SimFlash } from '../../hosts/sim/flash';
import { startSimHttpServer, type ImageFault, type SimHttpServer } from '../helpers/image-server';
import { createNodeNetwork } from '../../hosts/sim/net';
import { Sha256 } from '../../src/crypto/sha256';
import { Download, type DownloadOptions } from '../../src/ota/download';
import type { OtaError } from '../../src/ota/errors';
import { generateTestCertificates } from '../../scripts/broker/certs';

const image = buildSimImage({ version: '2.0.0', behaviour: 'ok' }, 200 * 1024 + 17);
/** Bytes of the sim image magic, which the update port programs last. */
const MAGIC = 8;
const sha = new Uint8Array(createHash('sha256').update(image).digest());
const dirs: string[] = [];
const servers: SimHttpServer[] = [];
let faults: (r: { path: string; from?: number; n: number }) => ImageFault | undefined = () => undefined;

afterEach(async () => {
  faults = () => undefined;
  for (const s of servers.splice(0)) await s.close();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function server(options: Parameters<typeof startSimHttpServer>[0] = {}): Promise<SimHttpServer> {
  const s = await startSimHttpServer({ files: { '/fw.bin': image }, fault: (r) => faults(r), ...options });
  servers.push(s);
  return s;
}

interface Result {
  error?: OtaError;
  download: Download;
  dir: string;
  progress: number[];
  maxPiece: number;
}

/** Boots a fresh sim device's flash, downloads into its update slot, and completes or cancels. */
function download(url: string, options: Partial<DownloadOptions> = {}): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'ota-dl-'));
  dirs.push(dir);
  const boot = bootSim(dir, { version: '1.0.0', behaviour: 'ok' });
  const writer = boot.update.open(options.size ?? image.length, '2.0.0');
  const progress: number[] = [];
  let maxPiece = 0;
  return new Promise((resolve) => {
    const d: Download = new Download({
      network: createNodeNetwork(),
      clock: new RealClock(),
      url,
      size: image.length,
      sha256: sha,
      hash: new Sha256(),
      chunkSize: 1024,
      stallTimeout: 1000,
      retryDelay: 50,
      ...options,
      writer: {
        write: (b) => {
          maxPiece = Math.max(maxPiece, b.length);
          writer.write(b);
        },
        complete: () => writer.complete(),
        cancel: () => writer.cancel(),
      },
      onProgress: (n) => progress.push(n),
      onDone: (error) => {
        if (error) writer.cancel();
        else writer.complete();
        resolve({ error, download: d, dir, progress, maxPiece });
      },
    });
  });
}

const slotBytes = (dir: string) => new Uint8Array(readFileSync(new SimFlash(dir).slotPath(1)));

describe('download into the update slot', () => {
  it('streams the image in pieces of at most chunkSize, hashes it, and marks it to boot', async () => {
    const s = await server();
    const r = await download(s.url('/fw.bin'));
    expect(r.error).toBeUndefined();
    expect(r.maxPiece).toBeLessThanOrEqual(1024);
    expect(r.progress.at(-1)).toBe(image.length);
    expect(Buffer.compare(slotBytes(r.dir), image)).toBe(0);
    expect(new SimFlash(r.dir).readState()?.trial).toEqual({ slot: 1, version: '2.0.0', boots: 0 });
    expect(s.requests).toEqual([{ path: '/fw.bin', from: undefined, status: 200, n: 1 }]);
  });

  it('resumes with a Range request after the connection breaks, without re-downloading', async () => {
    const s = await server();
    faults = (r) => (r.n <= 3 ? { truncateAfter: 50_000 } : undefined);
    const r = await download(s.url('/fw.bin'));
    expect(r.error).toBeUndefined();
    expect(s.requests.map((q) => [q.from ?? 0, q.status])).toEqual([
      [0, 200],
      [50_000, 206],
      [100_000, 206],
      [150_000, 206],
    ]);
    expect(Buffer.compare(slotBytes(r.dir), image)).toBe(0);
  });

  it('resumes after a stall (no byte within the stall timeout)', async () => {
    const s = await server();
    faults = (r) => (r.n === 1 ? { stallAfter: 30_000 } : undefined);
    const r = await download(s.url('/fw.bin'), { stallTimeout: 300 });
    expect(r.error).toBeUndefined();
    expect(s.requests.map((q) => q.from ?? 0)).toEqual([0, 30_000]);
  });

  it('skips what it has when a server ignores Range and sends the whole image again', async () => {
    const s = await server();
    faults = (r) => (r.n === 1 ? { truncateAfter: 70_000 } : { ignoreRange: true });
    const r = await download(s.url('/fw.bin'));
    expect(r.error).toBeUndefined();
    expect(s.requests.map((q) => [q.from ?? 0, q.status])).toEqual([
      [0, 200],
      [70_000, 200],
    ]);
    expect(Buffer.compare(slotBytes(r.dir), image)).toBe(0);
  });

  it('decodes chunked transfer coding', async () => {
    const s = await server();
    faults = () => ({ chunked: true });
    const r = await download(s.url('/fw.bin'));
    expect(r.error).toBeUndefined();
    expect(Buffer.compare(slotBytes(r.dir), image)).toBe(0);
  });

  it('rejects a corrupted byte with hash-mismatch and leaves nothing marked to boot', async () => {
    const s = await server();
    faults = () => ({ corruptAt: 123_456 });
    const r = await download(s.url('/fw.bin'));
    expect(r.error?.code).toBe('hash-mismatch');
    expect(r.error?.message).toContain(createHash('sha256').update(image).digest('hex'));
    expect(new SimFlash(r.dir).readState()?.trial).toBeUndefined();
    // every byte reached the slot, but the image was cancelled: it can never boot
    expect(slotBytes(r.dir).length).toBe(image.length);
    expect(checkSimImage(slotBytes(r.dir)).problem).toMatch(/no image magic/);
    expect(bootSim(r.dir, { version: '1.0.0', behaviour: 'ok' }).image.version).toBe('1.0.0');
  });

  it('refuses an image of another size than the job says, before writing past it', async () => {
    const s = await server();
    const r = await download(s.url('/fw.bin'), { size: image.length - 1 });
    expect(r.error?.code).toBe('size-mismatch');
    expect(r.error?.message).toMatch(/has 204817 bytes, the job says 204816/);
    expect(s.requests).toHaveLength(1);
    expect(checkSimImage(slotBytes(r.dir)).problem).toMatch(/no image magic|too short/);
  });

  it('gives up at once on 404, and after maxAttempts on a server that keeps failing with 503', async () => {
    const s = await server();
    const missing = await download(s.url('/nope.bin'));
    expect(missing.error?.code).toBe('http');
    expect(missing.error?.message).toContain('404');
    expect(s.requests).toHaveLength(1);
    faults = () => ({ status: 503 });
    const busy = await download(s.url('/fw.bin'), { maxAttempts: 3 });
    expect(busy.error?.code).toBe('http');
    expect(busy.error?.message).toMatch(/after 3 attempts.*503/);
  });

  it('reports a refused connection as a network error after its attempts', async () => {
    const s = await server();
    const port = s.port;
    await s.close();
    servers.length = 0;
    const r = await download(`http://127.0.0.1:${port}/fw.bin`, { maxAttempts: 2 });
    expect(r.error?.code).toBe('network');
    expect(r.error?.message).toMatch(/after 2 attempts: cannot fetch from 127\.0\.0\.1:\d+/);
  });

  it('follows a redirect', async () => {
    const target = await server();
    const http = await import('node:http');
    const redirect = http.createServer((_req, res) => res.writeHead(302, { location: target.url('/fw.bin'), 'content-length': 0 }).end());
    await new Promise<void>((r) => redirect.listen(0, '127.0.0.1', r));
    const port = (redirect.address() as { port: number }).port;
    try {
      const r = await download(`http://127.0.0.1:${port}/latest`);
      expect(r.error).toBeUndefined();
      expect(Buffer.compare(slotBytes(r.dir), image)).toBe(0);
    } finally {
      await new Promise((r) => redirect.close(r));
    }
  });

  describe('over TLS', () => {
    let certs: ReturnType<typeof generateTestCertificates>;
    beforeAll(() => {
      const dir = mkdtempSync(join(tmpdir(), 'ota-tls-'));
      dirs.push(dir);
      certs = generateTestCertificates(dir);
    });

    it('downloads through the TLS port with the CA from the options, and fails with the wrong CA', async () => {
      const s = await server({ tls: { key: readFileSync(certs.serverKeyFile, 'utf8'), cert: readFileSync(certs.serverCertFile, 'utf8') } });
      faults = (r) => (r.n === 1 ? { truncateAfter: 60_000 } : undefined);
      const ok = await download(s.url('/fw.bin'), { tls: { ca: certs.ca } });
      expect(ok.error).toBeUndefined();
      expect(Buffer.compare(slotBytes(ok.dir), image)).toBe(0);
      expect(s.requests.map((q) => q.from ?? 0)).toEqual([0, 60_000]);
      const wrong = await download(s.url('/fw.bin'), { tls: { ca: certs.wrongCa }, maxAttempts: 1 });
      expect(wrong.error?.code).toBe('network');
      expect(wrong.error?.message).toMatch(/TLS/);
    });
  });
});

describe('power cut while writing', () => {
  it('at any offset leaves the old image booting and the partial slot unused', async () => {
    const s = await server();
    for (const cut of [0, 1, 4095, 100_000, image.length - 1, image.length]) {
      const dir = mkdtempSync(join(tmpdir(), 'ota-cut-'));
      dirs.push(dir);
      let cutDone = false;
      const boot = bootSim(dir, { version: '1.0.0', behaviour: 'ok' }, { faults: { powerCutAt: cut, onPowerCut: () => (cutDone = true) } });
      const writer = boot.update.open(image.length, '2.0.0');
      await new Promise<void>((resolve) => {
        const d = new Download({
          network: createNodeNetwork(),
          clock: new RealClock(),
          url: s.url('/fw.bin'),
          size: image.length,
          sha256: sha,
          hash: new Sha256(),
          writer,
          onProgress: () => cutDone && (d.abort(), resolve()),
          onDone: (error) => {
            try {
              if (!error) writer.complete();
            } catch {
              // the power went while the magic was programmed: the image does not check out
            }
            resolve();
          },
        });
      });
      expect(cutDone, `cut at ${cut}`).toBe(true);
      // the body is programmed first and the magic last: exactly `cut` bytes reach the slot
      const body = Math.min(cut, image.length - MAGIC);
      const magic = Math.max(0, cut - (image.length - MAGIC));
      const expected = new Uint8Array(cut === 0 ? 0 : MAGIC + body).fill(0xff);
      if (cut > 0) expected.set(image.subarray(MAGIC, MAGIC + body), MAGIC);
      expected.set(image.subarray(0, magic), 0);
      expect(Buffer.compare(readFileSync(new SimFlash(dir).slotPath(1)), expected), `slot bytes at cut ${cut}`).toBe(0);
      expect(new SimFlash(dir).readState()?.trial, `nothing marked to boot at cut ${cut}`).toBeUndefined();
      const next = bootSim(dir, { version: '1.0.0', behaviour: 'ok' });
      expect(next.image.version, `cut at ${cut}`).toBe('1.0.0');
      expect(next.pending).toBe(false);
      // whatever reached the slot can never boot, even the whole image of the cut at the last byte
      expect(checkSimImage(readFileSync(new SimFlash(dir).slotPath(1))).problem, `cut at ${cut}`).toMatch(/no image magic|too short/);
    }
  });
});

describe('resume after a restart', () => {
  /** One boot's download of /fw.bin into its update port, continuing from a checkpoint when the port kept one. */
  async function bootAndFetch(dir: string, layout: 'esp32' | 'esp8266', url: string, cut?: number): Promise<{ start: number; cutDone: boolean; error?: OtaError }> {
    let cutDone = false;
    const boot = bootSim(dir, { version: '1.0.0', behaviour: 'ok' }, { layout, faults: cut === undefined ? undefined : { powerCutAt: cut, onPowerCut: () => (cutDone = true) } });
    const writer = boot.update.open(image.length, '2.0.0', 'job1/fw');
    const hash = new Sha256();
    const start = writer.resumedAt ?? 0;
    if (start) hash.restore(writer.resumedState!);
    return new Promise((resolve) => {
      const d = new Download({
        network: createNodeNetwork(),
        clock: new RealClock(),
        url,
        size: image.length,
        sha256: sha,
        hash,
        start,
        writer,
        onProgress: () => {
          if (!cutDone) return;
          d.abort(); // the power is gone: nothing more happens in this boot
          resolve({ start, cutDone });
        },
        onDone: (error) => {
          try {
            if (!error) writer.complete();
          } catch {
            // the power went while the magic was programmed
          }
          resolve({ start, cutDone, error });
        },
      });
    });
  }

  for (const layout of ['esp32', 'esp8266'] as const) {
    it(`${layout} layout: a download cut by a power failure continues from its last checkpoint with Range, and the image boots`, async () => {
      const s = await server();
      for (const cut of [5_000, 16_376, 16_377, 100_000, image.length - MAGIC, image.length - 1]) {
        const dir = mkdtempSync(join(tmpdir(), 'ota-resume-'));
        dirs.push(dir);
        const requestsBefore = s.requests.length;
        const first = await bootAndFetch(dir, layout, s.url('/fw.bin'), cut);
        expect(first.cutDone, `cut at ${cut}`).toBe(true);
        const second = await bootAndFetch(dir, layout, s.url('/fw.bin'));
        // a checkpoint at X (every 16 KB) needs X - 8 bytes programmed (the magic is held back) before
        // the cut; once the magic is being programmed the checkpoint is gone, and the update starts over
        const expected = cut > image.length - MAGIC ? 0 : Math.floor((cut + MAGIC - 1) / 16384) * 16384;
        expect(second, `cut at ${cut}`).toEqual({ start: expected, cutDone: false, error: undefined });
        expect(s.requests.slice(requestsBefore).map((r) => r.from ?? 0), `requests, cut at ${cut}`).toEqual([0, ...(expected ? [expected] : [0])]);
        const next = bootSim(dir, { version: '1.0.0', behaviour: 'ok' }, { layout });
        expect({ version: next.image.version, pending: next.pending }, `cut at ${cut}`).toEqual({ version: '2.0.0', pending: true });
      }
    });
  }

  it('a hash state that does not restore, or a checkpoint for another job, starts from byte 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ota-resume-'));
    dirs.push(dir);
    const s = await server();
    await bootAndFetch(dir, 'esp32', s.url('/fw.bin'), 50_000);
    const other = bootSim(dir, { version: '1.0.0', behaviour: 'ok' }).update.open(image.length, '2.0.0', 'job2/fw');
    expect(other.resumedAt).toBe(0);
    other.cancel();
    expect(bootSim(dir, { version: '1.0.0', behaviour: 'ok' }).update.open(image.length, '2.0.0', 'job1/fw').resumedAt).toBe(0);
  });
});

// Streams a firmware image from its URL into an update slot: bounded pieces, incremental SHA-256,
// and resumption with "Range: bytes=N-" after a broken connection or a stall. Nothing of the image is
// kept in RAM beyond the piece being written. Pieces end on multiples of the piece size; at those
// boundaries the writer may checkpoint (bytes written, hash state), so a download that a restart
// interrupts continues from its last checkpoint (`start`).
import type { Hash } from '../crypto/hash';
import { hexEncode } from '../text/hex';
import type { Clock, Logger, Network, TimerId, TlsOptions, UpdateWriter } from '../ports';
import { OtaError, describeError, otaErrorOf } from './errors';
import { HttpGet, type HttpResponseHead } from '../http/client';
import { isDigits } from '../text/chars';

export interface DownloadOptions {
  network: Network;
  clock: Clock;
  log?: Logger;
  url: string;
  /** Exact image size, bytes. */
  size: number;
  /** Expected SHA-256 of the whole image. */
  sha256: Uint8Array;
  writer: UpdateWriter;
  /** A fresh SHA-256 (ours, or a host's native one); with `start`, one restored to the hash of the bytes before it. */
  hash: Hash;
  /** Bytes already in the slot (a continued update): the download asks for the rest. Default 0. */
  start?: number;
  /** Bytes between two checkpoints (rounded to whole pieces), when the writer and the hash support them. Default 16384. */
  checkpointEvery?: number;
  tls?: TlsOptions;
  /** Largest piece handed to the writer at once, bytes. Default 4096. */
  chunkSize?: number;
  /** Ms without a byte before an attempt is given up (and resumed). Default 15000. */
  stallTimeout?: number;
  /** Attempts in a row that bring no new byte before the download fails. Default 5. */
  maxAttempts?: number;
  /** Pause before retrying after an attempt without progress, ms; doubles each time up to 30 s. Default 1000. */
  retryDelay?: number;
  onProgress?(received: number, size: number): void;
  /** Called once (unless aborted): without an error when every byte arrived and the hash matched. */
  onDone(error?: OtaError): void;
}

const RANGE_UNIT = 'bytes ';

/** "bytes <first>-<last>/<size or *>": [first, last, size], or undefined. */
const parseContentRange = (text: string): [string, string, string] | undefined => {
  if (!text.startsWith(RANGE_UNIT)) return undefined;
  const dash = text.indexOf('-', RANGE_UNIT.length);
  const slash = text.indexOf('/', dash + 1);
  if (dash < 0 || slash < 0) return undefined;
  const first = text.slice(RANGE_UNIT.length, dash);
  const last = text.slice(dash + 1, slash);
  const size = text.slice(slash + 1);
  return isDigits(first) && isDigits(last) && (size === '*' || isDigits(size)) ? [first, last, size] : undefined;
};

export class Download {
  /** Image bytes written so far (with those in place before a continued download). */
  received = 0;
  /** Checkpoints the writer took. */
  checkpoints = 0;
  /** HTTP requests made. */
  attempts = 0;
  private http: HttpGet | undefined;
  private timer: TimerId | undefined;
  private stalled = 0;
  private finished = false;
  private checkpointAt: number;

  constructor(private readonly o: DownloadOptions) {
    const start = o.start ?? 0;
    if (!start) this.o.hash.reset();
    this.received = start;
    this.checkpointAt = start;
    this.attempt();
  }

  abort(): void {
    this.finished = true;
    this.http?.abort();
    this.http = undefined;
    if (this.timer !== undefined) this.o.clock.clear(this.timer);
    this.timer = undefined;
  }

  private attempt(): void {
    const o = this.o;
    this.attempts++;
    const start = this.received;
    let skip = 0;
    let failed: OtaError | undefined;
    const fail = (error: OtaError) => {
      failed = error;
      this.http?.abort();
      this.end(start, error);
    };
    this.http = new HttpGet({
      network: o.network,
      clock: o.clock,
      url: o.url,
      tls: o.tls,
      stallTimeout: o.stallTimeout,
      headers: start > 0 ? { Range: `bytes=${start}-` } : undefined,
      onHead: (head) => {
        const problem = this.checkHead(head, start);
        if (problem) return fail(problem);
        if (head.status === 200) skip = start; // the server ignored the range: drop what we have
      },
      onBody: (bytes) => {
        if (failed) return;
        let data = bytes;
        if (skip > 0) {
          const n = Math.min(skip, data.length);
          skip -= n;
          data = data.subarray(n);
        }
        if (!data.length) return;
        if (this.received + data.length > o.size) {
          return fail(new OtaError('size-mismatch', `the server sent more than the job's ${o.size} bytes`));
        }
        const problem = this.store(data);
        if (problem) return fail(problem);
        o.onProgress?.(this.received, o.size);
      },
      onEnd: (error) => {
        if (!failed) this.end(start, error && otaErrorOf(error));
      },
    });
  }

  private checkHead(head: HttpResponseHead, start: number): OtaError | undefined {
    const { status, headers } = head;
    const size = this.o.size;
    if (status === 206) {
      const m = parseContentRange(headers['content-range'] ?? '');
      if (!m) return new OtaError('bad-response', `206 answer without a usable Content-Range ("${headers['content-range'] ?? ''}")`);
      if (Number(m[0]) !== start) return new OtaError('bad-response', `asked for bytes from ${start}, the server sent from ${m[0]}`);
      if (m[2] !== '*' && Number(m[2]) !== size) return new OtaError('size-mismatch', `the image on the server has ${m[2]} bytes, the job says ${size}`);
      return undefined;
    }
    if (status === 200) {
      const length = headers['content-length'];
      if (length !== undefined && headers['transfer-encoding'] === undefined && Number(length) !== size) {
        return new OtaError('size-mismatch', `the image on the server has ${length} bytes, the job says ${size}`);
      }
      return undefined;
    }
    if (status === 416) return new OtaError('size-mismatch', `the server has fewer than ${start} bytes of the image (416), the job says ${size}`);
    const retryable = status >= 500 || status === 408 || status === 429;
    return new OtaError('http', `the image server answered ${status} for ${this.o.url}`, retryable);
  }

  /** Writes and hashes `data` in pieces that end on multiples of the piece size; returns the error when the slot refused it. */
  private store(data: Uint8Array): OtaError | undefined {
    const o = this.o;
    const piece = o.chunkSize ?? 4096;
    const every = o.checkpointEvery ?? 16384;
    for (let at = 0; at < data.length; ) {
      const end = Math.min(data.length, at + piece - (this.received % piece));
      const part = data.subarray(at, end);
      try {
        o.writer.write(part);
      } catch (error) {
        return new OtaError('flash', `writing the update slot at byte ${this.received}: ${describeError(error)}`);
      }
      o.hash.update(part);
      this.received += part.length;
      at = end;
      if (this.received % piece === 0 && this.received - this.checkpointAt >= every && this.received < o.size && o.writer.checkpoint && o.hash.save) {
        if (o.writer.checkpoint(o.hash.save())) this.checkpoints++;
        this.checkpointAt = this.received; // not again before `every` more bytes, taken or not
      }
    }
    return undefined;
  }

  private end(start: number, error: OtaError | undefined): void {
    this.http = undefined;
    if (this.finished) return;
    const o = this.o;
    if (this.received === o.size) return this.done(this.verify());
    if (error && !error.retryable) return this.done(error);
    this.stalled = this.received > start ? 0 : this.stalled + 1;
    const max = o.maxAttempts ?? 5;
    const why = error ? error.message : `the server ended the image after ${this.received} of ${o.size} bytes`;
    if (this.stalled >= max || this.attempts >= max * 20) {
      return this.done(new OtaError(error?.code ?? 'network', `download failed after ${this.attempts} attempts: ${why}`));
    }
    const delay = this.stalled === 0 ? 0 : Math.min(30000, (o.retryDelay ?? 1000) * 2 ** (this.stalled - 1));
    o.log?.log('warn', `ota: ${why}; resuming from byte ${this.received} in ${delay} ms`);
    this.timer = o.clock.set(() => {
      this.timer = undefined;
      if (!this.finished) this.attempt();
    }, delay);
  }

  private verify(): OtaError | undefined {
    const digest = this.o.hash.digest();
    let same = digest.length === this.o.sha256.length;
    for (let i = 0; same && i < digest.length; i++) same = digest[i] === this.o.sha256[i];
    if (same) return undefined;
    return new OtaError('hash-mismatch', `the downloaded image's SHA-256 is ${hexEncode(digest)}, the job says ${hexEncode(this.o.sha256)}: the image was corrupted or replaced`);
  }

  private done(error: OtaError | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.o.onDone(error);
  }
}

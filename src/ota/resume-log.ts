// Checkpoints of an update being written, so a download that a restart or a power cut interrupts
// continues from its last checkpoint instead of byte 0. They live in two small flash sectors, as a
// log: each checkpoint is appended to the current sector; when it is full, the other sector is
// erased and the next checkpoint goes there, so the newest complete entry is always readable, and a
// sector is erased once per dozen checkpoints, not at each. An entry (big-endian):
//   0   4  magic "NMCK"
//   4   4  sequence number (the newest valid entry wins)
//   8   2  length L of the payload (0: the log was cleared)
//   10  L  payload (encodeCheckpoint)
//   ..  4  CRC-32 of everything before it
// Entries start at multiples of 4 bytes. A torn entry fails its CRC and is skipped; the sector it is
// in takes no more entries.
import { crc32 } from '../crypto/crc32';

export type LogSector = 0 | 1;

/** Two erasable flash sectors, as a host provides them. */
export interface CheckpointSectors {
  readonly sectorSize: number;
  /** Bytes of a sector; erased bytes read 0xFF. */
  read(sector: LogSector, offset: number, length: number): Uint8Array;
  erase(sector: LogSector): void;
  /** Programs bytes into erased flash. */
  program(sector: LogSector, offset: number, bytes: Uint8Array): void;
}

/** Where an interrupted update stood at a piece boundary. */
export interface Checkpoint {
  /** The slot being written. */
  slot: number;
  /** The image's size and version, as announced to open(). */
  size: number;
  version: string;
  /** Names the update (job and image hash): only an open() with the same key continues it. */
  key: string;
  /** Bytes written and durable, from the start of the image. */
  offset: number;
  /** The image's first bytes, held back until the image is complete. */
  held: Uint8Array;
  /** The writer's caller's state at `offset` (the download's hash). */
  state: Uint8Array;
}

const MAGIC = [0x4e, 0x4d, 0x43, 0x4b]; // "NMCK"
const HEAD = 10;
const CRC_BYTES = 4;
const MAX_TEXT = 255;
const MAX_STATE = 1024;

export class ResumeLogError extends Error {
}
ResumeLogError.prototype.name = 'ResumeLogError';

export const encodeCheckpoint = (c: Checkpoint): Uint8Array => {
  if (c.version.length > MAX_TEXT || c.key.length > MAX_TEXT || c.held.length > MAX_TEXT || c.state.length > MAX_STATE) {
    throw new ResumeLogError('checkpoint fields too long (version, key and held bytes at most 255, state at most 1024)');
  }
  const out = new Uint8Array(1 + 4 + 4 + 1 + c.held.length + 1 + c.version.length + 1 + c.key.length + 2 + c.state.length);
  const view = new DataView(out.buffer);
  let at = 0;
  out[at++] = c.slot;
  view.setUint32(at, c.size);
  view.setUint32(at + 4, c.offset);
  at += 8;
  out[at++] = c.held.length;
  out.set(c.held, at);
  at += c.held.length;
  for (const text of [c.version, c.key]) {
    out[at++] = text.length;
    for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i) & 0xff;
  }
  view.setUint16(at, c.state.length);
  out.set(c.state, at + 2);
  return out;
};

export const decodeCheckpoint = (p: Uint8Array): Checkpoint | undefined => {
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  let at = 0;
  const need = (n: number) => at + n <= p.length;
  if (!need(10)) return undefined;
  const slot = p[at++];
  const size = view.getUint32(at);
  const offset = view.getUint32(at + 4);
  at += 8;
  const heldLength = p[at++];
  if (!need(heldLength)) return undefined;
  const held = p.slice(at, at + heldLength);
  at += heldLength;
  const texts: string[] = [];
  for (let k = 0; k < 2; k++) {
    if (!need(1)) return undefined;
    const n = p[at++];
    if (!need(n)) return undefined;
    let text = '';
    for (let i = 0; i < n; i++) text += String.fromCharCode(p[at++]);
    texts.push(text);
  }
  if (!need(2)) return undefined;
  const stateLength = view.getUint16(at);
  at += 2;
  if (at + stateLength !== p.length) return undefined;
  return { slot, size, version: texts[0], key: texts[1], offset, held, state: p.slice(at) };
};

interface Scan {
  /** Newest valid entry in the sector: its sequence number and payload. */
  seq?: number;
  payload?: Uint8Array;
  /** Where the next entry can go, or -1 when the sector takes no more (full, or a torn entry). */
  free: number;
}

export class ResumeLog {
  private scans: Scan[] | undefined;
  private current: LogSector | undefined;
  private seq = 0;

  constructor(private readonly sectors: CheckpointSectors) {}

  /** The newest checkpoint, or undefined (none, cleared, or unreadable). */
  read(): Checkpoint | undefined {
    const payload = this.scan();
    return payload && payload.length ? decodeCheckpoint(payload) : undefined;
  }

  write(checkpoint: Checkpoint): void {
    this.append(encodeCheckpoint(checkpoint));
  }

  /** Forgets every checkpoint (appends an empty entry, when the newest is not one already). */
  clear(): void {
    const payload = this.scan();
    if (payload && payload.length) this.append(new Uint8Array(0));
  }

  private append(payload: Uint8Array): void {
    this.scan();
    const scans = this.scans!;
    const entry = new Uint8Array(HEAD + payload.length + CRC_BYTES);
    entry.set(MAGIC, 0);
    const view = new DataView(entry.buffer);
    const seq = this.seq + 1;
    view.setUint32(4, seq);
    view.setUint16(8, payload.length);
    entry.set(payload, HEAD);
    view.setUint32(HEAD + payload.length, crc32(entry, 0, HEAD + payload.length));
    const size = this.sectors.sectorSize;
    if (entry.length > size) throw new ResumeLogError(`a checkpoint of ${entry.length} bytes does not fit a ${size}-byte sector`);
    let sector = this.current;
    if (sector === undefined || scans[sector].free < 0 || scans[sector].free + entry.length > size) {
      // the other sector: erased first, so the current one keeps the newest entry until this one is in
      sector = sector === 0 ? 1 : 0;
      this.sectors.erase(sector);
      scans[sector] = { free: 0 };
    }
    const at = scans[sector].free;
    scans[sector] = { seq, payload, free: -1 }; // until the program below returns, nothing more goes here
    this.sectors.program(sector, at, entry);
    scans[sector].free = align(at + entry.length) <= size ? align(at + entry.length) : -1;
    this.current = sector;
    this.seq = seq;
  }

  /** Reads both sectors once; returns the newest payload. */
  private scan(): Uint8Array | undefined {
    if (!this.scans) {
      this.scans = [this.scanSector(0), this.scanSector(1)];
      const [a, b] = this.scans;
      if (a.seq !== undefined && (b.seq === undefined || a.seq > b.seq)) this.current = 0;
      else if (b.seq !== undefined) this.current = 1;
      this.seq = Math.max(a.seq ?? 0, b.seq ?? 0);
    }
    return this.current === undefined ? undefined : this.scans[this.current].payload;
  }

  private scanSector(sector: LogSector): Scan {
    const size = this.sectors.sectorSize;
    const scan: Scan = { free: -1 };
    let at = 0;
    while (at + HEAD + CRC_BYTES <= size) {
      const head = this.sectors.read(sector, at, HEAD);
      if (isErased(head)) {
        scan.free = at;
        break;
      }
      let ok = head[0] === MAGIC[0] && head[1] === MAGIC[1] && head[2] === MAGIC[2] && head[3] === MAGIC[3];
      const length = (head[8] << 8) | head[9];
      if (ok && at + HEAD + length + CRC_BYTES > size) ok = false;
      if (!ok) break; // a torn or foreign entry: this sector takes no more
      const rest = this.sectors.read(sector, at + HEAD, length + CRC_BYTES);
      const entry = new Uint8Array(HEAD + length + CRC_BYTES);
      entry.set(head, 0);
      entry.set(rest, HEAD);
      const view = new DataView(entry.buffer);
      if (view.getUint32(HEAD + length) !== crc32(entry, 0, HEAD + length)) break;
      const seq = view.getUint32(4);
      if (scan.seq === undefined || seq > scan.seq) {
        scan.seq = seq;
        scan.payload = entry.slice(HEAD, HEAD + length);
      }
      at = align(at + entry.length);
    }
    return scan;
  }
}

const align = (n: number): number => {
  return (n + 3) & ~3;
};

const isErased = (bytes: Uint8Array): boolean => {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0xff) return false;
  return true;
};

// The boot record (which slot is committed, which one is on trial, the last rollback) and the commit
// stamps of the slots, as bytes that a torn write or stray bits cannot make believable.
//
// The record is kept twice, as ESP-IDF keeps its otadata: each write goes to the copy that does not
// hold the newest valid record, with the next sequence number, so a write cut short leaves the
// previous record readable. A copy (big-endian):
//   0   4  magic "NMBR"
//   4   4  sequence number
//   8   2  length L of the payload
//   10  L  payload: JSON of BootState (ASCII)
//   ..  4  CRC-32 of everything before it
// A commit stamp sits with its slot (like MCUboot's image trailer) and says "this image was committed
// at sequence N": when neither record copy can be read, the newest stamped image is the last
// committed one. A stamp: "NMOK", sequence (4), version length (1), version, CRC-32 (4).
import { crc32 } from '../crypto/crc32';
import type { BootFlash, RecordCopy, SlotIndex } from './boot-flash';

/** Where the committed image lives: a slot, or the host's built-in (factory) image. */
export type BootSource = SlotIndex | 'factory';

export interface BootState {
  /** The image that boots when none is on trial. */
  committed: BootSource;
  /** A new image marked to boot, not yet committed; `boots` counts its starts. */
  trial?: { slot: SlotIndex; version: string; boots: number };
  /** The last rollback, until the next update is written. */
  rolledBack?: { fromVersion: string; reason: string };
  /** A slot whose image was rolled back while it ran; the bootloader invalidates it at the next boot. */
  reject?: SlotIndex;
  /** What the bootloader had to recover from (an unreadable record), until the next update is written. */
  recovered?: string;
}

/** Bytes of one record copy at most (a host reserves this much, or a flash sector, per copy). */
const RECORD_MAX_BYTES = 512;
const RECORD_MAGIC = [0x4e, 0x4d, 0x42, 0x52]; // "NMBR"
const STAMP_MAGIC = [0x4e, 0x4d, 0x4f, 0x4b]; // "NMOK"
const HEAD = 10;
const CRC_BYTES = 4;
const MAX_PAYLOAD = RECORD_MAX_BYTES - HEAD - CRC_BYTES;
const MAX_VERSION = 32;
const MAX_TEXT = 140;
const MAX_SEQ = 0xfffffffe; // 0xffffffff is what erased flash reads

export class BootRecordError extends Error {
}
BootRecordError.prototype.name = 'BootRecordError';

/** Printable ASCII without quotes or backslashes, at most `max` characters: its JSON has no escapes. */
export const recordText = (text: string, max = MAX_TEXT): string => {
  let out = '';
  for (let i = 0; i < text.length && out.length < max; i++) {
    const c = text.charCodeAt(i);
    out += c < 0x20 || c > 0x7e ? '?' : c === 0x22 ? "'" : c === 0x5c ? '/' : text[i];
  }
  return out.length === max && text.length > max ? `${out.slice(0, max - 3)}...` : out;
};

/** Whether a version kept in a record or stamp (clipped) is `version`. */
export const sameVersion = (kept: string, version: string): boolean => {
  return kept === recordText(version, MAX_VERSION);
};

export const encodeRecord = (state: BootState, seq: number): Uint8Array => {
  const t = state.trial;
  const r = state.rolledBack;
  const payload: Record<string, unknown> = { committed: state.committed };
  if (t) payload.trial = { slot: t.slot, version: recordText(t.version, MAX_VERSION), boots: Math.min(255, Math.max(0, Math.floor(t.boots))) };
  if (r) payload.rolledBack = { fromVersion: recordText(r.fromVersion, MAX_VERSION), reason: recordText(r.reason) };
  if (state.reject !== undefined) payload.reject = state.reject;
  if (state.recovered !== undefined) payload.recovered = recordText(state.recovered);
  const json = JSON.stringify(payload);
  if (json.length > MAX_PAYLOAD) throw new BootRecordError(`boot record of ${json.length} bytes exceeds ${MAX_PAYLOAD}`);
  const out = new Uint8Array(HEAD + json.length + CRC_BYTES);
  out.set(RECORD_MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, seq >>> 0);
  view.setUint16(8, json.length);
  for (let i = 0; i < json.length; i++) out[HEAD + i] = json.charCodeAt(i);
  view.setUint32(HEAD + json.length, crc32(out, 0, HEAD + json.length));
  return out;
};

export type DecodedRecord = { state: BootState; seq: number; problem?: undefined } | { state?: undefined; seq?: undefined; problem: string };

export const decodeRecord = (bytes: Uint8Array | undefined): DecodedRecord => {
  if (!bytes || !bytes.length || isErased(bytes)) return { problem: 'erased' };
  if (bytes.length < HEAD + CRC_BYTES || !hasMagic(bytes, RECORD_MAGIC)) return { problem: 'no record magic' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint16(8);
  if (length > MAX_PAYLOAD || HEAD + length + CRC_BYTES > bytes.length) return { problem: 'truncated' };
  if (view.getUint32(HEAD + length) !== crc32(bytes, 0, HEAD + length)) return { problem: 'checksum mismatch' };
  let json = '';
  for (let i = HEAD; i < HEAD + length; i++) json += String.fromCharCode(bytes[i]);
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return { problem: 'payload is not JSON' };
  }
  const state = toState(raw);
  return state ? { state, seq: view.getUint32(4) } : { problem: 'payload is not a boot record' };
};

const toState = (raw: unknown): BootState | undefined => {
  if (!isObject(raw)) return undefined;
  const committed = raw.committed;
  if (committed !== 'factory' && !isSlot(committed)) return undefined;
  const state: BootState = { committed };
  const t = raw.trial;
  if (t !== undefined) {
    if (!isObject(t) || !isSlot(t.slot) || typeof t.version !== 'string' || !t.version || !isCount(t.boots)) return undefined;
    state.trial = { slot: t.slot, version: t.version, boots: t.boots };
  }
  const r = raw.rolledBack;
  if (r !== undefined) {
    if (!isObject(r) || typeof r.fromVersion !== 'string' || typeof r.reason !== 'string') return undefined;
    state.rolledBack = { fromVersion: r.fromVersion, reason: r.reason };
  }
  if (raw.reject !== undefined) {
    if (!isSlot(raw.reject)) return undefined;
    state.reject = raw.reject;
  }
  if (raw.recovered !== undefined) {
    if (typeof raw.recovered !== 'string') return undefined;
    state.recovered = raw.recovered;
  }
  return state;
};

export interface RecordRead {
  /** The newest valid record, or undefined when neither copy holds one. */
  state?: BootState;
  /** Both copies are erased (a new device, or flash wiped on purpose): nothing was ever recorded. */
  blank: boolean;
  /** What is wrong with each copy that is not the newest valid one, e.g. "copy 1: checksum mismatch" (none when blank). */
  problems: string[];
}

/** The two copies of the record on one BootFlash: reads the newest valid one, writes the other one. */
export class BootRecords {
  /** Sequence number of the newest valid record (0 before any). */
  seq = 0;
  private current: RecordCopy | undefined;

  constructor(private readonly flash: BootFlash) {}

  read(): RecordRead {
    const copies = [this.readCopy(0), this.readCopy(1)];
    let best: RecordCopy | undefined;
    for (const copy of [0, 1] as RecordCopy[]) {
      const seq = copies[copy].seq;
      if (seq !== undefined && (best === undefined || seq > copies[best].seq!)) best = copy;
    }
    const blank = copies[0].problem === 'erased' && copies[1].problem === 'erased';
    const problems: string[] = [];
    for (const copy of [0, 1] as RecordCopy[]) {
      const p = copies[copy].problem;
      if (p && !blank && !(p === 'erased' && best !== undefined)) problems.push(`copy ${copy}: ${p}`);
    }
    this.current = best;
    this.seq = best === undefined ? this.seq : copies[best].seq!;
    return { state: best === undefined ? undefined : copies[best].state, blank, problems };
  }

  private readCopy(copy: RecordCopy): DecodedRecord {
    try {
      return decodeRecord(this.flash.readRecord(copy));
    } catch (error) {
      return { problem: `unreadable (${error instanceof Error ? error.message : String(error)})` };
    }
  }

  /** Sequence numbers of later records stay above `seq` (a commit stamp's), so stamps and records order. */
  raise(seq: number): void {
    if (seq > this.seq) this.seq = seq;
  }

  /** The sequence number the next write() uses. */
  next(): number {
    if (this.seq >= MAX_SEQ) throw new BootRecordError('boot record sequence exhausted');
    return this.seq + 1;
  }

  /** Writes `state` into the copy that does not hold the newest record; returns its sequence number. */
  write(state: BootState): number {
    const seq = this.next();
    const copy: RecordCopy = this.current === 0 ? 1 : 0;
    this.flash.writeRecord(copy, encodeRecord(state, seq));
    this.current = copy;
    this.seq = seq;
    return seq;
  }
}

export interface Stamp {
  seq: number;
  version: string;
}

export const encodeStamp = (seq: number, version: string): Uint8Array => {
  const v = recordText(version, MAX_VERSION);
  const out = new Uint8Array(9 + v.length + CRC_BYTES);
  out.set(STAMP_MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, seq >>> 0);
  out[8] = v.length;
  for (let i = 0; i < v.length; i++) out[9 + i] = v.charCodeAt(i);
  view.setUint32(9 + v.length, crc32(out, 0, 9 + v.length));
  return out;
};

export const decodeStamp = (bytes: Uint8Array | undefined): Stamp | undefined => {
  if (!bytes || bytes.length < 9 + CRC_BYTES || !hasMagic(bytes, STAMP_MAGIC)) return undefined;
  const n = bytes[8];
  if (9 + n + CRC_BYTES > bytes.length) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(9 + n) !== crc32(bytes, 0, 9 + n)) return undefined;
  let version = '';
  for (let i = 0; i < n; i++) version += String.fromCharCode(bytes[9 + i]);
  return { seq: view.getUint32(4), version };
};

const isErased = (bytes: Uint8Array): boolean => {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0xff) return false;
  return true;
};

const hasMagic = (bytes: Uint8Array, magic: number[]): boolean => {
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return false;
  return true;
};

const isObject = (value: unknown): value is Record<string, unknown> => {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
};

const isSlot = (value: unknown): value is SlotIndex => {
  return value === 0 || value === 1;
};

const isCount = (value: unknown): value is number => {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 255;
};

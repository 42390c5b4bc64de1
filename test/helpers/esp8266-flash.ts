// The ESP8266's flash as nmboot sees it, in one byte array, for test/unit/nmboot-native.test.ts: the
// same areas, the same sector erases (a slot's or the app area's first sector at once, the others
// just before their first write), NOR programming (bits only cleared), a power cut after a number of
// programmed bytes, and the same image check as nmboot/image.c (ESP8266 "version 2" main.bin and
// the 80-byte trailer). The TypeScript boot logic (src/ota/placement.ts) runs over it, and the C one
// over a copy of its bytes: both must leave the same bytes.
import { crc32 } from '../../src/crypto/crc32';
import type { CopyFlash, RecordCopy, SlotImage, SlotIndex } from '../../src/ota/boot-flash';
import { appendTrailer } from '../../scripts/nmboot';

/** nmboot.h's NM_TEST_LAYOUT (the test checks that they agree). */
export const TEST_LAYOUT = { sector: 0x1000, app: 0x001000, appSize: 0x010000, record0: 0x012000, record1: 0x013000, slot0: 0x020000, slot1: 0x040000 };
export const TEST_FLASH_SIZE = 0x060000;
const L = TEST_LAYOUT;
const RECORD_READ = 512;
const STAMP_READ = 64;
const TRAILER = 80;
const BOARD = 'esp8266';
type Area = SlotIndex | 'app';

export class Esp8266TestFlash implements CopyFlash {
  readonly slotSize = L.appSize;
  readonly appSize = L.appSize;
  readonly headerBytes = 16;
  /** Bytes programmed so far; with `cut`, the power goes once that many are programmed. */
  programmed = 0;
  private dead: boolean;
  private readonly erasedTo = new Map<Area, number>();

  constructor(
    readonly bytes: Uint8Array = new Uint8Array(TEST_FLASH_SIZE).fill(0xff),
    private readonly cut?: number,
  ) {
    this.dead = cut === 0;
  }

  // ---- the medium ----

  read(address: number, length: number): Uint8Array {
    return this.bytes.slice(address, address + length);
  }

  program(address: number, data: Uint8Array): void {
    if (address % 4 || data.length % 4) throw new Error(`unaligned program at ${address.toString(16)} of ${data.length}`);
    if (this.dead) return;
    let n = data.length;
    if (this.cut !== undefined && this.programmed + n > this.cut) n = this.cut - this.programmed;
    for (let i = 0; i < n; i++) this.bytes[address + i] &= data[i];
    this.programmed += n;
    if (this.cut !== undefined && this.programmed >= this.cut) this.dead = true;
  }

  eraseSector(address: number): void {
    if (!this.dead) this.bytes.fill(0xff, address, address + L.sector);
  }

  private start(area: Area): number {
    return area === 'app' ? L.app : area === 0 ? L.slot0 : L.slot1;
  }

  private stampAddress(slot: SlotIndex): number {
    return this.start(slot) + L.appSize;
  }

  private recordAddress(copy: RecordCopy): number {
    return copy ? L.record1 : L.record0;
  }

  /** Erases a sector and programs `data` at its start, padded with 0xFF to whole words. */
  private writeSector(address: number, data: Uint8Array): void {
    const padded = new Uint8Array((data.length + 3) & ~3).fill(0xff);
    padded.set(data);
    this.eraseSector(address);
    this.program(address, padded);
  }

  private areaErase(area: Area): void {
    this.eraseSector(this.start(area));
    if (area !== 'app') this.eraseSector(this.stampAddress(area));
    this.erasedTo.set(area, 1);
  }

  private areaWrite(area: Area, offset: number, data: Uint8Array): void {
    const last = Math.floor((offset + data.length - 1) / L.sector);
    for (let s = Math.floor(offset / L.sector); s <= last; s++) {
      if (s >= (this.erasedTo.get(area) ?? Infinity)) {
        this.eraseSector(this.start(area) + s * L.sector);
        this.erasedTo.set(area, s + 1);
      }
    }
    this.program(this.start(area) + offset, data);
  }

  // ---- BootFlash / CopyFlash ----

  readRecord(copy: RecordCopy): Uint8Array {
    return this.read(this.recordAddress(copy), RECORD_READ);
  }

  writeRecord(copy: RecordCopy, bytes: Uint8Array): void {
    this.writeSector(this.recordAddress(copy), bytes);
  }

  readStamp(slot: SlotIndex): Uint8Array {
    return this.read(this.stampAddress(slot), STAMP_READ);
  }

  writeStamp(slot: SlotIndex, bytes: Uint8Array): void {
    this.writeSector(this.stampAddress(slot), bytes);
  }

  inspect(slot: SlotIndex): SlotImage {
    return inspectEsp8266(this.bytes, this.start(slot), L.appSize);
  }

  inspectApp(): SlotImage {
    return inspectEsp8266(this.bytes, L.app, L.appSize);
  }

  erase(slot: SlotIndex, from = 0): void {
    if (from) throw new Error('continued writes are not part of the boot');
    this.areaErase(slot);
  }

  write(slot: SlotIndex, offset: number, bytes: Uint8Array): void {
    this.areaWrite(slot, offset, bytes);
  }

  invalidate(slot: SlotIndex): void {
    this.eraseSector(this.start(slot));
    this.eraseSector(this.stampAddress(slot));
  }

  readSlotAt(slot: SlotIndex, offset: number, length: number): Uint8Array {
    return this.read(this.start(slot) + offset, length);
  }

  readAppAt(offset: number, length: number): Uint8Array {
    return this.read(L.app + offset, length);
  }

  eraseApp(): void {
    this.areaErase('app');
  }

  writeApp(offset: number, bytes: Uint8Array): void {
    this.areaWrite('app', offset, bytes);
  }

  /** Puts an image into an area as a USB flash tool would (the sectors it covers erased, then written). */
  flashInto(area: Area, image: Uint8Array): void {
    const start = this.start(area);
    this.bytes.fill(0xff, start, start + Math.ceil(image.length / L.sector) * L.sector);
    this.bytes.set(image, start);
  }
}

const le32 = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

/** nm_inspect() of nmboot/image.c, over a flash image. */
export function inspectEsp8266(flash: Uint8Array, address: number, size: number): SlotImage {
  const b = (at: number, n: number) => flash.subarray(address + at, address + at + n);
  let h = b(0, 16);
  if (h[0] !== 0xea || h[1] !== 4) return { problem: 'no image magic' };
  let length = le32(h, 12);
  if (length % 4 || length > size) return { problem: 'bad image header' };
  let pos = 16 + length;
  if (pos + 8 > size) return { problem: 'bad image header' };
  h = b(pos, 8);
  if (h[0] !== 0xe9 || !h[1] || h[1] > 16) return { problem: 'bad image header' };
  let count = h[1];
  pos += 8;
  while (count--) {
    if (pos + 8 > size) return { problem: 'bad image header' };
    length = le32(b(pos, 8), 4);
    if (length % 4 || length > size - pos - 8) return { problem: 'bad image header' };
    pos += 8 + length;
  }
  pos = (pos & ~15) + 16 + 4;
  if (pos + TRAILER > size) return { problem: 'bad image header' };
  const t = b(pos, TRAILER);
  if (t[0] !== 0x4e || t[1] !== 0x4d || t[2] !== 0x46 || t[3] !== 0x57) return { problem: 'no image trailer' };
  const text = (at: number, n: number) => {
    if (n < 1 || n > 32) return undefined;
    let s = '';
    for (let i = 0; i < n; i++) {
      const c = t[at + i];
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return undefined;
      s += String.fromCharCode(c);
    }
    return s;
  };
  const version = text(12, t[5]);
  const board = text(44, t[6]);
  if (t[4] !== 1 || le32(t, 8) !== pos || version === undefined || board === undefined) return { problem: 'bad image trailer' };
  const crc = le32(t, 76);
  if (crc32(flash, address, address + pos + TRAILER - 4) !== crc) return { problem: 'checksum mismatch' };
  if (board !== BOARD) return { problem: 'built for another board type' };
  return { version, size: pos + TRAILER, id: crc.toString(16) };
}

/** esptool's CRC of a version 2 image (esp8266_crc32). */
function espCrc(bytes: Uint8Array): number {
  const crc = crc32(bytes);
  return crc & 0x80000000 ? (crc ^ 0xffffffff) >>> 0 : crc + 1;
}

/**
 * An OTA image as scripts/nmboot.ts makes one: a made-up version 2 main.bin (an irom segment of
 * `irom` bytes and two RAM segments, from `seed`) and the trailer naming `version` and `board`.
 */
export function buildEsp8266Image(version: string, board = BOARD, irom = 4096, seed = 1): Uint8Array {
  let x = (seed * 2654435761) >>> 0 || 1;
  const fill = (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    return out;
  };
  const parts: Uint8Array[] = [];
  const u32 = (v: number) => new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]);
  parts.push(new Uint8Array([0xea, 4, 0, 0x40]), u32(0x40100004), u32(0), u32(irom), fill(irom));
  const segments = [
    [0x3ffe8000, fill(64)],
    [0x40100000, fill(128)],
  ] as const;
  parts.push(new Uint8Array([0xe9, segments.length, 0, 0x40]), u32(0x40100004));
  let checksum = 0xef;
  for (const [addr, data] of segments) {
    parts.push(u32(addr), u32(data.length), data);
    for (const byte of data) checksum ^= byte;
  }
  let main = concat(parts);
  const pad = 16 - (main.length % 16);
  const tail = new Uint8Array(pad);
  tail[pad - 1] = checksum;
  main = concat([main, tail]);
  main = concat([main, u32(espCrc(main))]);
  return appendTrailer(main, version, board);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

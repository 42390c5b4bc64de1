// The simulator's bootloader and firmware image format. bootSim() runs the firmware's two-slot
// bootloader (src/ota/bootloader.ts) over the device's flash files (flash.ts): a new image boots
// "pending" a bounded number of times; if it is not committed by then (it crash-loops, or failed its
// health check) the previous image boots, the rollback is recorded for it to report, and the rejected
// image is invalidated. Without a readable boot record, the last committed image (by its commit
// stamp) boots, else the factory image, and the firmware is told so.
//
// Two layouts: 'esp32' runs the chosen slot in place (two app slots, as ESP-IDF's); 'esp8266' runs
// the image from a fixed app area: the bootloader (src/ota/placement.ts, the same decisions as the
// ESP8266's C bootloader) copies the chosen slot there, backing the built-in image up first, and the
// firmware learns what runs from the boot record (src/ota/attach.ts), as on the board.
//
// Image format (big-endian), so downloads are real byte streams of a realistic size:
//   0   8   magic "NMSIMG01"
//   8   4   length H of the header
//   12  H   UTF-8 JSON header {"version": "1.2.0", "behaviour": "ok", "board": "esp8266"} (board optional)
//   ..      filler bytes (deterministic, from the version) up to size - 32
//   -32 32  SHA-256 of everything before it
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { attachBoot } from '../../src/ota/attach';
import { chooseBoot } from '../../src/ota/bootloader';
import type { SlotImage } from '../../src/ota/boot-flash';
import { bootCopy } from '../../src/ota/placement';
import type { SlotUpdate } from '../../src/ota/slot-update';
import { SimCopyFlash, SimFlash, type SimFlashFaults, type SlotIndex } from './flash';

export type SimImageBehaviour = 'ok' | 'crash-loop' | 'no-connect' | 'fail-health';
export interface SimImage {
  version: string;
  behaviour: SimImageBehaviour;
  /** The board type it is built for; a device of another type refuses it. Absent: any. */
  board?: string;
}

/** How a simulated device keeps and boots its images: two slots run in place, or staged slots copied into one app area. */
export type SimLayout = 'esp32' | 'esp8266';
export const SIM_LAYOUTS: SimLayout[] = ['esp32', 'esp8266'];
export interface SimBoot {
  /** The image this boot runs (from the slot the bootloader chose). */
  image: SimImage;
  /** The FlashUpdate port for this boot (two slot files in stateDir, boot/rollback state). */
  update: SlotUpdate;
  /** The device's flash: files, and faults for the update written in this boot (setFaults). */
  flash: SimFlash | SimCopyFlash;
  /** Slot the image came from (0 also stands for the factory image). */
  slot: SlotIndex;
  /** The factory image runs: no slot holds a committed image. */
  factory: boolean;
  /** The image is on trial: it must pass its health check (markValid) or it is rolled back. */
  pending: boolean;
  /** What the bootloader decided, for logs. */
  notes: string[];
  /** Set while the boot state had to be rebuilt from the slots: what happened (also in update.running()). */
  recovered?: string;
  layout: SimLayout;
  /** ESP8266 layout: bytes the bootloader copied in this boot (backup and placement). */
  copied: number;
}

export interface SimBootOptions {
  /** Boots of an image on trial before the bootloader gives up on it. Default 3. */
  maxBoots?: number;
  /** Capacity of each slot, bytes. Default 1 MB. */
  slotSize?: number;
  /** Faults for the update written during this boot (power cut at a byte offset), and for the boot's copies. */
  faults?: SimFlashFaults;
  /** Default 'esp32'. */
  layout?: SimLayout;
  /** The device's board type: an image built for another one does not check out. */
  board?: string;
  /** ESP8266 layout: bytes of the built-in image flashed into the app area at the first boot. Default 64 KB. */
  factorySize?: number;
}

/** The power was cut while the bootloader copied an image (ESP8266 layout): boot again. */
export class SimPowerCutError extends Error {
  override name = 'SimPowerCutError';
}

export class SimImageError extends Error {
  override name = 'SimImageError';
  readonly code = 'EIMAGE';
}

const MAGIC = 'NMSIMG01';
const BEHAVIOURS: SimImageBehaviour[] = ['ok', 'crash-loop', 'no-connect', 'fail-health'];
/** Default image size: a realistic ESP32 app, so a download is hundreds of TCP segments. */
const SIM_IMAGE_SIZE = 256 * 1024;

export function buildSimImage(image: SimImage, size = SIM_IMAGE_SIZE): Uint8Array {
  if (BEHAVIOURS.indexOf(image.behaviour) < 0) throw new SimImageError(`unknown behaviour "${image.behaviour}"; use one of ${BEHAVIOURS.join(', ')}`);
  const fields: SimImage = { version: image.version, behaviour: image.behaviour };
  if (image.board !== undefined) fields.board = image.board;
  const header = new TextEncoder().encode(JSON.stringify(fields));
  const min = 12 + header.length + 32;
  if (!Number.isInteger(size) || size < min) throw new SimImageError(`an image needs at least ${min} bytes, not ${size}`);
  const out = new Uint8Array(size);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, header.length);
  out.set(header, 12);
  // filler: xorshift32 seeded from the version, so two versions differ all along
  let x = (createHash('sha256').update(image.version).digest().readUInt32BE(0) | 1) >>> 0;
  for (let i = 12 + header.length; i < size - 32; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  out.set(createHash('sha256').update(out.subarray(0, size - 32)).digest(), size - 32);
  return out;
}

/** The image in `bytes`; throws SimImageError saying what is wrong (bad magic, truncated, checksum). */
export function readSimImage(bytes: Uint8Array): SimImage {
  if (bytes.length < 12 + 32) throw new SimImageError(`${bytes.length} bytes is too short for an image`);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw new SimImageError('no image magic at the start (empty or erased slot)');
  const h = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8);
  if (12 + h + 32 > bytes.length) throw new SimImageError('truncated image (the header runs past the end)');
  const sum = createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest();
  if (!sum.equals(bytes.subarray(bytes.length - 32))) throw new SimImageError('checksum mismatch (truncated or corrupted image)');
  let header: { version?: unknown; behaviour?: unknown; board?: unknown };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + h)));
  } catch {
    throw new SimImageError('the image header is not JSON');
  }
  if (typeof header.version !== 'string' || BEHAVIOURS.indexOf(header.behaviour as SimImageBehaviour) < 0 || (header.board !== undefined && typeof header.board !== 'string')) {
    throw new SimImageError('the image header lacks a version or a known behaviour');
  }
  const image: SimImage = { version: header.version, behaviour: header.behaviour as SimImageBehaviour };
  if (typeof header.board === 'string') image.board = header.board;
  return image;
}

/**
 * The bootloader's check of a slot: the image's version, size and checksum, or what is wrong. With
 * `board`, an image built for another board type does not check out.
 */
export function checkSimImage(bytes: Uint8Array, board?: string): SlotImage {
  try {
    const image = readSimImage(bytes);
    if (board !== undefined && image.board !== undefined && image.board !== board) return { problem: `the image is built for ${image.board} boards, not ${board}` };
    return { version: image.version, size: bytes.length, id: Buffer.from(bytes.subarray(bytes.length - 32)).toString('hex') };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

/** Decides which slot boots (rollback after a pending image failed), like a bootloader. Never throws
 *  for corrupt slots or boot state: it falls back to the last committed slot, or to the factory image.
 *  ESP8266 layout: throws SimPowerCutError when an armed copyCutAt cut the power during its copies. */
export function bootSim(stateDir: string, factory: SimImage, options: SimBootOptions = {}): SimBoot {
  const check = (bytes: Uint8Array) => checkSimImage(bytes, options.board);
  if (options.layout === 'esp8266') return bootCopySim(stateDir, factory, options, check);
  const flash = new SimFlash(stateDir, { slotSize: options.slotSize, check, faults: options.faults });
  const choice = chooseBoot(flash, { maxBoots: options.maxBoots ?? 3, factory: factory.version });
  const fromFactory = choice.source === 'factory';
  const image = fromFactory ? factory : readSimImage(flash.readSlot(choice.source as SlotIndex) ?? new Uint8Array(0));
  return {
    image,
    update: choice.update,
    flash,
    slot: fromFactory ? 0 : (choice.source as SlotIndex),
    factory: fromFactory,
    pending: choice.pending,
    notes: choice.notes,
    recovered: choice.recovered,
    layout: 'esp32',
    copied: 0,
  };
}

/** Default size of the built-in image an ESP8266-layout device starts with. */
const FACTORY_SIZE = 64 * 1024;

function bootCopySim(stateDir: string, factory: SimImage, options: SimBootOptions, check: (bytes: Uint8Array) => SlotImage): SimBoot {
  const flash = new SimCopyFlash(stateDir, { slotSize: options.slotSize, appSize: options.slotSize, check, faults: options.faults });
  if (!existsSync(flash.appPath())) flash.flashApp(buildSimImage(factory, options.factorySize ?? FACTORY_SIZE)); // flashed over USB
  flash.beginBoot();
  let boot: ReturnType<typeof bootCopy>;
  try {
    boot = bootCopy(flash, { maxBoots: options.maxBoots ?? 3 });
  } catch (error) {
    if (flash.poweredOff) throw new SimPowerCutError(`power cut while the bootloader copied an image: ${(error as Error).message}`);
    throw error;
  } finally {
    flash.endBoot();
  }
  if (flash.poweredOff) throw new SimPowerCutError('power cut while the bootloader wrote its record');
  // what runs is what the app area holds; the firmware reads its state back from the record, as on the board
  const image = readSimImage(flash.readAppImage() ?? new Uint8Array(0));
  const update = attachBoot(flash, image.version);
  const running = update.running();
  return {
    image,
    update,
    flash,
    slot: boot.source === 'factory' ? 0 : boot.source,
    factory: boot.source === 'factory',
    pending: running.state === 'pending-verify',
    notes: boot.notes,
    recovered: running.recovered,
    layout: 'esp8266',
    copied: boot.copied,
  };
}

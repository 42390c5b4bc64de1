// The boot of a chip that runs its image from one fixed place (the ESP8266), over a CopyFlash: the
// two slots of src/ota/bootloader.ts stage and keep images, and the chosen one is copied into the app
// area before it starts. The same logic runs in the simulator and, as C, in the ESP8266's bootloader
// (hosts/moddable/target/esp/nmboot), which must make the same decisions and writes.
//
// At each boot:
//  1. The app area is compared with the slots (size, version and checksum). An image there that
//     checks out and is in no slot is the built-in one: flashed over USB, or not yet backed up.
//  2. A USB flash wins: when the record names a slot as committed but the app area holds another
//     image (not the one on trial), that image becomes the committed one. So does the app area's copy
//     of the committed image when its slot no longer checks out (reported as a recovery).
//  3. A backup that was copied but not yet recorded is finished (stamped and recorded).
//  4. chooseBoot() decides what boots, as on a two-slot chip (trial boots, rollback, recovery).
//  5. A built-in image that is the committed one is copied into a slot and committed there (at the
//     first boot after a USB flash): from then on the app area is only a copy, and a rollback or a
//     damaged app area can bring the image back.
//  6. If the chosen slot is not what the app area holds, it is copied there. Copies program the
//     first bytes (the magic) last: a copy cut short never checks out, and the next boot copies again.
// A power cut at any byte leaves a state from which the next boot continues: the source of every
// copy is intact until its destination checks out and is recorded.
import { otherSlot, type CopyFlash, type SlotImage, type SlotIndex } from './boot-flash';
import { BootRecords, decodeStamp, encodeStamp, sameVersion, type BootState } from './boot-record';
import { chooseBoot, NoBootableImageError, type BootChoice, type BootOptions } from './bootloader';
import { describeError } from './errors';

/** Bytes copied at once: a flash sector. */
const COPY_CHUNK = 4096;

export interface PlacedBoot extends Omit<BootChoice, 'update'> {
  /** Bytes the bootloader copied in this boot (backup and placement). */
  copied: number;
}

/**
 * Boots a copy-layout flash: decides, backs up and copies; throws NoBootableImageError when nothing
 * can run. The firmware then builds its update port from the record (attachBoot).
 */
export const bootCopy = (flash: CopyFlash, options: Pick<BootOptions, 'maxBoots'>): PlacedBoot => {
  const notes: string[] = [];
  const app = inspectApp(flash);
  const images = [inspect(flash, 0), inspect(flash, 1)];
  let appSlot = matching(app, images);
  const builtIn = app.version !== undefined && appSlot === undefined;

  const records = new BootRecords(flash);
  const state = records.read().state;
  if (state && builtIn && state.committed !== 'factory' && !(state.trial && sameVersion(state.trial.version, app.version!))) {
    const lost = images[state.committed].problem;
    if (lost === undefined) {
      notes.push(`the app area holds ${app.version}, which is in no slot: it was flashed over USB and is the committed image now`);
      rewrite(flash, records, { committed: 'factory' }, notes);
    } else {
      // the copy in the app area outlived its slot
      const recovered = `committed slot ${state.committed} is not bootable (${lost}): kept ${app.version} from the app area`;
      notes.push(recovered);
      rewrite(flash, records, { committed: 'factory', rolledBack: state.rolledBack, recovered }, notes);
    }
  } else if (state && state.committed === 'factory' && appSlot !== undefined && state.trial?.slot !== appSlot && !stamped(flash, appSlot, images[appSlot])) {
    // the built-in image was copied into that slot, and power was lost before the copy was recorded
    notes.push(`slot ${appSlot} holds a copy of the built-in image ${images[appSlot].version}: it is committed there`);
    commitCopy(flash, records, state, appSlot, images[appSlot].version!, notes);
  }

  const { update: _unused, ...choice } = chooseBoot(flash, { maxBoots: options.maxBoots, factory: builtIn ? app.version : undefined });
  choice.notes.unshift(...notes);
  let copied = 0;
  const after = new BootRecords(flash);
  const now = after.read().state;
  if (builtIn && now?.committed === 'factory') {
    // the only copy of the committed image is the app area's: keep one in a slot, so a rollback or
    // a damaged app area can bring it back (at the first boot after a USB flash, or before a trial
    // overwrites it); a slot without a bootable image is taken first
    const spare: SlotIndex = choice.source !== 'factory' ? otherSlot(choice.source) : inspect(flash, 0).problem === undefined && inspect(flash, 1).problem !== undefined ? 1 : 0;
    choice.notes.push(`copying the built-in image ${app.version} into slot ${spare}`);
    copied += copy(app.size!, flash.headerBytes, (at, n) => flash.readAppAt(at, n), () => flash.erase(spare), (at, bytes) => flash.write(spare, at, bytes));
    const backup = inspect(flash, spare);
    if (!same(app, backup)) throw new NoBootableImageError(`the copy of the built-in image into slot ${spare} does not check out (${backup.problem ?? 'it differs'}): the flash is failing`);
    commitCopy(flash, after, now, spare, app.version!, choice.notes);
    appSlot = spare;
    if (choice.source === 'factory') choice.source = spare;
  }
  if (choice.source === 'factory' || choice.source === appSlot) return { ...choice, copied };

  const slot = choice.source;
  const source = inspect(flash, slot);
  if (source.version === undefined || source.size === undefined) throw new NoBootableImageError(`slot ${slot} was chosen but does not check out: ${source.problem}`);
  choice.notes.push(`copying ${source.version} from slot ${slot} into the app area`);
  copied += copy(source.size, flash.headerBytes, (at, n) => flash.readSlotAt(slot, at, n), () => flash.eraseApp(), (at, bytes) => flash.writeApp(at, bytes));
  const placed = inspectApp(flash);
  if (!same(placed, source)) throw new NoBootableImageError(`the copy of slot ${slot} into the app area does not check out (${placed.problem ?? 'it differs'}): the flash is failing`);
  return { ...choice, copied };
};

/**
 * Copies `size` bytes sector by sector, the first sector's magic last: until the last write, the
 * destination cannot check out. Returns the bytes programmed.
 */
const copy = (size: number, held: number, read: (at: number, n: number) => Uint8Array, erase: () => void, write: (at: number, bytes: Uint8Array) => void): number => {
  erase();
  const head = Math.min(held, size);
  for (let at = head; at < size; ) {
    const end = Math.min(size, (Math.floor(at / COPY_CHUNK) + 1) * COPY_CHUNK);
    write(at, read(at, end - at));
    at = end;
  }
  write(0, read(0, head));
  return size;
};

/** Stamps `slot`, which holds a copy of the committed built-in image, and records it as committed. */
const commitCopy = (flash: CopyFlash, records: BootRecords, state: BootState, slot: SlotIndex, version: string, notes: string[]): void => {
  try {
    records.raise(Math.max(stampSeq(flash, 0), stampSeq(flash, 1)));
    flash.writeStamp(slot, encodeStamp(records.next(), version));
    records.write({ ...state, committed: slot });
  } catch (error) {
    notes.push(`could not commit the copy in slot ${slot}: ${describeError(error)}`);
  }
};

const rewrite = (flash: CopyFlash, records: BootRecords, state: BootState, notes: string[]): void => {
  try {
    records.raise(Math.max(stampSeq(flash, 0), stampSeq(flash, 1)));
    records.write(state);
  } catch (error) {
    notes.push(`could not write the boot record: ${describeError(error)}`);
  }
};

const stampSeq = (flash: CopyFlash, slot: SlotIndex): number => {
  try {
    return decodeStamp(flash.readStamp(slot))?.seq ?? 0;
  } catch {
    return 0;
  }
};

const stamped = (flash: CopyFlash, slot: SlotIndex, image: SlotImage): boolean => {
  try {
    const stamp = decodeStamp(flash.readStamp(slot));
    return !!stamp && image.version !== undefined && sameVersion(stamp.version, image.version);
  } catch {
    return false;
  }
};

/** The slot whose image the app area holds (the first, if both hold it). */
const matching = (app: SlotImage, images: SlotImage[]): SlotIndex | undefined => {
  if (same(app, images[0])) return 0;
  if (same(app, images[1])) return 1;
  return undefined;
};

const same = (a: SlotImage, b: SlotImage): boolean => {
  return a.version !== undefined && a.version === b.version && a.size === b.size && a.id === b.id;
};

const inspect = (flash: CopyFlash, slot: SlotIndex): SlotImage => {
  try {
    return flash.inspect(slot);
  } catch (error) {
    return { problem: `unreadable (${describeError(error)})` };
  }
};

const inspectApp = (flash: CopyFlash): SlotImage => {
  try {
    return flash.inspectApp();
  } catch (error) {
    return { problem: `unreadable (${describeError(error)})` };
  }
};

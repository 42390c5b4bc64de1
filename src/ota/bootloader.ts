// Which image boots, over a BootFlash, like ESP-IDF's bootloader with app rollback: a new image
// boots on trial a bounded number of times; if it is not committed by then (it crash-loops, or its
// health check failed) the committed image boots again, the rollback is recorded for it to report,
// and the rejected image is invalidated so nothing can select it later.
//
// Without a readable boot record it never guesses: it boots the newest image with a valid commit
// stamp (the last committed one), else the host's built-in image, else (a first boot after a USB
// flash) an image that checks out, and says so in `recovered`, which the firmware reports.
import type { BootFlash, SlotImage, SlotIndex } from './boot-flash';
import { BootRecords, decodeStamp, encodeStamp, sameVersion, type BootSource, type BootState, type Stamp } from './boot-record';
import { describeError } from './errors';
import { SlotUpdate } from './slot-update';

export interface BootOptions {
  /** Starts of an image on trial before it is rolled back. */
  maxBoots: number;
  /** Version of a built-in image the host can start when no slot holds a committed one (the simulator's factory image). */
  factory?: string;
}

export interface BootChoice {
  /** The image to start: a slot, or the built-in image. */
  source: BootSource;
  version: string;
  /** On trial: it must pass its health check (markValid) or it is rolled back. */
  pending: boolean;
  /** What the bootloader decided, for the log. */
  notes: string[];
  /** Set while the boot state had to be rebuilt from the slots (until the next update): what happened. */
  recovered?: string;
  /** The FlashUpdate port of this boot. */
  update: SlotUpdate;
}

export class NoBootableImageError extends Error {
}
NoBootableImageError.prototype.name = 'NoBootableImageError';

interface Pick {
  source: BootSource;
  version: string;
  /** How it was found without the record: by its commit stamp, as the built-in image, or only because it checks out. */
  kind: 'stamped' | 'factory' | 'unstamped';
}

export const chooseBoot = (flash: BootFlash, options: BootOptions): BootChoice => {
  const records = new BootRecords(flash);
  const read = records.read();
  const recordSeq = records.seq;
  const images: SlotImage[] = [inspect(flash, 0), inspect(flash, 1)];
  const stamps = [stampOf(flash, 0, images[0]), stampOf(flash, 1, images[1])];
  const notes: string[] = [];
  const invalidate = (slot: SlotIndex, why: string) => {
    images[slot] = { problem: 'invalidated' };
    stamps[slot] = undefined;
    try {
      flash.invalidate(slot);
      notes.push(`slot ${slot} invalidated: ${why}`);
    } catch (error) {
      notes.push(`could not invalidate slot ${slot} (${why}): ${describeError(error)}`);
    }
  };

  let state: BootState | undefined = read.state && copyState(read.state);
  let dirty = read.problems.length > 0; // rewrite at once, so both copies hold a record again
  let recovered: string | undefined;
  if (state) {
    if (read.problems.length) notes.push(`boot record: ${read.problems.join('; ')}; using record ${recordSeq}`);
    const newest = newestStamped(stamps);
    if (newest !== undefined && stamps[newest]!.seq > recordSeq && state.committed !== newest) {
      // the record of that commit was lost and an older copy was read
      notes.push(`slot ${newest} (${stamps[newest]!.version}) was committed after record ${recordSeq} (stamp ${stamps[newest]!.seq}); it is the committed image`);
      state.committed = newest;
      if (state.trial?.slot === newest) state.trial = undefined;
      dirty = true;
    }
  } else if (!read.blank || stamps[0] || stamps[1]) {
    recovered = `boot record unreadable (${read.problems.join('; ') || 'erased'})`;
  } else {
    notes.push('no boot record yet (new flash)');
  }

  if (state && state.reject !== undefined) {
    if (state.reject !== state.committed) invalidate(state.reject, 'its image was rolled back');
    state.reject = undefined;
    dirty = true;
  }

  let chosen: Pick | undefined;
  let pending = false;
  const trial = state?.trial;
  if (state && trial) {
    trial.boots++;
    dirty = true;
    const image = images[trial.slot];
    let why: string | undefined;
    if (trial.slot === state.committed) why = `slot ${trial.slot} is both committed and on trial`;
    else if (trial.boots > options.maxBoots) why = `crash loop: the image restarted ${options.maxBoots} times without passing its health check`;
    else if (image.version === undefined) why = `the image in slot ${trial.slot} is not bootable: ${image.problem}`;
    else if (!sameVersion(trial.version, image.version)) why = `slot ${trial.slot} holds ${image.version}, not ${trial.version}`;
    if (why === undefined) {
      chosen = { source: trial.slot, version: image.version!, kind: 'stamped' };
      pending = true;
      notes.push(`booting ${trial.version} from slot ${trial.slot} on trial (boot ${trial.boots} of ${options.maxBoots})`);
    } else {
      state.rolledBack = { fromVersion: trial.version, reason: why };
      state.trial = undefined;
      notes.push(`rolling back from ${trial.version}: ${why}`);
      if (trial.slot !== state.committed) invalidate(trial.slot, `${trial.version} was rolled back`);
    }
  }

  let lost: string | undefined;
  if (!chosen && state) {
    const c = state.committed;
    if (c === 'factory') {
      if (options.factory !== undefined) chosen = { source: 'factory', version: options.factory, kind: 'factory' };
      else lost = 'the committed image is a built-in one this host does not have';
    } else if (images[c].version !== undefined) {
      chosen = { source: c, version: images[c].version!, kind: 'stamped' };
    } else {
      lost = `committed slot ${c} is not bootable (${images[c].problem})`;
    }
  }

  if (!chosen) {
    const pick = fallback(images, stamps, options.factory);
    if (!pick) throw new NoBootableImageError(`no slot holds a bootable image (slot 0: ${images[0].problem}; slot 1: ${images[1].problem}) and there is no built-in image`);
    chosen = pick;
    const what = describePick(pick, stamps);
    if (recovered !== undefined || lost !== undefined) {
      recovered = `${recovered ?? lost}: booted ${what}`;
      notes.push(recovered);
    } else {
      notes.push(`booting ${what}`);
    }
    if (pick.kind === 'unstamped' && pick.source !== 'factory') {
      // adopt it (an image flashed over USB has no stamp), so a later recovery finds it
      try {
        records.raise(Math.max(stamps[0]?.seq ?? 0, stamps[1]?.seq ?? 0));
        flash.writeStamp(pick.source, encodeStamp(records.next(), pick.version));
      } catch (error) {
        notes.push(`could not stamp slot ${pick.source}: ${describeError(error)}`);
      }
    } else {
      // an image that was never committed is not started without a record that says so
      for (const slot of [0, 1] as SlotIndex[]) {
        if (slot !== pick.source && images[slot].version !== undefined && !stamps[slot]) invalidate(slot, 'its image was never committed');
      }
    }
    state = state ? { ...state, committed: pick.source, trial: undefined } : { committed: pick.source };
    if (recovered !== undefined) state.recovered = recovered;
    dirty = true;
  } else if (state && !pending) {
    for (const slot of [0, 1] as SlotIndex[]) {
      // written but never marked to boot: power was lost between the last byte and the record
      if (slot !== state.committed && images[slot].version !== undefined && !stamps[slot]) invalidate(slot, 'its image was written but never marked to boot');
    }
  }

  if (dirty) {
    try {
      records.raise(Math.max(stamps[0]?.seq ?? 0, stamps[1]?.seq ?? 0));
      records.write(state!);
    } catch (error) {
      notes.push(`could not write the boot record: ${describeError(error)}`);
    }
  }
  const final = state!;
  const update = new SlotUpdate(flash, records, {
    source: chosen.source,
    version: chosen.version,
    pending,
    rolledBack: final.rolledBack && { ...final.rolledBack },
    recovered: final.recovered,
  });
  return { source: chosen.source, version: chosen.version, pending, notes, recovered: final.recovered, update };
};

const fallback = (images: SlotImage[], stamps: (Stamp | undefined)[], factory: string | undefined): Pick | undefined => {
  const newest = newestStamped(stamps);
  if (newest !== undefined) return { source: newest, version: images[newest].version!, kind: 'stamped' };
  if (factory !== undefined) return { source: 'factory', version: factory, kind: 'factory' };
  for (const slot of [0, 1] as SlotIndex[]) {
    const version = images[slot].version;
    if (version !== undefined) return { source: slot, version, kind: 'unstamped' };
  }
  return undefined;
};

const describePick = (pick: Pick, stamps: (Stamp | undefined)[]): string => {
  if (pick.source === 'factory') return `the built-in image ${pick.version}`;
  if (pick.kind === 'stamped') return `${pick.version} from slot ${pick.source}, the last committed image (stamp ${stamps[pick.source]!.seq})`;
  return `${pick.version} from slot ${pick.source}, the only image that checks out (it has no commit stamp)`;
};

/** The stamped slot committed last. */
const newestStamped = (stamps: (Stamp | undefined)[]): SlotIndex | undefined => {
  const [a, b] = stamps;
  if (a && b) return b.seq > a.seq ? 1 : 0;
  return a ? 0 : b ? 1 : undefined;
};

const inspect = (flash: BootFlash, slot: SlotIndex): SlotImage => {
  try {
    return flash.inspect(slot);
  } catch (error) {
    return { problem: `unreadable (${describeError(error)})` };
  }
};

/** The slot's commit stamp, when it is intact and belongs to the image the slot holds now. */
const stampOf = (flash: BootFlash, slot: SlotIndex, image: SlotImage): Stamp | undefined => {
  if (image.version === undefined) return undefined;
  let stamp: Stamp | undefined;
  try {
    stamp = decodeStamp(flash.readStamp(slot));
  } catch {
    return undefined;
  }
  return stamp && sameVersion(stamp.version, image.version) ? stamp : undefined;
};

const copyState = (s: BootState): BootState => {
  return {
    committed: s.committed,
    trial: s.trial && { ...s.trial },
    rolledBack: s.rolledBack && { ...s.rolledBack },
    reject: s.reject,
    recovered: s.recovered,
  };
};

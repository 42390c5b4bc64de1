// Downloads that continue after a restart: the checkpoint log (two sectors, appended, torn writes
// and erases at every byte), the update port continuing an interrupted image where its last
// checkpoint left it (only for the same key, slot, size and version), and the firmware's view of a
// boot decided by the ESP8266's bootloader (attachBoot).
import { equal, ok, suite } from '../../hosts/xs/harness';
import { Sha256, sha256 } from '../../src/crypto/sha256';
import { attachBoot } from '../../src/ota/attach';
import { BootRecords } from '../../src/ota/boot-record';
import { chooseBoot } from '../../src/ota/bootloader';
import { decodeCheckpoint, encodeCheckpoint, ResumeLog, type Checkpoint } from '../../src/ota/resume-log';
import { check, imageBytes, MemoryFlash, MemorySectors } from './ota-memory-flash';

const SECTOR = 4096;

function checkpoint(offset: number, key = 'job1/abcd'): Checkpoint {
  return { slot: 1, size: 40000, version: '2.0.0', key, offset, held: new Uint8Array([1, 2, 3, 4]), state: new Uint8Array(50).fill(offset & 0xff) };
}

/** A flash whose slots hold 40 KB images, with checkpoint sectors; 1.0.0 committed in slot 0. */
function device(): MemoryFlash {
  const flash = new MemoryFlash({ slotSize: 64 * 1024, checkpoints: new MemorySectors(SECTOR) });
  flash.flashOverUsb(0, '1.0.0');
  chooseBoot(flash, { maxBoots: 3 });
  return flash;
}

export default suite('ota resume', (test) => {
  test('a checkpoint round-trips through its encoding; truncated payloads are refused', () => {
    const c = checkpoint(8192);
    const bytes = encodeCheckpoint(c);
    equal(decodeCheckpoint(bytes), c);
    for (let n = 0; n < bytes.length; n++) equal(decodeCheckpoint(bytes.subarray(0, n)), undefined, `cut at ${n}`);
  });

  test('the log reads back the newest checkpoint; clear() forgets it; a full sector moves to the other one', () => {
    const sectors = new MemorySectors(512);
    const log = new ResumeLog(sectors);
    equal(log.read(), undefined);
    for (let i = 1; i <= 40; i++) {
      log.write(checkpoint(i * SECTOR));
      equal(new ResumeLog(sectors).read()?.offset, i * SECTOR, `after write ${i}`);
    }
    // an entry takes 96 bytes here: five fit a 512-byte sector
    equal(sectors.erases, 8, 'a sector is erased once per five entries, not at each');
    log.clear();
    equal(new ResumeLog(sectors).read(), undefined);
    log.write(checkpoint(SECTOR, 'job2/ef'));
    equal(new ResumeLog(sectors).read()?.key, 'job2/ef');
  });

  test('a power cut at any byte of an append or an erase leaves the previous checkpoint or the new one', () => {
    for (let written = 1; written <= 6; written++) {
      const probe = new MemorySectors(512);
      const plog = new ResumeLog(probe);
      for (let i = 1; i < written; i++) plog.write(checkpoint(i * SECTOR));
      // the cost of the next write in bytes (an erase counts as a whole sector)
      const saved = probe.sectors.map((s) => s.slice());
      probe.budget = 1e9;
      plog.write(checkpoint(written * SECTOR));
      const cost = 1e9 - probe.budget;
      for (let cut = 0; cut <= cost; cut++) {
        const sectors = new MemorySectors(512);
        sectors.sectors[0].set(saved[0]);
        sectors.sectors[1].set(saved[1]);
        sectors.budget = cut;
        new ResumeLog(sectors).write(checkpoint(written * SECTOR));
        const offset = new ResumeLog(sectors).read()?.offset;
        const expected = cut === cost ? [written * SECTOR] : [(written - 1) * SECTOR || undefined, written * SECTOR];
        ok(expected.indexOf(offset) >= 0, `entry ${written}, cut at ${cut} of ${cost}: read ${offset}`);
        // and the log goes on after the cut
        sectors.budget = undefined;
        new ResumeLog(sectors).write(checkpoint(99 * SECTOR));
        equal(new ResumeLog(sectors).read()?.offset, 99 * SECTOR, `entry ${written}, write after a cut at ${cut}`);
      }
    }
  });

  test('an update interrupted after a checkpoint continues from it with the saved state; the image checks out', () => {
    const flash = device();
    const image = imageBytes('2.0.0', 40000);
    const hash = new Sha256();
    const first = chooseBoot(flash, { maxBoots: 3 }).update.open(image.length, '2.0.0', 'job1/aa');
    equal(first.resumedAt ?? 0, 0);
    let saved: Uint8Array = new Uint8Array(0);
    for (let at = 0; at < 20480; at += 1024) {
      const part = image.subarray(at, at + 1024);
      first.write(part);
      hash.update(part);
      if ((at + 1024) % SECTOR === 0 && at + 1024 <= 16384) {
        saved = hash.save();
        ok(first.checkpoint!(saved), `checkpoint at ${at + 1024}`);
      }
    }
    first.write(image.subarray(20480, 20500));
    ok(!first.checkpoint!(hash.save()), 'no checkpoint off a sector boundary (20500)');
    // power lost: the writer is gone; the next boot opens the same update again
    const again = chooseBoot(flash, { maxBoots: 3 }).update.open(image.length, '2.0.0', 'job1/aa');
    equal(again.resumedAt, 16384);
    equal(again.resumedState, saved);
    const resumed = new Sha256().restore(again.resumedState!);
    again.write(image.subarray(16384));
    resumed.update(image.subarray(16384));
    equal(resumed.digest(), sha256(image));
    again.complete();
    equal(check(flash.slots[1].subarray(0, 40000)).version, '2.0.0');
    const trial = chooseBoot(flash, { maxBoots: 3 });
    equal([trial.source, trial.version, trial.pending], [1, '2.0.0', true]);
    equal(new ResumeLog(flash.checkpoints!).read(), undefined, 'completed: the checkpoint is gone');
  });

  test('another key, size or version starts from byte 0 and forgets the old checkpoint; so does cancel()', () => {
    const flash = device();
    const image = imageBytes('2.0.0', 40000);
    const w = chooseBoot(flash, { maxBoots: 3 }).update.open(image.length, '2.0.0', 'job1/aa');
    w.write(image.subarray(0, 8192));
    ok(w.checkpoint!(new Uint8Array([9])));
    w.suspend!();
    for (const [size, version, key] of [[40000, '2.0.0', 'job2/bb'], [40004, '2.0.0', 'job1/aa'], [40000, '2.0.1', 'job1/aa'], [40000, '2.0.0', undefined]] as [number, string, string | undefined][]) {
      const copy = new MemoryFlash({ slotSize: 64 * 1024, checkpoints: new MemorySectors(SECTOR) });
      copy.slots = flash.slots.map((s) => s.slice());
      copy.records = flash.records.slice();
      copy.stamps = flash.stamps.slice();
      copy.checkpoints!.sectors[0].set(flash.checkpoints!.sectors[0]);
      copy.checkpoints!.sectors[1].set(flash.checkpoints!.sectors[1]);
      const other = chooseBoot(copy, { maxBoots: 3 }).update.open(size, version, key);
      equal(other.resumedAt ?? 0, 0, `${size} ${version} ${key}`);
      equal(new ResumeLog(copy.checkpoints!).read(), undefined, `old checkpoint forgotten for ${size} ${version} ${key}`);
      other.cancel();
    }
    const same = chooseBoot(flash, { maxBoots: 3 }).update.open(image.length, '2.0.0', 'job1/aa');
    equal(same.resumedAt, 8192);
    same.cancel();
    equal(new ResumeLog(flash.checkpoints!).read(), undefined, 'cancel() forgets it');
    equal(chooseBoot(flash, { maxBoots: 3 }).update.open(image.length, '2.0.0', 'job1/aa').resumedAt ?? 0, 0);
  });

  test('attachBoot reads what the bootloader started from the record: trial, committed, rollback, built-in', () => {
    const flash = device();
    equal(attachBoot(flash, '1.0.0').running(), { slot: 0, version: '1.0.0', state: 'valid', rolledBack: undefined });
    const w = attachBoot(flash, '1.0.0').open(64, '2.0.0');
    w.write(imageBytes('2.0.0'));
    w.complete();
    chooseBoot(flash, { maxBoots: 3 }); // the bootloader's boot of the trial
    const trial = attachBoot(flash, '2.0.0');
    equal(trial.running().state, 'pending-verify');
    trial.rollback('health check failed');
    chooseBoot(flash, { maxBoots: 3 });
    equal(attachBoot(flash, '1.0.0').running(), { slot: 0, version: '1.0.0', state: 'valid', rolledBack: { fromVersion: '2.0.0', reason: 'health check failed' } });
    flash.records = [undefined, undefined];
    equal(attachBoot(flash, '1.0.0').running().state, 'valid', 'no record: the built-in image, committed');
    equal(new BootRecords(flash).read().state, undefined, 'attachBoot writes nothing');
  });
});

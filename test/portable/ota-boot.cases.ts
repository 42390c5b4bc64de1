// The two-slot bootloader and update port of src/ota on an in-memory flash without a built-in image
// (as an ESP8266 would have): boot records in two checksummed copies, commit stamps, rejected and
// abandoned images invalidated, and what boots when the boot record cannot be read.
import { equal, ok, suite } from '../../hosts/xs/harness';
import { crc32 } from '../../src/crypto/crc32';
import { BootRecords, decodeRecord, decodeStamp, encodeRecord, encodeStamp, recordText } from '../../src/ota/boot-record';
import { chooseBoot, NoBootableImageError } from '../../src/ota/bootloader';
import { SlotUpdateError } from '../../src/ota/slot-update';
import { imageBytes, MemoryFlash } from './ota-memory-flash';

const boot = (flash: MemoryFlash) => chooseBoot(flash, { maxBoots: 3 });

function install(flash: MemoryFlash, version: string, bytes = imageBytes(version)): void {
  const w = boot(flash).update.open(bytes.length, version);
  w.write(bytes.subarray(0, 10));
  w.write(bytes.subarray(10));
  w.complete();
}

function commit(flash: MemoryFlash, version: string): void {
  install(flash, version);
  const trial = boot(flash);
  equal([trial.version, trial.pending], [version, true], 'trial boot');
  trial.update.markValid();
}

function throws(fn: () => unknown, pattern: RegExp, code?: string): void {
  try {
    fn();
  } catch (error) {
    ok(pattern.test((error as Error).message), `message "${(error as Error).message}" should match ${pattern}`);
    if (code) equal((error as SlotUpdateError).code, code);
    return;
  }
  throw new Error(`expected a throw matching ${pattern}`);
}

/** A device flashed over USB with 1.0.0 in slot 0 that committed 2.0.0 into slot 1. */
function updatedDevice(): MemoryFlash {
  const flash = new MemoryFlash();
  flash.flashOverUsb(0, '1.0.0');
  boot(flash);
  commit(flash, '2.0.0');
  return flash;
}

export default suite('ota boot slots', (test) => {
  test('CRC-32 (IEEE) check value', () => {
    equal(crc32(new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39])), 0xcbf43926);
    equal(crc32(new Uint8Array(0)), 0);
  });

  test('a boot record round-trips; any flipped bit, a torn write or erased flash is refused', () => {
    const state = { committed: 1 as const, trial: { slot: 0 as const, version: '2.1.0', boots: 2 }, rolledBack: { fromVersion: '2.0.1', reason: 'crash loop' } };
    const bytes = encodeRecord(state, 41);
    equal(decodeRecord(bytes), { state, seq: 41 });
    for (let i = 0; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i] ^= 0x10;
      ok(decodeRecord(bad).problem !== undefined, `flipped byte ${i} must not decode`);
    }
    equal(decodeRecord(bytes.subarray(0, bytes.length - 1)).problem, 'truncated');
    equal(decodeRecord(new Uint8Array(512).fill(0xff)).problem, 'erased');
    equal(decodeRecord(undefined).problem, 'erased');
    equal(decodeRecord(encodeRecord({ committed: 'factory' }, 1)).state, { committed: 'factory' });
  });

  test('record text is bounded printable ASCII without JSON escapes', () => {
    equal(recordText('a "quoted" \\ path\nnext'), "a 'quoted' / path?next");
    equal(recordText('x'.repeat(500)).length, 140);
    const longest = {
      committed: 'factory' as const,
      trial: { slot: 1 as const, version: 'v'.repeat(99), boots: 300 },
      rolledBack: { fromVersion: 'v'.repeat(99), reason: '\u00e9'.repeat(999) },
      reject: 1 as const,
      recovered: '"'.repeat(999),
    };
    const bytes = encodeRecord(longest, 0xfffffffe);
    ok(bytes.length <= 512, `fits one record copy: ${bytes.length} bytes`);
    equal(decodeRecord(bytes).state?.trial?.boots, 255);
  });

  test('the two copies alternate with rising sequence numbers; the newest valid one is read', () => {
    const flash = new MemoryFlash();
    const records = new BootRecords(flash);
    equal(records.read(), { state: undefined, blank: true, problems: [] });
    records.write({ committed: 0 });
    records.write({ committed: 1 });
    records.write({ committed: 0, trial: { slot: 1, version: '3', boots: 0 } });
    equal([decodeRecord(flash.records[0]).seq, decodeRecord(flash.records[1]).seq], [3, 2]);
    equal(new BootRecords(flash).read().state, { committed: 0, trial: { slot: 1, version: '3', boots: 0 } });
    flash.records[0]![20] ^= 1; // the newest copy torn
    const read = new BootRecords(flash).read();
    equal(read.state, { committed: 1 });
    equal(read.problems, ['copy 0: checksum mismatch']);
  });

  test('a commit stamp names its sequence and version; a damaged one is ignored', () => {
    const stamp = encodeStamp(7, '2.0.0');
    equal(decodeStamp(stamp), { seq: 7, version: '2.0.0' });
    const bad = stamp.slice();
    bad[10] ^= 1;
    equal(decodeStamp(bad), undefined);
    equal(decodeStamp(new Uint8Array(16).fill(0xff)), undefined);
  });

  test('a USB-flashed image boots on a blank flash and is adopted as committed', () => {
    const flash = new MemoryFlash();
    flash.flashOverUsb(0, '1.0.0');
    const first = boot(flash);
    equal([first.source, first.version, first.pending, first.recovered], [0, '1.0.0', false, undefined]);
    ok(first.notes.indexOf('no boot record yet (new flash)') >= 0, first.notes.join());
    equal(decodeStamp(flash.stamps[0])?.version, '1.0.0');
    equal(new BootRecords(flash).read().state, { committed: 0 });
  });

  test('update, trial and commit: the stamp moves with the committed image', () => {
    const flash = updatedDevice();
    const next = boot(flash);
    equal([next.source, next.version, next.pending], [1, '2.0.0', false]);
    equal(next.update.running(), { slot: 1, version: '2.0.0', state: 'valid', rolledBack: undefined });
    ok(decodeStamp(flash.stamps[1])!.seq > decodeStamp(flash.stamps[0])!.seq, 'newer stamp');
  });

  test('a crash-looping trial is rolled back after maxBoots and invalidated', () => {
    const flash = updatedDevice();
    install(flash, '3.0.0'); // slot 0
    for (let i = 0; i < 3; i++) equal(boot(flash).pending, true);
    const back = boot(flash);
    equal([back.source, back.version, back.pending], [1, '2.0.0', false]);
    equal(back.update.running().rolledBack, { fromVersion: '3.0.0', reason: 'crash loop: the image restarted 3 times without passing its health check' });
    equal(flash.inspect(0), { problem: 'no image magic' });
  });

  test('rollback() from the trial: the image is invalidated at the next boot, not while it runs', () => {
    const flash = updatedDevice();
    install(flash, '3.0.0');
    const trial = boot(flash);
    trial.update.rollback('health check failed');
    equal(trial.update.running().state, 'unknown');
    equal(flash.inspect(0).version, '3.0.0');
    const back = boot(flash);
    equal([back.version, back.update.running().rolledBack?.reason], ['2.0.0', 'health check failed']);
    equal(flash.inspect(0), { problem: 'no image magic' });
    throws(() => back.update.rollback('again'), /no pending update/, 'ENOROLLBACK');
  });

  test('the issue: a whole image cancelled after a hash mismatch cannot boot, even with both record copies unreadable', () => {
    const flash = updatedDevice();
    const w = boot(flash).update.open(64, '2.1.0');
    w.write(imageBytes('2.1.0'));
    w.cancel();
    equal(flash.inspect(0), { problem: 'no image magic' });
    flash.records = [new Uint8Array([1, 2, 3]), encodeRecord({ committed: 0 }, 99).subarray(0, 20)];
    const after = boot(flash);
    equal([after.source, after.version, after.pending], [1, '2.0.0', false]);
    ok(/^boot record unreadable \(copy 0: no record magic; copy 1: truncated\): booted 2\.0\.0 from slot 1, the last committed image/.test(after.recovered ?? ''), after.recovered);
    equal(after.update.running().recovered, after.recovered);
  });

  test('a write abandoned midway (power lost) never has its magic; failed checks invalidate', () => {
    const flash = updatedDevice();
    const update = boot(flash).update;
    const bytes = imageBytes('2.1.0');
    update.open(64, '2.1.0').write(bytes.subarray(0, 40)); // no cancel: the power went
    equal(flash.inspect(0), { problem: 'no image magic' });
    const next = boot(flash).update;
    const bad = bytes.slice();
    bad[30] ^= 1;
    const w = next.open(64, '2.1.0');
    w.write(bad);
    throws(() => w.complete(), /rejected: checksum mismatch/, 'EREJECTED');
    equal(flash.inspect(0), { problem: 'no image magic' });
    const short = next.open(64, '2.1.0');
    short.write(bytes.subarray(0, 63));
    throws(() => short.complete(), /ended after 63 of 64 bytes/, 'ESIZE');
    throws(() => next.open(4097, '2.1.0'), /does not fit the update slot of 4096 bytes/, 'ESIZE');
    equal(new BootRecords(flash).read().state?.trial, undefined);
  });

  test('an unreadable record during a trial: the committed image boots, the unverified one is invalidated', () => {
    const flash = updatedDevice();
    install(flash, '3.0.0');
    boot(flash);
    flash.records = [undefined, undefined];
    const after = boot(flash);
    equal([after.source, after.version, after.pending], [1, '2.0.0', false]);
    ok(/boot record unreadable \(erased\)/.test(after.recovered ?? ''), after.recovered);
    equal(flash.inspect(0), { problem: 'no image magic' });
  });

  test('without any committed image or built-in one, an image that checks out boots; with none, a clear error', () => {
    const flash = updatedDevice();
    flash.stamps = [undefined, undefined];
    flash.records = [new Uint8Array(8), undefined];
    const after = boot(flash);
    equal([after.source, after.version], [0, '1.0.0']);
    ok(/the only image that checks out/.test(after.recovered ?? ''), after.recovered);
    flash.slots = [new Uint8Array(0), new Uint8Array(64)];
    throws(() => boot(flash), /no slot holds a bootable image \(slot 0: empty slot; slot 1: no image magic\)/);
    try {
      boot(flash);
    } catch (error) {
      ok(error instanceof NoBootableImageError, 'typed error');
    }
  });
});

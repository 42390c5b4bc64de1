// The simulator's bootloader and flash slots: image format checks, which slot boots, trial boots
// counted and rolled back, corrupt slots skipped, rejected images invalidated, a boot record that
// cannot be read, and the FlashUpdate port's rules.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootSim, buildSimImage, checkSimImage, readSimImage, SimImageError, type SimImage } from '../../hosts/sim/bootloader';
import { SimFlash, type SlotIndex } from '../../hosts/sim/flash';
import { SlotUpdateError } from '../../src/ota/slot-update';

const FACTORY: SimImage = { version: '1.0.0', behaviour: 'ok' };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ota-boot-'));
  dirs.push(d);
  return d;
}

/** Writes `image` through the update port of a boot and marks it to boot. */
function install(d: string, image: SimImage, bytes = buildSimImage(image, 8192)): void {
  const w = bootSim(d, FACTORY).update.open(bytes.length, image.version);
  for (let i = 0; i < bytes.length; i += 1000) w.write(bytes.subarray(i, i + 1000));
  w.complete();
}

/** Installs `image` and commits it (boots it on trial, markValid). */
function commit(d: string, image: SimImage): void {
  install(d, image);
  const trial = bootSim(d, FACTORY);
  expect(trial).toMatchObject({ image, pending: true });
  trial.update.markValid();
}

/** What a slot holds as the bootloader sees it. */
const slotImage = (d: string, slot: SlotIndex) => checkSimImage(new SimFlash(d).readSlot(slot) ?? new Uint8Array(0));

/** Both copies of the boot record: overwritten with garbage, truncated, or deleted. */
function breakRecord(d: string, how: 'garbage' | 'truncate' | 'delete' = 'garbage', copies: (0 | 1)[] = [0, 1]): void {
  const flash = new SimFlash(d);
  for (const copy of copies) {
    const path = flash.recordPath(copy);
    if (how === 'delete') rmSync(path, { force: true });
    else if (how === 'truncate') writeFileSync(path, readFileSync(path).subarray(0, 20));
    else writeFileSync(path, '{"committed": 0}');
  }
}

describe('sim image format', () => {
  it('lays out magic, header length, JSON header, filler and a SHA-256 trailer', () => {
    const bytes = buildSimImage({ version: '2.1.0', behaviour: 'fail-health' }, 4096);
    expect(bytes.length).toBe(4096);
    expect(Buffer.from(bytes.subarray(0, 8)).toString()).toBe('NMSIMG01');
    const h = Buffer.from(bytes).readUInt32BE(8);
    expect(JSON.parse(Buffer.from(bytes.subarray(12, 12 + h)).toString())).toEqual({ version: '2.1.0', behaviour: 'fail-health' });
    expect(Buffer.from(bytes.subarray(4064)).toString('hex')).toBe(createHash('sha256').update(bytes.subarray(0, 4064)).digest('hex'));
    expect(readSimImage(bytes)).toEqual({ version: '2.1.0', behaviour: 'fail-health' });
  });

  it('two versions differ all along (a download of the wrong one cannot pass the hash by luck)', () => {
    const a = buildSimImage({ version: '1.0.0', behaviour: 'ok' }, 4096);
    const b = buildSimImage({ version: '1.0.1', behaviour: 'ok' }, 4096);
    let same = 0;
    for (let i = 100; i < 4000; i++) if (a[i] === b[i]) same++;
    expect(same).toBeLessThan(100); // about 1 in 256 by chance
  });

  it('rejects erased, truncated and corrupted images with the reason', () => {
    const good = buildSimImage({ version: '1.0.0', behaviour: 'ok' }, 4096);
    expect(() => readSimImage(new Uint8Array(4096).fill(0xff))).toThrow(/no image magic/);
    expect(() => readSimImage(good.subarray(0, 3000))).toThrow(/checksum mismatch/);
    const flipped = good.slice();
    flipped[2000] ^= 4;
    expect(() => readSimImage(flipped)).toThrow(SimImageError);
    expect(() => buildSimImage({ version: '1.0.0', behaviour: 'weird' as never })).toThrow(/unknown behaviour "weird"/);
    expect(() => buildSimImage({ version: '1.0.0', behaviour: 'ok' }, 40)).toThrow(/at least/);
  });
});

describe('bootSim', () => {
  it('boots the factory image from empty flash, committed', () => {
    const boot = bootSim(dir(), FACTORY);
    expect(boot.image).toEqual(FACTORY);
    expect(boot.update.running()).toEqual({ slot: 0, version: '1.0.0', state: 'valid', rolledBack: undefined });
  });

  it('boots a completed update on trial into the other slot; markValid commits it', () => {
    const d = dir();
    install(d, { version: '2.0.0', behaviour: 'ok' });
    const trial = bootSim(d, FACTORY);
    expect(trial).toMatchObject({ image: { version: '2.0.0' }, slot: 1, pending: true });
    expect(trial.update.running().state).toBe('pending-verify');
    trial.update.markValid();
    const next = bootSim(d, FACTORY);
    expect(next).toMatchObject({ image: { version: '2.0.0' }, slot: 1, pending: false });
    // the next update goes to slot 0
    install(d, { version: '3.0.0', behaviour: 'ok' });
    expect(new SimFlash(d).readState()?.trial).toEqual({ slot: 0, version: '3.0.0', boots: 0 });
  });

  it('rolls back after maxBoots boots of an image that never commits (crash loop), and records why', () => {
    const d = dir();
    install(d, { version: '2.0.0', behaviour: 'crash-loop' });
    for (let i = 1; i <= 3; i++) expect(bootSim(d, FACTORY, { maxBoots: 3 })).toMatchObject({ image: { version: '2.0.0' }, pending: true });
    const back = bootSim(d, FACTORY, { maxBoots: 3 });
    expect(back).toMatchObject({ image: { version: '1.0.0' }, slot: 0, pending: false });
    expect(back.update.running().rolledBack).toEqual({ fromVersion: '2.0.0', reason: 'crash loop: the image restarted 3 times without passing its health check' });
    // the record stays until the next update is written
    expect(bootSim(d, FACTORY).update.running().rolledBack?.fromVersion).toBe('2.0.0');
    // the rejected image was invalidated: nothing can boot it later
    expect(slotImage(d, 1).problem).toMatch(/no image magic/);
    install(d, { version: '2.0.1', behaviour: 'ok' });
    expect(new SimFlash(d).readState()?.rolledBack).toBeUndefined();
  });

  it('rollback(reason) from the image on trial: the previous image boots next and reports the reason', () => {
    const d = dir();
    install(d, { version: '2.0.0', behaviour: 'fail-health' });
    const trial = bootSim(d, FACTORY);
    trial.update.rollback('free memory too low');
    expect(trial.update.running().state).toBe('unknown');
    const back = bootSim(d, FACTORY);
    expect(back.image.version).toBe('1.0.0');
    expect(back.update.running().rolledBack).toEqual({ fromVersion: '2.0.0', reason: 'free memory too low' });
    expect(back.notes.join()).toMatch(/slot 1 invalidated: its image was rolled back/);
    expect(slotImage(d, 1).problem).toMatch(/no image magic/);
    expect(() => back.update.rollback('again')).toThrow(SlotUpdateError);
  });

  it('skips a trial slot that no longer holds a valid image', () => {
    const d = dir();
    install(d, { version: '2.0.0', behaviour: 'ok' });
    const slot = new SimFlash(d).slotPath(1);
    const bytes = readFileSync(slot);
    bytes[500] ^= 1;
    writeFileSync(slot, bytes);
    const boot = bootSim(d, FACTORY);
    expect(boot.image.version).toBe('1.0.0');
    expect(boot.update.running().rolledBack?.reason).toMatch(/slot 1 is not bootable: checksum mismatch/);
  });

  it('falls back to the factory image when the committed slot is corrupt, and says so', () => {
    const d = dir();
    commit(d, { version: '2.0.0', behaviour: 'ok' }); // slot 1 committed; slot 0 never written
    writeFileSync(new SimFlash(d).slotPath(1), 'garbage');
    const boot = bootSim(d, FACTORY);
    expect(boot).toMatchObject({ image: FACTORY, slot: 0, factory: true, pending: false });
    expect(boot.recovered).toMatch(/committed slot 1 is not bootable .*booted the built-in image 1\.0\.0/);
    expect(boot.update.running().recovered).toBe(boot.recovered);
    writeFileSync(new SimFlash(d).slotPath(0), 'garbage too');
    expect(bootSim(d, FACTORY)).toMatchObject({ image: FACTORY, factory: true });
  });

  it('garbage in the committed slot: the previous committed image in the other slot boots', () => {
    const d = dir();
    commit(d, { version: '2.0.0', behaviour: 'ok' }); // slot 1
    commit(d, { version: '3.0.0', behaviour: 'ok' }); // slot 0; slot 1 keeps 2.0.0, committed before
    writeFileSync(new SimFlash(d).slotPath(0), new Uint8Array(8192).fill(0x5a));
    const boot = bootSim(d, FACTORY);
    expect(boot).toMatchObject({ image: { version: '2.0.0' }, slot: 1, pending: false });
    expect(boot.recovered).toMatch(/committed slot 0 is not bootable.*booted 2\.0\.0 from slot 1, the last committed image/);
    // from now on 2.0.0 is the committed image, and the next update goes to slot 0
    expect(bootSim(d, FACTORY)).toMatchObject({ image: { version: '2.0.0' }, slot: 1, pending: false });
    install(d, { version: '4.0.0', behaviour: 'ok' });
    expect(new SimFlash(d).readState()?.trial?.slot).toBe(0);
  });
});

describe('an unreadable boot record', () => {
  it.each(['garbage', 'truncate', 'delete'] as const)('(%s) never boots the spare slot: the last committed image boots, by its commit stamp', (how) => {
    const d = dir();
    commit(d, { version: '2.0.0', behaviour: 'ok' }); // slot 1
    // a full, internally valid image that the job rejected (hash mismatch) and cancelled, in slot 0
    const rejected = buildSimImage({ version: '2.1.0', behaviour: 'crash-loop' }, 8192);
    const w = bootSim(d, FACTORY).update.open(rejected.length, '2.1.0');
    w.write(rejected);
    w.cancel();
    expect(slotImage(d, 0).problem).toMatch(/no image magic/);
    breakRecord(d, how);
    const boot = bootSim(d, FACTORY);
    expect(boot).toMatchObject({ image: { version: '2.0.0', behaviour: 'ok' }, slot: 1, pending: false });
    const why = how === 'delete' ? 'erased' : how === 'truncate' ? 'copy 0: truncated; copy 1: truncated' : 'copy 0: no record magic; copy 1: no record magic';
    expect(boot.recovered).toMatch(/^boot record unreadable \((.*)\): booted 2\.0\.0 from slot 1, the last committed image \(stamp \d+\)$/);
    expect(/\((.*)\): booted/.exec(boot.recovered!)![1]).toBe(why);
    expect(boot.update.running()).toMatchObject({ slot: 1, version: '2.0.0', state: 'valid', recovered: boot.recovered });
    // the record is whole again, and keeps saying what happened until the next update
    expect(new SimFlash(d).readState()).toMatchObject({ committed: 1, recovered: boot.recovered });
    const again = bootSim(d, FACTORY);
    expect(again.notes.join()).not.toMatch(/unreadable/);
    expect(again.recovered).toBe(boot.recovered);
    install(d, { version: '3.0.0', behaviour: 'ok' });
    expect(new SimFlash(d).readState()?.recovered).toBeUndefined();
  });

  it('one torn copy: the other copy is used and both are whole again', () => {
    const d = dir();
    commit(d, { version: '2.0.0', behaviour: 'ok' });
    install(d, { version: '3.0.0', behaviour: 'ok' }); // the newest record: 3.0.0 on trial in slot 0
    const flash = new SimFlash(d);
    const older = ([0, 1] as const).find((c) => !Buffer.from(flash.readRecord(c)!).includes('"trial"'))!;
    breakRecord(d, 'truncate', [older]); // the trial goes on from the newest copy
    const trial = bootSim(d, FACTORY);
    expect(trial).toMatchObject({ image: { version: '3.0.0' }, pending: true, recovered: undefined });
    expect(trial.notes.join()).toMatch(/boot record: copy \d: truncated; using record/);
    for (const copy of [0, 1] as const) expect(Buffer.from(new SimFlash(d).readRecord(copy)!).subarray(0, 4).toString()).toBe('NMBR');
  });

  it('the newest copy torn: the previous record holds, and the image only the torn copy knew is invalidated', () => {
    const d = dir();
    commit(d, { version: '2.0.0', behaviour: 'ok' });
    install(d, { version: '3.0.0', behaviour: 'ok' });
    const flash = new SimFlash(d);
    const newest = ([0, 1] as const).find((c) => Buffer.from(flash.readRecord(c)!).includes('"trial"'))!;
    breakRecord(d, 'garbage', [newest]);
    const boot = bootSim(d, FACTORY);
    expect(boot).toMatchObject({ image: { version: '2.0.0' }, slot: 1, pending: false });
    expect(boot.notes.join()).toMatch(/slot 0 invalidated: its image was written but never marked to boot/);
  });

  it('during a trial: the committed image boots and the unverified trial image is invalidated', () => {
    const d = dir();
    commit(d, { version: '2.0.0', behaviour: 'ok' }); // slot 1
    install(d, { version: '3.0.0', behaviour: 'crash-loop' }); // slot 0, on trial
    expect(bootSim(d, FACTORY)).toMatchObject({ image: { version: '3.0.0' }, pending: true });
    breakRecord(d);
    const boot = bootSim(d, FACTORY);
    expect(boot).toMatchObject({ image: { version: '2.0.0' }, slot: 1, pending: false });
    expect(boot.notes.join()).toMatch(/slot 0 invalidated: its image was never committed/);
    expect(slotImage(d, 0).problem).toMatch(/no image magic/);
  });

  it('a lost commit record (only the older copy survives): the commit stamp wins over the older record', () => {
    const d = dir();
    commit(d, { version: '2.0.0', behaviour: 'ok' });
    install(d, { version: '3.0.0', behaviour: 'ok' });
    const trial = bootSim(d, FACTORY); // writes the record with boots 1
    const flash = new SimFlash(d);
    const before = [flash.readRecord(0)!, flash.readRecord(1)!];
    trial.update.markValid(); // stamp slot 0, then the record into the other copy
    const after = [flash.readRecord(0)!, flash.readRecord(1)!];
    const written = Buffer.compare(before[0], after[0]) !== 0 ? 0 : 1;
    writeFileSync(flash.recordPath(written), before[written]); // that write never happened
    const boot = bootSim(d, FACTORY);
    expect(boot).toMatchObject({ image: { version: '3.0.0' }, slot: 0, pending: false });
    expect(boot.notes.join()).toMatch(/slot 0 \(3\.0\.0\) was committed after record \d+ \(stamp \d+\)/);
  });

  it('with no record and no commit stamp at all (first boot), the factory image boots without a recovery', () => {
    const d = dir();
    const boot = bootSim(d, FACTORY);
    expect(boot).toMatchObject({ image: FACTORY, factory: true, recovered: undefined });
    expect(boot.notes).toContain('no boot record yet (new flash)');
  });

  it('an image written to its last byte but never marked to boot is invalidated at the next boot', () => {
    const d = dir();
    const bytes = buildSimImage({ version: '2.0.0', behaviour: 'ok' }, 8192);
    const boot = bootSim(d, FACTORY, { faults: { powerCutAt: bytes.length } });
    const w = boot.update.open(bytes.length, '2.0.0');
    w.write(bytes);
    w.complete(); // the power goes after the last byte, before the record
    expect(slotImage(d, 1)).toMatchObject({ version: '2.0.0', size: 8192 });
    expect(new SimFlash(d).readState()?.trial).toBeUndefined();
    const next = bootSim(d, FACTORY);
    expect(next).toMatchObject({ image: FACTORY, pending: false });
    expect(next.notes.join()).toMatch(/slot 1 invalidated: its image was written but never marked to boot/);
    breakRecord(d);
    expect(bootSim(d, FACTORY).image).toEqual(FACTORY);
  });
});

describe('FlashUpdate of the simulator', () => {
  it('refuses an update while the running image is on trial, a second writer, and images too large', () => {
    const d = dir();
    const boot = bootSim(d, FACTORY, { slotSize: 10_000 });
    expect(() => boot.update.open(10_001, '2.0.0')).toThrow(/does not fit the update slot of 10000 bytes/);
    const w = boot.update.open(8192, '2.0.0');
    expect(() => boot.update.open(8192, '2.0.0')).toThrow(/already being written/);
    w.cancel();
    install(d, { version: '2.0.0', behaviour: 'ok' });
    const trial = bootSim(d, FACTORY);
    expect(() => trial.update.open(8192, '3.0.0')).toThrow(/on trial/);
  });

  it('complete() checks length and image, as esp_ota_end does; nothing is marked to boot on failure', () => {
    const d = dir();
    const update = bootSim(d, FACTORY).update;
    const short = update.open(8192, '2.0.0');
    short.write(new Uint8Array(100));
    expect(() => short.complete()).toThrow(/ended after 100 of 8192 bytes/);
    const bad = update.open(8192, '2.0.0');
    const bytes = buildSimImage({ version: '2.0.0', behaviour: 'ok' }, 8192);
    bytes[3000] ^= 1;
    bad.write(bytes);
    expect(() => bad.complete()).toThrow(/rejected: checksum mismatch/);
    expect(slotImage(d, 1).problem).toMatch(/no image magic/);
    const other = update.open(8192, '2.0.1'); // a valid image, but not the version announced
    other.write(buildSimImage({ version: '2.0.0', behaviour: 'ok' }, 8192));
    expect(() => other.complete()).toThrow(/says version 2\.0\.0, the update announced 2\.0\.1/);
    const long = update.open(10, '2.0.0');
    expect(() => long.write(new Uint8Array(11))).toThrow(/longer than the 10 bytes/);
    expect(new SimFlash(d).readState()?.trial).toBeUndefined();
    expect(bootSim(d, FACTORY)).toMatchObject({ image: FACTORY, pending: false });
  });

  it('a cancelled update leaves nothing that can boot, even when every byte was written', () => {
    const d = dir();
    const update = bootSim(d, FACTORY).update;
    const bytes = buildSimImage({ version: '2.0.0', behaviour: 'crash-loop' }, 8192);
    const w = update.open(bytes.length, '2.0.0');
    w.write(bytes);
    expect(readFileSync(new SimFlash(d).slotPath(1)).subarray(8)).toEqual(Buffer.from(bytes.subarray(8)));
    w.cancel();
    expect(slotImage(d, 1).problem).toMatch(/no image magic/);
    expect(() => w.complete()).toThrow(/after complete\(\) or cancel\(\)/);
    update.open(bytes.length, '2.0.0').cancel(); // the slot is free again
  });

  it('a power cut at byte N: N bytes reach the slot, the magic is not among them, the old image boots', () => {
    const d = dir();
    let cuts = 0;
    const boot = bootSim(d, FACTORY);
    boot.flash.setFaults({ powerCutAt: 5000, onPowerCut: () => cuts++ });
    const bytes = buildSimImage({ version: '2.0.0', behaviour: 'ok' }, 8192);
    const w = boot.update.open(bytes.length, '2.0.0');
    w.write(bytes.subarray(0, 4096));
    w.write(bytes.subarray(4096));
    expect(() => w.complete()).toThrow(SlotUpdateError); // the stack unwinds; nothing more reaches the flash
    expect(cuts).toBe(1);
    const slot = readFileSync(new SimFlash(d).slotPath(1));
    expect(slot.length).toBe(8 + 5000);
    expect(slot.subarray(0, 8)).toEqual(Buffer.alloc(8, 0xff));
    expect(slot.subarray(8)).toEqual(Buffer.from(bytes.subarray(8, 5008)));
    expect(bootSim(d, FACTORY)).toMatchObject({ image: FACTORY, pending: false });
  });
});

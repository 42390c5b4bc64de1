// The simulator's bootloader and flash slots: image format checks, which slot boots, trial boots
// counted and rolled back, corrupt slots skipped, and the FlashUpdate port's rules.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootSim, buildSimImage, readSimImage, SimImageError, type SimImage } from '../../hosts/sim/bootloader';
import { SimFlash, SimFlashError } from '../../hosts/sim/flash';

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
    expect(new SimFlash(d).readState().trial).toEqual({ slot: 0, version: '3.0.0', boots: 0 });
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
    install(d, { version: '2.0.1', behaviour: 'ok' });
    expect(new SimFlash(d).readState().rolledBack).toBeUndefined();
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
    expect(() => back.update.rollback('again')).toThrow(SimFlashError);
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

  it('falls back to the other slot, then to the factory image, when the committed slot is corrupt', () => {
    const d = dir();
    install(d, { version: '2.0.0', behaviour: 'ok' });
    bootSim(d, FACTORY).update.markValid(); // slot 1 committed, slot 0 is the factory image (no file)
    writeFileSync(new SimFlash(d).slotPath(1), 'garbage');
    const boot = bootSim(d, FACTORY);
    expect(boot).toMatchObject({ image: FACTORY, slot: 0 });
    expect(boot.notes.join()).toMatch(/committed slot 1 is not bootable/);
    writeFileSync(new SimFlash(d).slotPath(0), 'garbage too');
    expect(bootSim(d, FACTORY)).toMatchObject({ image: FACTORY });
  });

  it('survives a corrupt or missing boot state file (starts from slot 0)', () => {
    const d = dir();
    install(d, { version: '2.0.0', behaviour: 'ok' });
    writeFileSync(join(new SimFlash(d).dir, 'boot.json'), '{"committed": 7');
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
    const long = update.open(10, '2.0.0');
    expect(() => long.write(new Uint8Array(11))).toThrow(/longer than the 10 bytes/);
    expect(new SimFlash(d).readState().trial).toBeUndefined();
  });

  it('a power cut at byte N leaves exactly N bytes in the slot and the old image booting; later calls do nothing', () => {
    const d = dir();
    let cuts = 0;
    const update = bootSim(d, FACTORY).update;
    update.setFaults({ powerCutAt: 5000, onPowerCut: () => cuts++ });
    const bytes = buildSimImage({ version: '2.0.0', behaviour: 'ok' }, 8192);
    const w = update.open(bytes.length, '2.0.0');
    w.write(bytes.subarray(0, 4096));
    w.write(bytes.subarray(4096));
    w.complete();
    expect(cuts).toBe(1);
    expect(readFileSync(new SimFlash(d).slotPath(1)).length).toBe(5000);
    expect(bootSim(d, FACTORY).image.version).toBe('1.0.0');
  });
});

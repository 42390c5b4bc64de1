// nmboot's C boot logic (hosts/moddable/target/esp/nmboot: bootlogic.c, image.c), compiled for this
// machine with gcc, against the TypeScript it mirrors (src/ota/placement.ts over chooseBoot): from
// the same flash bytes, with and without a power cut after any number of programmed bytes, both must
// make the same decision and leave the same bytes. The states come from random walks of a device's
// life: first boot, updates written through the firmware's update port, commits, rollbacks, crash
// loops, cancelled and refused images, USB flashes, and damage to records, stamps, slots and the app
// area. It cannot show what the ROM calls and the loader do on a chip (see docs/flash.md).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../hosts/sim/system';
import { attachBoot } from '../../src/ota/attach';
import { decodeRecord } from '../../src/ota/boot-record';
import { NoBootableImageError } from '../../src/ota/bootloader';
import { bootCopy } from '../../src/ota/placement';
import { buildEsp8266Image, Esp8266TestFlash, inspectEsp8266, TEST_FLASH_SIZE, TEST_LAYOUT } from '../helpers/esp8266-flash';

const SOURCES = 'hosts/moddable/target/esp/nmboot';
const MAX_BOOTS = 3;
const WALKS = Number(process.env.NMBOOT_WALKS ?? 30);
const STEPS = 16;
let dir: string;
let binary: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nmboot-'));
  binary = join(dir, 'nmboot-host');
  const cc = spawnSync('gcc', ['-std=c99', '-Wall', '-Wextra', '-Werror', '-O1', '-DNM_TEST_LAYOUT', `-I${SOURCES}`, `${SOURCES}/bootlogic.c`, `${SOURCES}/image.c`, 'test/helpers/nmboot-host.c', '-o', binary], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc failed:\n${cc.stderr}`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  bytes: Uint8Array;
  /** Slot 0 or 1, 2 for the built-in image, -1 when nothing can run. */
  source: number;
  pending: boolean;
  copied: number;
  failure: boolean;
  programmed: number;
}

function runC(bytes: Uint8Array, cut?: number): Outcome {
  const file = join(dir, 'flash.bin');
  writeFileSync(file, bytes);
  const run = spawnSync(binary, [file, String(MAX_BOOTS), ...(cut === undefined ? [] : [String(cut)])], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`nmboot-host exited ${run.status}: ${run.stderr}`);
  const r = JSON.parse(run.stdout) as { source: number; pending: number; copied: number; programmed: number; failure: string | null };
  return { bytes: new Uint8Array(readFileSync(file)), source: r.failure ? -1 : r.source, pending: !r.failure && !!r.pending, copied: r.copied, failure: r.failure !== null, programmed: r.programmed };
}

function runTs(bytes: Uint8Array, cut?: number): Outcome {
  const flash = new Esp8266TestFlash(bytes.slice(), cut);
  try {
    const r = bootCopy(flash, { maxBoots: MAX_BOOTS });
    return { bytes: flash.bytes, source: r.source === 'factory' ? 2 : r.source, pending: r.pending, copied: r.copied, failure: false, programmed: flash.programmed };
  } catch (error) {
    if (!(error instanceof NoBootableImageError)) throw error;
    return { bytes: flash.bytes, source: -1, pending: false, copied: 0, failure: true, programmed: flash.programmed };
  }
}

function firstDifference(a: Uint8Array, b: Uint8Array): string {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `first difference at 0x${i.toString(16)}: TS ${a[i]}, C ${b[i]}`;
  return 'same bytes';
}

/** What a record copy says, for failure messages. */
function records(bytes: Uint8Array): string {
  return [TEST_LAYOUT.record0, TEST_LAYOUT.record1].map((at) => JSON.stringify(decodeRecord(bytes.subarray(at, at + 512)))).join(' | ');
}

interface Tally {
  boots: number;
  cuts: number;
  copies: number;
  pending: number;
  failures: number;
  rollbacks: number;
  recoveries: number;
  usb: number;
}

/** Boots the same bytes in TS and C, the same cut or none; throws on any difference; returns the TS outcome. */
function compare(bytes: Uint8Array, label: string, tally: Tally, cut?: number): Outcome {
  const ts = runTs(bytes, cut);
  const c = runC(bytes, cut);
  const context = `${label}${cut === undefined ? '' : ` (power cut after ${cut} bytes)`}: ${records(bytes)}`;
  expect({ source: c.source, pending: c.pending, failure: c.failure, programmed: c.programmed }, context).toEqual({ source: ts.source, pending: ts.pending, failure: ts.failure, programmed: ts.programmed });
  if (!ts.failure) expect(c.copied, context).toBe(ts.copied);
  expect(Buffer.compare(Buffer.from(ts.bytes), Buffer.from(c.bytes)), `${context}: ${firstDifference(ts.bytes, c.bytes)}`).toBe(0);
  tally.boots++;
  if (cut !== undefined) tally.cuts++;
  if (ts.copied) tally.copies++;
  if (ts.pending) tally.pending++;
  if (ts.failure) tally.failures++;
  for (const at of [TEST_LAYOUT.record0, TEST_LAYOUT.record1]) {
    const state = decodeRecord(ts.bytes.subarray(at, at + 512)).state;
    if (state?.rolledBack) tally.rollbacks++;
    if (state?.recovered) tally.recoveries++;
  }
  return ts;
}

/** One device's life: boots compared at every step, the firmware's actions and damage in between. */
function walk(seed: number, tally: Tally): void {
  const random = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const chance = (p: number) => random() < p;
  let n = 0;
  const image = (board = 'esp8266') => buildEsp8266Image(`1.${seed % 1000}.${++n}`, board, int(1, 12) * 1024 + int(0, 255) * 4, int(1, 1e9));
  let world = new Esp8266TestFlash();
  world.flashInto('app', image());
  for (let step = 0; step < STEPS; step++) {
    const label = `walk ${seed} step ${step}`;
    let outcome: Outcome;
    if (chance(0.3)) {
      // a power cut somewhere in this boot's writes, then the boot again
      const full = runTs(world.bytes);
      const cut = int(0, Math.max(0, full.programmed));
      compare(world.bytes, label, tally, cut);
      world = new Esp8266TestFlash(runTs(world.bytes, cut).bytes);
    }
    outcome = compare(world.bytes, label, tally);
    world = new Esp8266TestFlash(outcome.bytes);
    if (outcome.failure) break;
    // the firmware of this boot
    const running = world.inspectApp();
    if (running.version === undefined) break;
    const update = attachBoot(world, running.version);
    const roll = random();
    if (update.running().state === 'pending-verify') {
      if (roll < 0.45) update.markValid();
      else if (roll < 0.7) update.rollback('health check failed');
      // else: it crashes or loses power on trial
    } else if (roll < 0.6) {
      const next = chance(0.1) ? image('esp32') : image();
      const version = new TextDecoder().decode(next.subarray(next.length - 80 + 12, next.length - 80 + 12 + next[next.length - 80 + 5]));
      try {
        const w = update.open(next.length, version);
        const end = chance(0.15) ? int(1, next.length - 1) : next.length;
        for (let at = 0; at < end; at += 1500) w.write(next.subarray(at, Math.min(end, at + 1500)));
        if (end < next.length) {
          if (chance(0.5)) w.cancel();
          // else: the power goes mid-download
        } else {
          w.complete();
        }
      } catch {
        // an image for another board, refused at complete(): the writer invalidated what it wrote
      }
    }
    // damage between boots
    const d = random();
    if (d < 0.06) {
      const at = chance(0.5) ? TEST_LAYOUT.record0 : TEST_LAYOUT.record1;
      world.bytes[at + int(0, 40)] ^= 1 << int(0, 7);
    } else if (d < 0.1) {
      for (const at of [TEST_LAYOUT.record0, TEST_LAYOUT.record1]) world.bytes.fill(chance(0.5) ? 0xff : int(0, 255), at, at + 4096);
    } else if (d < 0.14) {
      const slot = int(0, 1) ? TEST_LAYOUT.slot1 : TEST_LAYOUT.slot0;
      world.bytes[slot + int(0, 8000)] ^= 1 << int(0, 7);
    } else if (d < 0.17) {
      world.bytes[TEST_LAYOUT.app + int(0, 8000)] ^= 1 << int(0, 7);
    } else if (d < 0.2) {
      const stamp = (int(0, 1) ? TEST_LAYOUT.slot1 : TEST_LAYOUT.slot0) + TEST_LAYOUT.appSize;
      world.bytes[stamp + int(0, 16)] ^= 1 << int(0, 7);
    } else if (d < 0.24) {
      world.flashInto('app', image()); // a USB flash
      tally.usb++;
    }
  }
}

describe('nmboot (C) against the TypeScript boot logic', () => {
  it('the host build and the tests use the layout nmboot.h declares for tests', () => {
    const header = readFileSync(`${SOURCES}/nmboot.h`, 'utf8');
    const test = header.slice(header.indexOf('#else'), header.indexOf('#endif'));
    const value = (name: string) => Number(new RegExp(`#define ${name} (0x[0-9A-Fa-f]+)u`).exec(test)?.[1]);
    expect({ app: value('NM_APP'), appSize: value('NM_APP_SIZE'), record0: value('NM_RECORD0'), record1: value('NM_RECORD1'), slot0: value('NM_SLOT0'), slot1: value('NM_SLOT1') }).toEqual({ ...TEST_LAYOUT, sector: undefined });
    expect(TEST_LAYOUT.slot1 + 2 * TEST_LAYOUT.appSize).toBeLessThanOrEqual(TEST_FLASH_SIZE);
  });

  it('checks images as the TypeScript does: trailer, CRC, board, and refuses every kind of damage', () => {
    const flash = new Esp8266TestFlash();
    const img = buildEsp8266Image('2.3.4', 'esp8266', 5000 & ~3, 7);
    flash.flashInto('app', img);
    expect(flash.inspectApp()).toEqual({ version: '2.3.4', size: img.length, id: expect.stringMatching(/^[0-9a-f]+$/) });
    const cases: [string, (b: Uint8Array) => void, string][] = [
      ['erased', (b) => b.fill(0xff), 'no image magic'],
      ['irom length', (b) => (b[12] = 3), 'bad image header'],
      ['segment count', (b) => (b[16 + (5000 & ~3) + 1] = 0), 'bad image header'],
      ['trailer magic', (b) => (b[img.length - 80] = 0x41), 'no image trailer'],
      ['trailer version', (b) => (b[img.length - 80 + 5] = 0), 'bad image trailer'],
      ['a body byte', (b) => (b[100] ^= 1), 'checksum mismatch'],
    ];
    for (const [name, damage, problem] of cases) {
      const bytes = img.slice();
      damage(bytes);
      expect(inspectEsp8266(bytes, 0, TEST_LAYOUT.appSize).problem, name).toBe(problem);
    }
    expect(inspectEsp8266(buildEsp8266Image('2.3.4', 'esp32'), 0, TEST_LAYOUT.appSize).problem).toBe('built for another board type');
    // and the C agrees: a boot with each as the only image
    for (const [name, damage] of cases) {
      const bytes = new Esp8266TestFlash();
      const broken = img.slice();
      damage(broken);
      bytes.flashInto('app', broken);
      expect(runC(bytes.bytes).failure, name).toBe(true);
    }
    expect(runC(flash.bytes)).toMatchObject({ source: 0, failure: false, copied: img.length });
  });

  it(`makes the same decisions and writes as the TypeScript over ${WALKS} random walks, with power cuts at random bytes`, () => {
    const tally: Tally = { boots: 0, cuts: 0, copies: 0, pending: 0, failures: 0, rollbacks: 0, recoveries: 0, usb: 0 };
    for (let w = 1; w <= WALKS; w++) walk(w, tally);
    console.log(`nmboot against TypeScript: ${JSON.stringify(tally)}`);
    // the walks reached every kind of boot
    for (const key of ['boots', 'cuts', 'copies', 'pending', 'rollbacks', 'recoveries', 'usb'] as const) expect(tally[key], key).toBeGreaterThan(0);
  }, 120_000);

  it('power cuts across a first update\'s boot (every byte of its first and last 64, sector edges, and a stride between): the C leaves what the TypeScript leaves', () => {
    const tally: Tally = { boots: 0, cuts: 0, copies: 0, pending: 0, failures: 0, rollbacks: 0, recoveries: 0, usb: 0 };
    const world = new Esp8266TestFlash();
    world.flashInto('app', buildEsp8266Image('1.0.0', 'esp8266', 2048, 3));
    const first = compare(world.bytes, 'first boot', tally);
    const device = new Esp8266TestFlash(first.bytes);
    const next = buildEsp8266Image('1.1.0', 'esp8266', 2600, 4);
    const w = attachBoot(device, '1.0.0').open(next.length, '1.1.0');
    w.write(next);
    w.complete();
    const full = runTs(device.bytes);
    expect(full.copied).toBe(next.length);
    const cuts = new Set<number>();
    for (let cut = 0; cut <= full.programmed; cut++) {
      const edge = cut % 4096 <= 2 || cut % 4096 >= 4094;
      if (cut <= 64 || cut >= full.programmed - 64 || edge || cut % 97 === 0) cuts.add(cut);
    }
    for (const cut of cuts) compare(device.bytes, 'trial boot', tally, cut);
    expect(tally.cuts).toBe(cuts.size);
  });
});

// The ESP8266's OTA pieces outside Moddable's build: nmboot (stage 1 for 0x0, stage 2 for
// 0x106000; hosts/moddable/target/esp/nmboot), compiled with the lx106 toolchain of ~/esp (or
// $ESP_BASE) and turned into ROM-loadable images with the SDK's esptool; and the OTA image: main.bin
// with the trailer nmboot and the firmware check (version, board, CRC-32). The OTA image is what
// `npm run flash` writes at 0x1000 and what `fleet rollout` serves to ESP8266 devices.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from '../src/crypto/crc32';
import { FIRMWARE_VERSION } from '../src/version';
import { BuildError, REPO } from './build/errors';

export const NMBOOT_SOURCES = join(REPO, 'hosts/moddable/target/esp/nmboot');
/** Flash addresses (nmboot.h) and limits. */
export const ESP8266_FLASH = { stage1: 0x0, app: 0x1000, stage2: 0x106000, initData: 0x3fc000, appSize: 0xff000, stage1Max: 0x1000, stage2Max: 0xa000 };
const TRAILER = 80;
const TEXT = 32;

/** Where the lx106 toolchain, the SDK's ROM linker script and esptool are (as Moddable's make.esp.mk finds them). */
export function espTools(env: NodeJS.ProcessEnv = process.env): { gcc: string; romLd: string; esptool: string; initData: string } {
  const base = env.ESP_BASE ?? join(env.HOME ?? homedir(), 'esp');
  const os = process.platform === 'darwin' ? 'Darwin' : 'Linux';
  return {
    gcc: join(base, 'toolchain', os, 'xtensa-lx106-elf/bin/xtensa-lx106-elf-gcc'),
    romLd: join(base, 'esp8266-2.3.0/tools/sdk/ld'),
    esptool: join(base, 'ESP8266_RTOS_SDK/components/esptool_py/esptool/esptool.py'),
    initData: join(base, 'ESP8266_RTOS_SDK/components/esp8266/firmware/esp_init_data_default.bin'),
  };
}

/**
 * main.bin (esptool's version 2 image) with the trailer: "NMFW", format 1, version and board
 * lengths, main.bin's length, version[32], board[32], CRC-32 of all that precedes the CRC.
 */
export function appendTrailer(main: Uint8Array, version: string, board = 'esp8266'): Uint8Array {
  const text = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,32}$/;
  if (!text.test(version)) throw new BuildError('BAD_ARGUMENT', `the image version "${version}" must be 1-${TEXT} printable characters without quotes or backslashes`);
  if (!text.test(board)) throw new BuildError('BAD_ARGUMENT', `the board type "${board}" must be 1-${TEXT} printable characters without quotes or backslashes`);
  if (main[0] !== 0xea || main[1] !== 4) throw new BuildError('BUILD_FAILED', 'main.bin is not an ESP8266 "version 2" image (esptool elf2image --version=2)');
  const out = new Uint8Array(main.length + TRAILER);
  out.set(main);
  const t = out.subarray(main.length);
  t.set([0x4e, 0x4d, 0x46, 0x57, 1, version.length, board.length, 0]);
  new DataView(t.buffer, t.byteOffset).setUint32(8, main.length, true);
  for (let i = 0; i < version.length; i++) t[12 + i] = version.charCodeAt(i);
  for (let i = 0; i < board.length; i++) t[44 + i] = board.charCodeAt(i);
  new DataView(t.buffer, t.byteOffset).setUint32(TRAILER - 4, crc32(out, 0, out.length - 4), true);
  return out;
}

/** Writes the OTA image of a built main.bin; refuses one that would not fit the app area. */
export function writeOtaImage(binDir: string, version = FIRMWARE_VERSION): { file: string; size: number } {
  const mainBin = join(binDir, 'main.bin');
  if (!existsSync(mainBin)) throw new BuildError('BUILD_FAILED', `no ${mainBin}: build the esp8266 target first`);
  const image = appendTrailer(new Uint8Array(readFileSync(mainBin)), version);
  if (image.length > ESP8266_FLASH.appSize) {
    // the linker checks only the irom segment: main.bin's RAM segments follow it and would reach Moddable's preferences at 0x100000
    throw new BuildError('BUILD_FAILED', `main.bin with its trailer is ${image.length} bytes, more than the ${ESP8266_FLASH.appSize} of the app area (0x1000-0x100000): it would overwrite Moddable's preferences; make the build smaller`);
  }
  const file = join(binDir, `firmware-esp8266-${version}.bin`);
  writeFileSync(file, image);
  return { file, size: image.length };
}

/** Compiles nmboot's two stages into ROM-loadable images in `outDir`. */
export function buildNmboot(outDir: string, env: NodeJS.ProcessEnv = process.env): { stage1: string; stage2: string; sizes: { stage1: number; stage2: number } } {
  const tools = espTools(env);
  for (const [what, path] of [['the lx106 gcc', tools.gcc], ['the SDK ROM linker scripts', tools.romLd], ['esptool.py', tools.esptool]]) {
    if (!existsSync(path)) throw new BuildError('MISSING_TOOL', `nmboot needs ${what} at ${path} (ESP_BASE, see docs/flash.md)`);
  }
  mkdirSync(outDir, { recursive: true });
  const flags = ['-std=gnu99', '-Os', '-mlongcalls', '-mtext-section-literals', '-ffunction-sections', '-fdata-sections', '-fno-builtin', '-nostdlib', '-Wall', '-Wextra', '-Werror', '-DNM_BOOTLOADER', `-I${NMBOOT_SOURCES}`];
  const stages = { stage1: ['stage1.c'], stage2: ['stage2.c', 'bootlogic.c', 'image.c'] };
  const out: Record<string, string> = {};
  const sizes: Record<string, number> = {};
  for (const [stage, sources] of Object.entries(stages)) {
    const elf = join(outDir, `${stage}.elf`);
    const link = [...flags, ...sources.map((s) => join(NMBOOT_SOURCES, s)), '-o', elf, '-Wl,--gc-sections', `-L${tools.romLd}`, `-T${join(NMBOOT_SOURCES, `${stage}.ld`)}`, `-Wl,-Map=${join(outDir, `${stage}.map`)}`];
    const cc = spawnSync(tools.gcc, link, { encoding: 'utf8' });
    if (cc.status !== 0) throw new BuildError('BUILD_FAILED', `compiling nmboot ${stage}:\n${cc.stderr}`);
    const bin = join(outDir, `${stage}.bin`);
    const image = spawnSync(tools.esptool, ['--chip', 'esp8266', 'elf2image', '--version=1', '-o', bin, elf], { encoding: 'utf8' });
    if (image.status !== 0 || !existsSync(bin)) throw new BuildError('BUILD_FAILED', `esptool elf2image for nmboot ${stage}:\n${image.stdout}${image.stderr}`);
    out[stage] = bin;
    sizes[stage] = statSync(bin).size;
  }
  if (sizes.stage1 > ESP8266_FLASH.stage1Max) throw new BuildError('BUILD_FAILED', `nmboot stage 1 is ${sizes.stage1} bytes; 0x0-0x1000 holds ${ESP8266_FLASH.stage1Max}`);
  if (sizes.stage2 > ESP8266_FLASH.stage2Max) throw new BuildError('BUILD_FAILED', `nmboot stage 2 is ${sizes.stage2} bytes; 0x106000-0x110000 holds ${ESP8266_FLASH.stage2Max}`);
  return { stage1: out.stage1, stage2: out.stage2, sizes: { stage1: sizes.stage1, stage2: sizes.stage2 } };
}

/** After an esp8266 build: nmboot and the OTA image, next to main.bin. */
export function packageEsp8266(binDir: string, env: NodeJS.ProcessEnv = process.env): { stage1: string; stage2: string; image: string; imageSize: number; sizes: { stage1: number; stage2: number } } {
  const boot = buildNmboot(join(binDir, 'nmboot'), env);
  const ota = writeOtaImage(binDir);
  return { ...boot, image: ota.file, imageSize: ota.size };
}

/** esptool write_flash arguments for a board: nmboot, the OTA image at 0x1000, the SDK's init data (as make.esp.mk). */
export function esp8266FlashArgs(parts: { stage1: string; stage2: string; image: string }, env: NodeJS.ProcessEnv = process.env): string[] {
  const hex = (n: number) => `0x${n.toString(16)}`;
  return ['--flash_freq', '40m', '--flash_mode', 'dio', '--flash_size', '4MB', hex(ESP8266_FLASH.stage1), parts.stage1, hex(ESP8266_FLASH.app), parts.image, hex(ESP8266_FLASH.stage2), parts.stage2, hex(ESP8266_FLASH.initData), espTools(env).initData];
}

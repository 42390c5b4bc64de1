// Builds and flashes a NodeMCU over USB serial.
//   npm run flash -- --target esp32|esp8266 --port /dev/ttyUSB0 [--debug] [--board esp32/nodemcu] [key=value ...]
//       ESP32: mcconfig -m with UPLOAD_PORT: the SDK builds, then writes bootloader, partition table
//       and app (idf.py flash). ESP8266: the build, nmboot and the OTA image (scripts/nmboot.ts), then
//       esptool writes nmboot at 0x0 and 0x106000 instead of boot_v1.7.bin, and the image at 0x1000.
//   npm run flash -- --target esp32 --port /dev/ttyUSB0 --prebuilt <ESP-IDF build folder>
//       writes an image built earlier, with esptool.py and the flash_args file ESP-IDF leaves there.
// A USB flash is the only way to install a bootloader (the ESP32's with app rollback, the
// ESP8266's nmboot): OTA updates never rewrite it.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BuildError, PLATFORMS, REPO, buildFirmware, checkConfigArgs, missingPrerequisites, parseTarget, run, toolEnv, type Target } from './build';
import { esp8266FlashArgs, espTools, packageEsp8266 } from './nmboot';

export interface FlashOptions {
  target: Target;
  port: string;
  board?: string;
  debug?: boolean;
  prebuilt?: string;
  config?: string[];
  env?: NodeJS.ProcessEnv;
}

export function checkFlashOptions(options: FlashOptions): void {
  if (options.target === 'lin') throw new BuildError('BAD_ARGUMENT', 'the desktop build is not flashed: run npm run sim:moddable');
  if (!options.port) throw new BuildError('BAD_ARGUMENT', 'give the serial port of the board: --port /dev/ttyUSB0 (ls /dev/ttyUSB* /dev/ttyACM* before and after plugging it in)');
  if (!existsSync(options.port)) {
    throw new BuildError(
      'BAD_ARGUMENT',
      `serial port ${options.port} does not exist: is the board plugged in, and the CP210x/CH340 USB driver loaded? (ls /dev/ttyUSB* /dev/ttyACM*; add yourself to the dialout group for access)`,
    );
  }
  if (options.prebuilt !== undefined) {
    if (options.target !== 'esp32') throw new BuildError('BAD_ARGUMENT', '--prebuilt is for ESP32 images (an ESP-IDF build folder with flash_args)');
    if (!existsSync(join(options.prebuilt, 'flash_args'))) {
      throw new BuildError('BAD_ARGUMENT', `${options.prebuilt} has no flash_args: give the ESP-IDF build folder of an earlier build (build/moddable/tmp/esp32/nodemcu/release/<app>/xsProj-esp32/build)`);
    }
  }
}

export async function flash(options: FlashOptions): Promise<void> {
  checkFlashOptions(options);
  const env = options.env ?? process.env;
  if (options.prebuilt !== undefined) {
    // esptool.py comes with ESP-IDF (source $IDF_PATH/export.sh puts it on PATH)
    await run('esptool.py', ['--chip', 'esp32', '-p', options.port, '-b', '921600', 'write_flash', '@flash_args'], {
      cwd: resolve(options.prebuilt),
      env,
      what: 'esptool.py write_flash',
    });
    return;
  }
  const problems = missingPrerequisites(options.target, env);
  if (problems.length) throw new BuildError('MISSING_TOOL', problems.join('\n'));
  checkConfigArgs(options.config ?? []);
  const board = options.board ?? PLATFORMS[options.target];
  if (options.target === 'esp8266') {
    const built = await buildFirmware({ target: 'esp8266', board, debug: options.debug, config: options.config, env });
    const parts = packageEsp8266(built.binDir, env);
    await run(espTools(env).esptool, ['--chip', 'esp8266', '-b', '921600', '-p', options.port, 'write_flash', ...esp8266FlashArgs(parts, env)], { env, what: 'esptool.py write_flash' });
    return;
  }
  const args = ['-m', '-p', board, ...(options.debug ? ['-d'] : []), '-o', join(REPO, 'build/moddable'), join(REPO, 'manifest.json'), ...(options.config ?? [])];
  await run('mcconfig', args, { env: { ...toolEnv(env), UPLOAD_PORT: options.port }, what: `mcconfig ${args.join(' ')}` });
}

async function cli(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      target: { type: 'string' },
      port: { type: 'string' },
      board: { type: 'string' },
      debug: { type: 'boolean', default: false },
      prebuilt: { type: 'string' },
    },
  });
  const target = parseTarget(values.target);
  await flash({ target, port: values.port ?? '', board: values.board, debug: values.debug, prebuilt: values.prebuilt, config: positionals });
  console.log(`flashed ${values.board ?? PLATFORMS[target]} on ${values.port}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli().catch((error: unknown) => {
    console.error(error instanceof BuildError ? `flash: ${error.message}` : error);
    process.exit(error instanceof BuildError && error.code === 'BAD_ARGUMENT' ? 2 : 1);
  });
}

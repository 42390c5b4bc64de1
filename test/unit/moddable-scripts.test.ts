// npm run build / flash / sim:moddable: what they say when something is missing. Each message
// must name what is missing and where to get it; nothing is built or flashed here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPaths, checkConfigArgs, missingPrerequisites, parseTarget } from '../../scripts/build';
import { checkFlashOptions } from '../../scripts/flash';

const root = resolve(import.meta.dirname, '../..');
const home = mkdtempSync(join(tmpdir(), 'moddable-scripts-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** An environment with no SDK and no toolchains. */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, ...extra };
}

function script(name: string, args: string[], env: NodeJS.ProcessEnv) {
  const result = spawnSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'scripts', name), ...args], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: result.stdout + result.stderr };
}

describe('missingPrerequisites', () => {
  it('names MODDABLE and ESP-IDF for an ESP32 build on a bare machine, with where to get them', () => {
    const problems = missingPrerequisites('esp32', bareEnv());
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('MODDABLE is not set');
    expect(problems[0]).toContain('https://github.com/Moddable-OpenSource/moddable');
    expect(problems[1]).toContain('IDF_PATH is not set');
    expect(problems[1]).toContain('git clone -b v6.0 --recursive https://github.com/espressif/esp-idf.git');
  });

  it('tells an SDK checkout whose tools were never built from a missing one', () => {
    const sdk = join(home, 'moddable');
    mkdirSync(sdk, { recursive: true });
    const [problem] = missingPrerequisites('lin', bareEnv({ MODDABLE: sdk }));
    expect(problem).toContain(`MODDABLE=${sdk} has no built tools`);
    expect(problem).toContain('build/makefiles/lin && make');
  });

  it('lists each missing part of the ESP8266 toolchain in ~/esp', () => {
    mkdirSync(join(home, 'esp', 'toolchain'), { recursive: true });
    const problems = missingPrerequisites('esp8266', bareEnv());
    const esp = problems.find((p) => p.startsWith('ESP8266 builds need'))!;
    expect(esp).toContain(join(home, 'esp'));
    expect(esp).not.toContain('toolchain/ =');
    expect(esp).toContain('esp8266-2.3.0/ = the ESP8266 Arduino core 2.3.0');
    expect(esp).toContain('ESP8266_RTOS_SDK/ = the ESP8266 RTOS SDK, branch release/v3.2');
  });

  it('rejects an IDF_PATH that is not an ESP-IDF checkout', () => {
    const problems = missingPrerequisites('esp32', bareEnv({ IDF_PATH: home }));
    expect(problems.some((p) => p.includes(`IDF_PATH=${home} is not an ESP-IDF checkout`))).toBe(true);
  });
});

describe('build arguments', () => {
  it('accepts the three targets and nothing else', () => {
    expect(['esp32', 'esp8266', 'lin'].map(parseTarget)).toEqual(['esp32', 'esp8266', 'lin']);
    expect(() => parseTarget('esp32s3')).toThrow('--target must be esp32, esp8266 or lin, not "esp32s3"');
  });

  it("finds mcconfig's output where the SDK writes it", () => {
    // mcconfig -o OUT -p lin writes OUT/bin/lin/mc/release/<NAME>; -p esp32/nodemcu OUT/bin/esp32/nodemcu/release/<NAME>
    expect(buildPaths({ target: 'lin', out: '/o' }).binDir).toBe('/o/bin/lin/mc/release/nodemcu-firmware');
    expect(buildPaths({ target: 'esp32', out: '/o', debug: true }).tmpDir).toBe('/o/tmp/esp32/nodemcu/debug/nodemcu-firmware');
    expect(buildPaths({ target: 'lin', board: 'sim/nodemcu', out: '/o' }).binDir).toBe('/o/bin/lin/nodemcu/release/nodemcu-firmware');
  });

  it('npm run build fails on a bare machine with every missing piece, exit code 1', () => {
    const { status, output } = script('build.ts', ['--target', 'esp32'], bareEnv());
    expect(status).toBe(1);
    expect(output).toContain('build: MODDABLE is not set');
    expect(output).toContain('IDF_PATH is not set');
  });

  it('refuses a config override that is not key=value', () => {
    expect(() => checkConfigArgs(['brokerHost=10.0.0.5', 'heartbeatInterval=15', 'i2c.data=4'])).not.toThrow();
    expect(() => checkConfigArgs(['broker host'])).toThrow('"broker host" is not a config override; write key=value');
    expect(() => checkConfigArgs(['=1'])).toThrow('is not a config override');
  });
});

describe('flash arguments', () => {
  it('asks for the serial port, and says how to find it', () => {
    expect(() => checkFlashOptions({ target: 'esp32', port: '' })).toThrow('--port /dev/ttyUSB0');
    expect(() => checkFlashOptions({ target: 'esp32', port: join(home, 'ttyUSB9') })).toThrow(/does not exist: is the board plugged in/);
  });

  it('does not flash the desktop build, and takes a prebuilt image only for the ESP32', () => {
    expect(() => checkFlashOptions({ target: 'lin', port: '/dev/null' })).toThrow('npm run sim:moddable');
    expect(() => checkFlashOptions({ target: 'esp8266', port: '/dev/null', prebuilt: home })).toThrow('--prebuilt is for ESP32 images');
    expect(() => checkFlashOptions({ target: 'esp32', port: '/dev/null', prebuilt: home })).toThrow('has no flash_args');
  });

  it('npm run flash without a port exits 2 with the hint', () => {
    const { status, output } = script('flash.ts', ['--target', 'esp32'], bareEnv());
    expect(status).toBe(2);
    expect(output).toContain('flash: give the serial port of the board: --port /dev/ttyUSB0');
  });
});

describe('sim:moddable', () => {
  it('fails on a bare machine naming the SDK, before starting anything', () => {
    const { status, output } = script('sim-moddable.ts', ['--no-build'], bareEnv());
    expect(status).toBe(1);
    expect(output).toContain('sim:moddable: MODDABLE is not set');
  });
});

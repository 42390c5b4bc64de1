// Builds the desktop build of the firmware (mcconfig -p lin) and runs it in Moddable's simulator,
// mcsim: the firmware on the XS engine, with real TCP sockets, Moddable's simulated Wi-Fi and the
// simulated chips of hosts/sim/chips. mcsim needs a display: without DISPLAY it starts Xvfb.
//   npm run sim:moddable -- [--board lin|sim/nodemcu] [--duration SECONDS] [--no-build] [--bundle] [--jobs N] [key=value ...]
// --bundle: the firmware as one bundled module, as the ESP8266 build packs it (scripts/build/bundle.ts).
//   e.g. npm run sim:moddable -- brokerHost=127.0.0.1 brokerPort=1883 heartbeatInterval=10
// The firmware's log (trace) goes to stdout. Ctrl-C stops it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BuildError, buildFirmware, buildPaths, missingPrerequisites, type BuildOptions } from './build';

/** The simulator binary and its extra arguments, as mcconfig wrote them into the makefile. */
export function simulatorCommand(makefile: string): { simulator: string; extra: string[] } {
  const text = readFileSync(makefile, 'utf8');
  const simulator = /^SIMULATOR\s*=\s*(.+)$/m.exec(text)?.[1]?.trim();
  const extra = /^SIMULATORS\s*=\s*(.*)$/m.exec(text)?.[1]?.trim();
  if (!simulator) throw new BuildError('BUILD_FAILED', `${makefile} names no SIMULATOR: was it written by mcconfig -p lin?`);
  return { simulator, extra: extra ? extra.split(/\s+/) : [] };
}

/** Starts Xvfb on the first free display from :90; resolves with the display and the process. */
export async function startXvfb(): Promise<{ display: string; process: ChildProcess }> {
  if (spawnSync('which', ['Xvfb']).status !== 0) {
    throw new BuildError('MISSING_TOOL', 'mcsim needs a display: set DISPLAY, or install Xvfb (apt-get install xvfb) so this script can start one');
  }
  for (let n = 90; n < 110; n++) {
    if (existsSync(`/tmp/.X${n}-lock`)) continue;
    const child = spawn('Xvfb', [`:${n}`, '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    const ok = await new Promise<boolean>((done) => {
      const timer = setTimeout(() => done(true), 1000);
      child.once('exit', () => {
        clearTimeout(timer);
        done(false);
      });
    });
    if (ok) return { display: `:${n}`, process: child };
  }
  throw new BuildError('MISSING_TOOL', 'no free X display between :90 and :109 for Xvfb; set DISPLAY yourself');
}

async function cli(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      duration: { type: 'string' },
      board: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      jobs: { type: 'string' },
      out: { type: 'string' },
      bundle: { type: 'boolean', default: false },
    },
  });
  const duration = values.duration === undefined ? undefined : Number(values.duration);
  if (duration !== undefined && !(duration > 0)) throw new BuildError('BAD_ARGUMENT', `--duration must be a positive number of seconds, not "${values.duration}"`);
  const jobs = values.jobs === undefined ? undefined : Number(values.jobs);
  const board = values.board ?? 'lin';
  if (!/^(lin|sim|simulator)(\/[\w-]+)?$/.test(board)) throw new BuildError('BAD_ARGUMENT', `--board must be lin or a simulator like sim/nodemcu, not "${board}"`);
  const options: BuildOptions = { target: 'lin', board, config: positionals, out: values.out, jobs, bundle: values.bundle };
  if (values['no-build']) {
    const problems = missingPrerequisites('lin');
    if (problems.length) throw new BuildError('MISSING_TOOL', problems.join('\n'));
  } else {
    await buildFirmware(options);
  }
  const { tmpDir, binDir } = buildPaths(options);
  const library = join(binDir, 'mc.so');
  if (!existsSync(library)) throw new BuildError('BUILD_FAILED', `${library} is missing: build first (drop --no-build)`);
  const { simulator, extra } = simulatorCommand(join(tmpDir, 'makefile'));

  let xvfb: ChildProcess | undefined;
  let display = process.env.DISPLAY;
  if (!display) {
    const started = await startXvfb();
    xvfb = started.process;
    display = started.display;
  }
  // stdbuf keeps trace() output line by line when stdout is a pipe
  const useStdbuf = spawnSync('which', ['stdbuf']).status === 0;
  const command = useStdbuf ? 'stdbuf' : simulator;
  const args = [...(useStdbuf ? ['-o0', simulator] : []), ...extra, library];
  const sim = spawn(command, args, { stdio: 'inherit', env: { ...process.env, DISPLAY: display } });
  const stop = () => {
    if (sim.exitCode === null) sim.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const timer = duration === undefined ? undefined : setTimeout(stop, duration * 1000);
  const code = await new Promise<number | null>((done) => sim.on('exit', (c) => done(c)));
  if (timer) clearTimeout(timer);
  xvfb?.kill('SIGTERM');
  if (code !== 0 && code !== null) process.exitCode = code;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli().catch((error: unknown) => {
    console.error(error instanceof BuildError ? `sim:moddable: ${error.message}` : error);
    process.exit(error instanceof BuildError && error.code === 'BAD_ARGUMENT' ? 2 : 1);
  });
}

// npm start: simulated NodeMCU devices running the firmware from src/, an embedded MQTT broker, a
// live terminal view (log lines without a terminal) and a web dashboard. See docs/simulator.md.
import { startSim } from './sim/app';
import { CliError, parseSimArgs, USAGE } from './sim/cli';

let options;
try {
  options = parseSimArgs(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof CliError)) throw error;
  process.stderr.write(`${error.message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}

let app: Awaited<ReturnType<typeof startSim>>;
try {
  app = await startSim(options, { stdout: process.stdout, stdin: process.stdin });
} catch (error) {
  const e = error as Error & { code?: string };
  process.stderr.write(`simulator: ${e.message}\n`);
  process.exit(1);
}

let firstSignal = 0;
const onSignal = (signal: NodeJS.Signals) => {
  const now = Date.now();
  if (!firstSignal) {
    firstSignal = now;
    void app.stop();
    return;
  }
  // npm and tsx relay a terminal's Ctrl-C, so one press can arrive twice in a row: only a later
  // press means "do not wait for the devices' offline".
  if (now - firstSignal < 1000) return;
  process.stderr.write(`simulator: ${signal} again, exiting without waiting for "offline"\n`);
  process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('SIGHUP', onSignal);

await app.done;
process.exit(0);

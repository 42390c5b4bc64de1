// Child process for harness cleanup tests: starts a broker, prints its pid, then either idles until
// killed ("idle") or exits without stopping the broker ("exit").
import { startMosquitto } from '../../scripts/broker/mosquitto';

const broker = await startMosquitto({ persistence: true });
process.stdout.write(`${broker.pid} ${broker.dir}\n`);
if (process.argv[2] === 'exit') process.exit(0);
setTimeout(() => process.exit(3), 30_000); // bounded in case the parent forgets us

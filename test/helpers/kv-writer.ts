// Child process for kv tests: `node --import tsx test/helpers/kv-writer.ts <dir> <mode>`.
// mode "once": writes a string and bytes, then exits. mode "loop": rewrites one key with two large
// alternating values until killed (for crash-atomicity tests), 20 s at most.
import { FileKeyValueStore } from '../../hosts/sim/kv';

const [dir, mode] = process.argv.slice(2);
const store = new FileKeyValueStore(dir);
if (mode === 'once') {
  store.set('greeting', 'hello from child');
  store.set('blob', Uint8Array.of(0, 1, 2, 254, 255));
} else if (mode === 'loop') {
  const size = Number(process.argv[4] ?? 262144);
  const a = 'a'.repeat(size);
  const b = 'b'.repeat(size);
  store.set('big', b);
  // Only now may the parent kill us: a value is committed, so "missing" would be a real bug.
  process.stdout.write('ready\n');
  const deadline = Date.now() + 20_000; // in case the parent dies before killing us
  for (let i = 0; i < 1_000_000 && Date.now() < deadline; i++) store.set('big', i % 2 === 0 ? a : b);
}

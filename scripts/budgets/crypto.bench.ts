// Runs inside XS: crypto budgets.
import { sha256 } from '../../src/crypto/sha256';
import { serveBenchmarks } from '../../hosts/xs/in-xs/bench';

const kilobyte = new Uint8Array(1024).map((_v, i) => (i * 7) & 0xff);

serveBenchmarks({
  'sha256.1k': {
    run() {
      sha256(kilobyte);
    },
  },
});

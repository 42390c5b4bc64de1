// Hash functions against published vectors: FIPS 180-4 examples (NIST "Example Algorithms",
// https://csrc.nist.gov/projects/cryptographic-standards-and-guidelines/example-values) for SHA-1,
// SHA-256 and SHA-512, and the RFC 1321 appendix A.5 test suite for MD5.
import { equal, hex, ok, suite, throws } from '../../hosts/xs/harness';
import { CryptoError } from '../../src/crypto/errors';
import type { Hash } from '../../src/crypto/hash';
import { Md5, md5 } from '../../src/crypto/md5';
import { Sha1, sha1 } from '../../src/crypto/sha1';
import { Sha256, sha256 } from '../../src/crypto/sha256';
import { Sha512, sha512 } from '../../src/crypto/sha512';
import { utf8Encode } from '../../src/text/utf8';

const ABC = 'abc';
const M448 = 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq';
const M896 =
  'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu';

interface Algorithm {
  name: string;
  make: () => Hash;
  oneShot: (data: Uint8Array | string) => Uint8Array;
  vectors: [string, string][];
  blockSize: number;
  outputLength: number;
}

const algorithms: Algorithm[] = [
  {
    name: 'SHA-256',
    make: () => new Sha256(),
    oneShot: sha256,
    blockSize: 64,
    outputLength: 32,
    vectors: [
      [ABC, 'ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad'],
      ['', 'e3b0c442 98fc1c14 9afbf4c8 996fb924 27ae41e4 649b934c a495991b 7852b855'],
      [M448, '248d6a61 d20638b8 e5c02693 0c3e6039 a33ce459 64ff2167 f6ecedd4 19db06c1'],
      [M896, 'cf5b16a7 78af8380 036ce59e 7b049237 0b249b11 e8f07a51 afac4503 7afee9d1'],
    ],
  },
  {
    name: 'SHA-1',
    make: () => new Sha1(),
    oneShot: sha1,
    blockSize: 64,
    outputLength: 20,
    vectors: [
      [ABC, 'a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d'],
      ['', 'da39a3ee 5e6b4b0d 3255bfef 95601890 afd80709'],
      [M448, '84983e44 1c3bd26e baae4aa1 f95129e5 e54670f1'],
      [M896, 'a49b2446 a02c645b f419f995 b6709125 3a04a259'],
    ],
  },
  {
    name: 'SHA-512',
    make: () => new Sha512(),
    oneShot: sha512,
    blockSize: 128,
    outputLength: 64,
    vectors: [
      [ABC, 'ddaf35a193617aba cc417349ae204131 12e6fa4e89a97ea2 0a9eeee64b55d39a 2192992a274fc1a8 36ba3c23a3feebbd 454d4423643ce80e 2a9ac94fa54ca49f'],
      ['', 'cf83e1357eefb8bd f1542850d66d8007 d620e4050b5715dc 83f4a921d36ce9ce 47d0d13c5d85f2b0 ff8318d2877eec2f 63b931bd47417a81 a538327af927da3e'],
      [M448, '204a8fc6dda82f0a 0ced7beb8e08a416 57c16ef468b228a8 279be331a703c335 96fd15c13b1b07f9 aa1d3bea57789ca0 31ad85c7a71dd703 54ec631238ca3445'],
      [M896, '8e959b75dae313da 8cf4f72814fc143f 8f7779c6eb9f7fa1 7299aeadb6889018 501d289e4900f7e4 331b99dec4b5433a c7d329eeb6dd2654 5e96e55b874be909'],
    ],
  },
  {
    name: 'MD5',
    make: () => new Md5(),
    oneShot: md5,
    blockSize: 64,
    outputLength: 16,
    vectors: [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      [ABC, '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
      ['1234567890'.repeat(8), '57edf4a22be3c955ac49da2e2107b67a'],
    ],
  },
];

export default suite('crypto: SHA-1, SHA-256, SHA-512, MD5', (test) => {
  for (const algorithm of algorithms) {
    for (const [message, digest] of algorithm.vectors) {
      const label = message.length > 20 ? `${message.length}-byte "${message.slice(0, 8)}..."` : JSON.stringify(message);
      test(`${algorithm.name} of ${label}`, () => {
        equal(algorithm.oneShot(message), hex(digest));
      });
    }

    test(`${algorithm.name}: fed in odd chunk sizes, the digest equals the published one`, () => {
      // The 896-bit message spans blocks, so chunks straddle block boundaries in every way.
      const [message, digest] = algorithm.vectors.find(([m]) => m === M896) ?? algorithm.vectors[algorithm.vectors.length - 1];
      const bytes = utf8Encode(message);
      for (const size of [1, 3, 7, 13, 55, 56, 63, 64, 65, 111, 127, 128, 129]) {
        const hash = algorithm.make();
        for (let i = 0; i < bytes.length; i += size) hash.update(bytes.subarray(i, i + size));
        equal(hash.digest(), hex(digest), `chunks of ${size}`);
      }
    });

    test(`${algorithm.name}: digest() resets, so the object hashes the next message from scratch`, () => {
      const hash = algorithm.make();
      const abc = algorithm.vectors.find(([m]) => m === ABC);
      ok(abc);
      hash.update(utf8Encode('something else'));
      hash.digest();
      equal(hash.update(utf8Encode(ABC)).digest(), hex(abc[1]));
      hash.update(utf8Encode('dropped'));
      equal(hash.reset().update(utf8Encode(ABC)).digest(), hex(abc[1]), 'after reset()');
    });

    test(`${algorithm.name}: sizes`, () => {
      const hash = algorithm.make();
      equal([hash.blockSize, hash.outputLength], [algorithm.blockSize, algorithm.outputLength]);
    });
  }

  test('SHA-256 saved at any byte and restored into a new object gives the published digest', () => {
    // a download that a restart interrupts continues its hash from the saved state
    const bytes = utf8Encode(M896);
    const digest = hex('cf5b16a7 78af8380 036ce59e 7b049237 0b249b11 e8f07a51 afac4503 7afee9d1');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const state = new Sha256().update(bytes.subarray(0, cut)).save();
      equal(state.length, 42 + (cut % 64), `state at ${cut}`);
      equal(new Sha256().restore(state).update(bytes.subarray(cut)).digest(), digest, `cut at ${cut}`);
    }
    const a = new Sha256().update(utf8Encode('a'.repeat(1000)));
    equal(new Sha256().restore(a.save()).digest(), sha256('a'.repeat(1000)), 'restore, then digest at once');
  });

  test('SHA-256 restore refuses what is not a saved state, and keeps working after', () => {
    const good = new Sha256().update(utf8Encode('abcdef')).save();
    const wrongCount = good.slice();
    wrongCount[41] = 5;
    const wrongVersion = good.slice();
    wrongVersion[0] = 9;
    const wrongLength = good.slice();
    wrongLength[40] ^= 1; // 7 bytes counted, 6 buffered
    for (const [name, bad] of [['empty', new Uint8Array(0)], ['buffered count', wrongCount], ['version', wrongVersion], ['byte count', wrongLength], ['too long', new Uint8Array(42 + 64)]] as [string, Uint8Array][]) {
      const e = throws(() => new Sha256().restore(bad), CryptoError);
      equal((e as CryptoError).code, 'bad-state', name);
    }
    equal(new Sha256().restore(good).update(utf8Encode('g')).digest(), sha256('abcdefg'));
  });

  test('strings are hashed as UTF-8', () => {
    // "é€" is c3 a9 e2 82 ac in UTF-8.
    equal(sha256('é€'), sha256(hex('c3 a9 e2 82 ac')));
  });

  // Expected values from Python's hashlib (python3 -c "import hashlib; print(hashlib.sha256(b'a'*55).hexdigest())").
  test('SHA-256 of input whose padding needs a second block (55, 56 and 64 bytes of "a")', () => {
    equal(sha256('a'.repeat(55)), hex('9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318'));
    equal(sha256('a'.repeat(56)), hex('b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a'));
    equal(sha256('a'.repeat(64)), hex('ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb'));
  });
});

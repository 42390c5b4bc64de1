// Ed25519 against RFC 8032 section 7.1 (TEST 1, 2, 3, 1024 and SHA(abc)), and the strictness
// rules of section 5.1.7: any flipped bit, S >= L, and keys that are not curve points are refused.
import { equal, hex, ok, suite, throws } from '../../hosts/xs/harness';
import { ed25519AssertValid, ed25519Verify } from '../../src/crypto/ed25519';
import { ed25519PublicKey, ed25519Sign } from '../../src/crypto/ed25519-sign';
import { CryptoError } from '../../src/crypto/errors';

interface Vector {
  name: string;
  secret: string;
  publicKey: string;
  message: string;
  signature: string;
}

const vectors: Vector[] = [
  {
    name: 'TEST 1 (empty message)',
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2 (one byte)',
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3 (two bytes)',
    secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
  {
    name: 'TEST 1024 (1023 bytes)',
    secret: 'f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5',
    publicKey: '278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e',
    message:
      '08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98' +
      'fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8' +
      '79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d' +
      '658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc' +
      '1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe' +
      'ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e' +
      '06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef' +
      'efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7' +
      'aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1' +
      '85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2' +
      'd17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24' +
      '554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270' +
      '88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc' +
      '2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07' +
      '07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba' +
      'b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a' +
      'ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429e' +
      'c96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7' +
      '51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c' +
      '42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8' +
      'ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df' +
      'f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08' +
      'd78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649' +
      'de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4' +
      '88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a3' +
      '2ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e' +
      '6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f' +
      'b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5' +
      '0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1' +
      '369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d' +
      'b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c' +
      '0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0',
    signature:
      '0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03',
  },
  {
    name: 'TEST SHA(abc) (64 bytes)',
    secret: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
    publicKey: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
    message:
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    signature:
      'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704',
  },
];

// Group order L, little-endian (RFC 8032 section 5.1: L = 2^252 + 27742317777372353535851937790883648493).
const L_LE = hex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[bit >> 3] ^= 1 << (bit & 7);
  return copy;
}

/** a + b for 32-byte little-endian numbers (no overflow in the cases below). */
function addLittleEndian(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const sum = a[i] + b[i] + carry;
    out[i] = sum & 255;
    carry = sum >> 8;
  }
  return out;
}

export default suite('crypto: Ed25519 (RFC 8032)', (test) => {
  for (const v of vectors) {
    test(`RFC 8032 ${v.name}: the published signature verifies`, () => {
      equal(ed25519Verify(hex(v.publicKey), hex(v.message), hex(v.signature)), true);
    });
  }

  for (const v of vectors) {
    test(`RFC 8032 ${v.name}: public key and signature are derived as published`, () => {
      equal(ed25519PublicKey(hex(v.secret)), hex(v.publicKey));
      equal(ed25519Sign(hex(v.secret), hex(v.message)), hex(v.signature));
    });
  }

  const v = vectors[2];
  const publicKey = hex(v.publicKey);
  const message = hex(v.message);
  const signature = hex(v.signature);

  test('a flipped bit anywhere in R is refused', () => {
    for (let bit = 0; bit < 256; bit += 37) equal(ed25519Verify(publicKey, message, flipBit(signature, bit)), false, `bit ${bit}`);
    equal(ed25519Verify(publicKey, message, flipBit(signature, 255)), false, 'bit 255');
  });

  test('a flipped bit in S is refused', () => {
    for (let bit = 256; bit < 512; bit += 41) equal(ed25519Verify(publicKey, message, flipBit(signature, bit)), false, `bit ${bit}`);
  });

  test('a flipped bit in the message is refused', () => {
    for (let bit = 0; bit < 16; bit++) equal(ed25519Verify(publicKey, flipBit(message, bit), signature), false, `bit ${bit}`);
    equal(ed25519Verify(publicKey, new Uint8Array(0), signature), false, 'empty message');
  });

  test('a flipped bit in the public key is refused', () => {
    for (let bit = 0; bit < 256; bit += 29) equal(ed25519Verify(flipBit(publicKey, bit), message, signature), false, `bit ${bit}`);
  });

  test('non-canonical S (S + L, same point equation) is refused as malleable', () => {
    const s = signature.subarray(32);
    const malleated = new Uint8Array(64);
    malleated.set(signature.subarray(0, 32));
    malleated.set(addLittleEndian(s, L_LE), 32);
    equal(ed25519Verify(publicKey, message, malleated), false);
    const error = throws(() => ed25519AssertValid(publicKey, message, malleated), CryptoError, 'S >= L');
    equal((error as CryptoError).code, 'bad-signature');
  });

  test('S = L exactly is refused', () => {
    const sig = new Uint8Array(64);
    sig.set(signature.subarray(0, 32));
    sig.set(L_LE, 32);
    equal(ed25519Verify(publicKey, message, sig), false);
  });

  test('a public key that is not a curve point is refused with bad-key', () => {
    // y = 2 gives x^2 = 3 / (4d + 1), which is not a square mod p (checked against the RFC 8032 decoding steps).
    const notOnCurve = new Uint8Array(32);
    notOnCurve[0] = 2;
    equal(ed25519Verify(notOnCurve, message, signature), false);
    equal((throws(() => ed25519AssertValid(notOnCurve, message, signature), CryptoError) as CryptoError).code, 'bad-key');
  });

  test('a public key with y >= p (non-canonical encoding) is refused', () => {
    // p = 2^255 - 19; encode y = p + 1 (which would reduce to y = 1, a valid point).
    const y = hex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    equal(ed25519Verify(y, message, signature), false);
    equal((throws(() => ed25519AssertValid(y, message, signature), CryptoError, 'canonical') as CryptoError).code, 'bad-key');
  });

  test('x = 0 with the sign bit set is refused (RFC 8032 section 5.1.3 step 4)', () => {
    // y = 1 is the identity (x = 0); setting bit 255 asks for "negative zero".
    const key = new Uint8Array(32);
    key[0] = 1;
    key[31] = 0x80;
    equal(ed25519Verify(key, message, signature), false);
  });

  // The 8 points of small order (identity, order 2, 4 and 8), checked independently with a plain
  // affine Edwards implementation in Python: [8]P = identity for each.
  const smallOrder = [
    '0100000000000000000000000000000000000000000000000000000000000000',
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    '0000000000000000000000000000000000000000000000000000000000000000',
    '0000000000000000000000000000000000000000000000000000000000000080',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
    '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
    '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  ];

  test('public keys of small order are refused, even with the trivial forgery R = identity, S = 0', () => {
    const forgery = new Uint8Array(64);
    forgery[0] = 1; // R = encoding of the identity (y = 1), S = 0: [0]B = R + [k]A holds for any message
    for (const key of smallOrder) {
      equal(ed25519Verify(hex(key), message, forgery), false, key);
      equal(ed25519Verify(hex(key), message, signature), false, key);
      equal((throws(() => ed25519AssertValid(hex(key), message, forgery), CryptoError, 'small order') as CryptoError).code, 'bad-key', key);
    }
  });

  test('a signature whose R is the identity and S = 0 does not verify under a real key', () => {
    const forgery = new Uint8Array(64);
    forgery[0] = 1;
    equal(ed25519Verify(publicKey, message, forgery), false);
    equal(ed25519Verify(publicKey, message, new Uint8Array(64)), false, 'all zero');
  });

  test('wrong lengths are refused with bad-length and a message naming the sizes', () => {
    equal(ed25519Verify(publicKey.subarray(0, 31), message, signature), false);
    equal(ed25519Verify(publicKey, message, signature.subarray(0, 63)), false);
    equal(ed25519Verify(publicKey, message, new Uint8Array(65)), false);
    const error = throws(() => ed25519AssertValid(publicKey, message, signature.subarray(0, 63)), CryptoError, '64 bytes, got 63 bytes');
    equal((error as CryptoError).code, 'bad-length');
  });

  test('ed25519AssertValid passes a good signature and says why a forged one fails', () => {
    ed25519AssertValid(publicKey, message, signature);
    throws(() => ed25519AssertValid(publicKey, hex('af83'), signature), CryptoError, 'does not match');
  });

  test('strings are verified as their UTF-8 bytes', () => {
    const secret = hex(vectors[0].secret);
    const sig = ed25519Sign(secret, 'firmware 1.2.3 ✓');
    ok(ed25519Verify(hex(vectors[0].publicKey), 'firmware 1.2.3 ✓', sig));
    equal(ed25519Verify(hex(vectors[0].publicKey), 'firmware 1.2.4 ✓', sig), false);
  });
});

// OTA jobs: canonical manifest, Ed25519 signature check, field validation. The key is RFC 8032's
// TEST 1 key; the signatures were made by OpenSSL (node:crypto) over the canonical texts written
// out by hand below.
import { equal, hex, ok, suite, throws } from '../../hosts/xs/harness';
import { canonicalJson, manifestBytes } from '../../src/ota/canonical';
import { OtaError } from '../../src/ota/errors';
import { decodeJob, jobId, validateJob, verifyJob } from '../../src/ota/job';

const PUBLIC_KEY = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
const SHA_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'; // SHA-256("abc"), FIPS 180-2

function job(): Record<string, unknown> {
  return {
    version: '1.4.0',
    url: 'http://192.168.1.10:8070/fw-1.4.0.bin',
    size: 262144,
    id: 'rollout-7',
    sha256: SHA_ABC,
    allowDowngrade: false,
    signature: 'P3OXhRYEUDh0tl4WloVsyisyVGUa2zrgs/JAgbQs3Ec8UfJpZF//uuQgfP5FeWKbr/djLiavAmIuOJbmmaYiCQ==',
  };
}

function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function code(fn: () => unknown): string {
  const e = throws(fn, OtaError);
  return (e as OtaError).code;
}

export default suite('ota job', (test) => {
  test('canonical manifest: keys sorted, no whitespace, signature left out', () => {
    const text = '{"allowDowngrade":false,"id":"rollout-7","sha256":"' + SHA_ABC + '","size":262144,"url":"http://192.168.1.10:8070/fw-1.4.0.bin","version":"1.4.0"}';
    equal(manifestBytes(job()), bytes(text));
  });

  test('canonical JSON sorts nested objects, keeps array order, escapes like JSON.stringify', () => {
    equal(canonicalJson({ b: [3, { z: 1, a: null }], a: 'q"\n\u00e9' }), '{"a":"q\\"\\n\u00e9","b":[3,{"a":null,"z":1}]}');
    equal(canonicalJson({ 'é': 1, Z: 2, a: 3 }), '{"Z":2,"a":3,"é":1}');
  });

  test('canonical JSON refuses numbers that are not safe integers', () => {
    equal(code(() => canonicalJson({ size: 1.5 })), 'bad-job');
    equal(code(() => canonicalJson({ size: 2 ** 60 })), 'bad-job');
  });

  test('a job signed by the fleet key verifies and validates', () => {
    const raw = job();
    verifyJob(raw, PUBLIC_KEY);
    const j = validateJob(raw);
    equal(j.id, 'rollout-7');
    equal(j.version, '1.4.0');
    equal(j.size, 262144);
    equal(j.sha256, hex(SHA_ABC));
    equal(j.allowDowngrade, false);
  });

  test('unknown members are signed too (UTF-8 text, nested objects)', () => {
    const raw = { version: '1.0.0', note: { b: true, a: [1, 'x'] }, id: '\u00fcn\u00ef', signature: 'PBgbAlTGqjWrWeyOap63c2Hrh3Et+MlueW2xFG8V3Pgc05iw6pyyJXmcnUNd+/LDlkkmqO26/cI18DaQ8/mICw==' };
    verifyJob(raw, PUBLIC_KEY);
  });

  test('any change after signing breaks the signature', () => {
    for (const [key, value] of [
      ['version', '1.4.1'],
      ['size', 262145],
      ['url', 'http://192.168.1.66:8070/fw-1.4.0.bin'],
      ['allowDowngrade', true],
      ['extra', 1],
    ] as [string, unknown][]) {
      const raw = job();
      raw[key] = value;
      equal(code(() => verifyJob(raw, PUBLIC_KEY)), 'bad-signature', key);
    }
  });

  test('missing, malformed and foreign signatures are rejected with bad-signature', () => {
    const missing = job();
    delete missing.signature;
    throws(() => verifyJob(missing, PUBLIC_KEY), OtaError, 'no "signature"');
    const notBase64 = { ...job(), signature: 'not base64!' };
    throws(() => verifyJob(notBase64, PUBLIC_KEY), OtaError, 'not base64');
    // a valid signature by the same key, of another manifest
    const other = { ...job(), signature: 'JVhYcK18jwN1O1telU+4a5QCSw85MW60Stpl90PFnFfnR58j067etQseh9ZM2oFqMTvm/MIjlUJ7ja6OiEv6Dw==' };
    throws(() => verifyJob(other, PUBLIC_KEY), OtaError, 'does not verify');
    // the right signature, another key (RFC 8032 TEST 2 public key)
    const key2 = hex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c');
    equal(code(() => verifyJob(job(), key2)), 'bad-signature');
    const short = { ...job(), signature: 'AAAA' };
    equal(code(() => verifyJob(short, PUBLIC_KEY)), 'bad-signature');
  });

  test('the second vector (a downgrade job) verifies as written', () => {
    const raw = { id: 'down-1', version: '0.9.0', url: 'http://h/x', size: 1000, sha256: SHA_ABC, signature: 'JVhYcK18jwN1O1telU+4a5QCSw85MW60Stpl90PFnFfnR58j067etQseh9ZM2oFqMTvm/MIjlUJ7ja6OiEv6Dw==' };
    verifyJob(raw, PUBLIC_KEY);
    equal(validateJob(raw).allowDowngrade, false);
  });

  test('decodeJob: size limit, UTF-8, JSON object', () => {
    equal(code(() => decodeJob(new Uint8Array(2049))), 'bad-job');
    throws(() => decodeJob(new Uint8Array([0x7b, 0xff, 0x7d])), OtaError, 'not UTF-8 JSON');
    throws(() => decodeJob(bytes('[1,2]')), OtaError, 'JSON object');
    throws(() => decodeJob(bytes('{"id":')), OtaError, 'not UTF-8 JSON');
    equal(decodeJob(bytes('{"id":"a"}')), { id: 'a' });
  });

  test('jobId only returns plausible ids', () => {
    equal(jobId({ id: 'a-1.b_c' }), 'a-1.b_c');
    equal(jobId({ id: 'a/b' }), undefined);
    equal(jobId({ id: 7 }), undefined);
    equal(jobId({}), undefined);
  });

  test('validateJob names the field that is wrong', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ id: '' }, '"id"'],
      [{ id: 'x'.repeat(65) }, '"id"'],
      [{ version: '1.4' }, '"version"'],
      [{ version: '01.4.0' }, '"version"'],
      [{ url: 'ftp://h/x' }, 'http:// or https://'],
      [{ url: 'http://user:pw@h/x' }, 'credentials'],
      [{ size: 0 }, '"size"'],
      [{ size: 16 * 1024 * 1024 + 1 }, '"size"'],
      [{ size: '100' }, '"size"'],
      [{ sha256: SHA_ABC.toUpperCase() }, '"sha256"'],
      [{ sha256: SHA_ABC.slice(2) }, '"sha256"'],
      [{ allowDowngrade: 'yes' }, '"allowDowngrade"'],
      [{ expires: -1 }, '"expires"'],
    ];
    for (const [change, part] of cases) {
      const e = throws(() => validateJob({ ...job(), ...change }), OtaError, part);
      ok((e as OtaError).code === 'bad-job' || (e as OtaError).code === 'bad-url', `${JSON.stringify(change)}: ${(e as OtaError).code}`);
    }
  });
});

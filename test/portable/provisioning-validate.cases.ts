// Input rules from the issue: SSID 1-32 bytes, passphrase 8-63 characters or empty, no control
// characters, bounded optional fields.
import { equal, suite, throws } from '../../hosts/xs/harness';
import {
  ProvisioningInputError,
  validateBrokerUrl,
  validateCredentials,
  validateExtras,
  validatePassphrase,
  validateSsid,
} from '../../src/provisioning/validate';

function fails(fn: () => unknown, field: string, messagePart: string): void {
  const e = throws(fn, ProvisioningInputError, messagePart) as ProvisioningInputError;
  equal(e.field, field);
  equal(e.code, 'invalid-input');
}

export default suite('provisioning input validation', (test) => {
  test('SSID: 1 to 32 bytes, counted in UTF-8', () => {
    equal(validateSsid('a'), 'a');
    equal(validateSsid('x'.repeat(32)), 'x'.repeat(32));
    equal(validateSsid('ü'.repeat(16)), 'ü'.repeat(16), '16 x 2 bytes = 32');
    equal(validateSsid(' spaces are fine '), ' spaces are fine ');
    fails(() => validateSsid(''), 'ssid', 'Enter the network name');
    fails(() => validateSsid('x'.repeat(33)), 'ssid', 'at most 32 bytes; this one has 33');
    fails(() => validateSsid('ü'.repeat(17)), 'ssid', 'this one has 34');
  });

  test('SSID: no control characters', () => {
    fails(() => validateSsid('ab\ncd'), 'ssid', 'control character (position 3)');
    fails(() => validateSsid('\x00'), 'ssid', 'control character');
    fails(() => validateSsid('a\x7f'), 'ssid', 'control character');
    fails(() => validateSsid('a\u0085'), 'ssid', 'control character');
    fails(() => validateSsid('a\ud800'), 'ssid', 'broken character');
  });

  test('passphrase: empty (open), or 8 to 63 characters', () => {
    equal(validatePassphrase(''), '');
    equal(validatePassphrase('12345678'), '12345678');
    equal(validatePassphrase('p'.repeat(63)), 'p'.repeat(63));
    fails(() => validatePassphrase('1234567'), 'password', '8 to 63 characters (it has 7)');
    fails(() => validatePassphrase('p'.repeat(64)), 'password', 'it has 64');
    fails(() => validatePassphrase('pass\tword'), 'password', 'control character');
  });

  test('passphrase: at most 63 bytes, the storage limit', () => {
    equal(validatePassphrase('é'.repeat(31)), 'é'.repeat(31), '62 bytes');
    fails(() => validatePassphrase('é'.repeat(32)), 'password', 'at most 63 bytes');
  });

  test('credentials together', () => {
    equal(validateCredentials('Home', 'secret123'), { ssid: 'Home', password: 'secret123' });
    fails(() => validateCredentials('', 'secret123'), 'ssid', 'network name');
  });

  test('broker URL: mqtt or mqtts, host, optional port, no credentials or path', () => {
    for (const ok of ['mqtt://broker.local', 'mqtts://10.0.0.2:8883', 'mqtt://h:1883/', 'MQTT://Broker-1.example.com:1', 'mqtt://[fd00::1]:1883']) {
      equal(validateBrokerUrl(ok), ok);
    }
    fails(() => validateBrokerUrl('http://broker'), 'brokerUrl', 'must look like mqtt://');
    fails(() => validateBrokerUrl('mqtt://user:pw@broker'), 'brokerUrl', 'must look like');
    fails(() => validateBrokerUrl('mqtt://broker/topic'), 'brokerUrl', 'must look like');
    fails(() => validateBrokerUrl('mqtt://broker:0'), 'brokerUrl', 'between 1 and 65535');
    fails(() => validateBrokerUrl('mqtt://broker:70000'), 'brokerUrl', 'between 1 and 65535');
    fails(() => validateBrokerUrl('mqtt://-bad-.host'), 'brokerUrl', 'not a valid host name');
    fails(() => validateBrokerUrl(`mqtt://${'h'.repeat(60)}`), 'brokerUrl', 'at most 63 bytes');
  });

  test('extras: empty fields are dropped, the rest is bounded', () => {
    equal(validateExtras({ deviceName: '', brokerUrl: '', brokerUser: '', brokerPassword: '' }), {});
    equal(validateExtras({ deviceName: 'Kitchen sensor', brokerUrl: 'mqtt://b', brokerUser: 'u', brokerPassword: 'p' }), {
      deviceName: 'Kitchen sensor',
      brokerUrl: 'mqtt://b',
      brokerUser: 'u',
      brokerPassword: 'p',
    });
    fails(() => validateExtras({ deviceName: 'n'.repeat(33) }), 'deviceName', 'at most 32 characters');
    fails(() => validateExtras({ deviceName: 'a\u0007' }), 'deviceName', 'control character');
    fails(() => validateExtras({ brokerUser: 'u'.repeat(64) }), 'brokerUser', 'at most 63 bytes');
    fails(() => validateExtras({ brokerPassword: 'p\n' }), 'brokerPassword', 'control character');
  });
});

// Token formats. Expected tokens were computed independently with Python 3's hmac, hashlib, base64
// and urllib.parse, following:
//  - Azure: Microsoft Learn, "Control access to IoT Hub with shared access signatures", SAS token
//    structure and its Python sample
//    (https://learn.microsoft.com/azure/iot-hub/authenticate-authorize-sas#sas-token-structure):
//      sign_key = "%s\n%d" % (parse.quote_plus(uri), expiry)
//      sig = b64encode(HMAC(b64decode(key), sign_key.encode('utf-8'), sha256).digest())
//      'SharedAccessSignature ' + parse.urlencode({'sr': uri, 'sig': sig, 'se': str(expiry)[, 'skn': policy]})
//  - OneNET: "token 算法" (https://open.iot.10086.cn/doc/mqtt/book/manual/auth/token.html):
//      s = f'{et}\n{method}\n{res}\n2018-10-31'
//      sign = b64encode(hmac.new(b64decode(key), s.encode(), method).digest())
//      f"version=2018-10-31&res={quote(res, safe='')}&et={et}&method={method}&sign={quote(sign, safe='')}"
// Neither page publishes a worked example with its key, so no vendor-computed token exists to copy.
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { equal, ok, suite, throws } from '../../hosts/xs/harness';
import { AuthError } from '../../src/auth/errors';
import { AzureSasTokenProvider, azureMqttUsername, azureSasToken } from '../../src/auth/azure-sas';
import { OneNetTokenProvider, oneNetToken } from '../../src/auth/onenet';
import { percentEncode } from '../../src/text/percent';
import { renewalDelay, tokenPassword, wallSeconds, type TokenProvider } from '../../src/auth/token';

const KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8='; // bytes 0..31
const HOST = 'myhub.azure-devices.net';
const DEVICE_TOKEN =
  'SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdevice1&sig=eJpcmROW6N%2BBPekLfcdlfPjxTZq8tewbLShoRG%2BfwZg%3D&se=1456971697';
const MODULE_TOKEN =
  'SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdevice1%2Fmodules%2Fmod-1&sig=X%2BmCTypASAf8BABvGdwtivCRsp%2F%2BuQSLyf8RqWosYHU%3D&se=1456975297';

const ONENET_KEY = 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg==';
const ONENET_RES = 'products%2F123123%2Fdevices%2Fmydev';
const ONENET_SIGN = {
  sha256: 'jlwejIr49EJtEIqBWF6IlWM%2FjEAVbiZuvpPfi9yeuEY%3D',
  sha1: 'OiT8dJAxs0ZZ%2BJI8QJp4tkPNpgc%3D',
  md5: 'SZeAF0tagMvx29T2PWCbYw%3D%3D',
};

function authCode(fn: () => unknown, part?: string): string {
  return (throws(fn, AuthError, part) as AuthError).code;
}

export default suite('auth: Azure IoT Hub SAS and OneNET tokens', (test) => {
  test('Azure SAS token for a device key (no skn)', () => {
    equal(azureSasToken({ resourceUri: `${HOST}/devices/device1`, key: KEY, expiry: 1456971697 }), DEVICE_TOKEN);
  });

  test('Azure SAS token from a shared access policy carries skn', () => {
    equal(azureSasToken({ resourceUri: `${HOST}/devices/device1`, key: KEY, expiry: 1456971697, policyName: 'device' }), DEVICE_TOKEN + '&skn=device');
  });

  test("Azure SAS token URL-encodes device ids with reserved characters (: ( ) * ! ')", () => {
    equal(
      azureSasToken({ resourceUri: `${HOST}/devices/dev:1(a)*!'`, key: KEY, expiry: 1700000000 }),
      'SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev%3A1%28a%29%2A%21%27&sig=HhuOSSlyAixqjlm0%2Ft9P6IExBIWc8dE89bg7Bd8LEs0%3D&se=1700000000',
    );
  });

  test('Azure provider: token valid for `lifetime` from now, MQTT client id and user name', () => {
    const provider = new AzureSasTokenProvider({ host: HOST, deviceId: 'device1', key: KEY });
    equal([provider.issuedAt, provider.expiresAt], [0, 0]);
    equal(provider.password(1456971697 - 3600 + 0.75), DEVICE_TOKEN, 'fractional seconds are floored');
    equal([provider.issuedAt, provider.expiresAt], [1456968097, 1456971697]);
    equal(provider.clientId, 'device1');
    equal(azureMqttUsername(HOST, 'device1'), 'myhub.azure-devices.net/device1/?api-version=2021-04-12');
  });

  test('Azure provider for a module identity', () => {
    const provider = new AzureSasTokenProvider({ host: HOST, deviceId: 'device1', moduleId: 'mod-1', key: KEY, lifetime: 600 });
    equal(provider.password(1456975297 - 600), MODULE_TOKEN);
    equal(provider.clientId, 'device1/mod-1');
    equal(azureMqttUsername(HOST, 'device1', 'mod-1'), 'myhub.azure-devices.net/device1/mod-1/?api-version=2021-04-12');
  });

  test('Azure provider refuses a key that is not base64, naming the problem', () => {
    equal(authCode(() => new AzureSasTokenProvider({ host: HOST, deviceId: 'd', key: 'not base64!' }), 'not valid base64'), 'bad-key');
    equal(authCode(() => new AzureSasTokenProvider({ host: HOST, deviceId: 'd', key: '' }), 'missing'), 'bad-key');
    equal(authCode(() => azureSasToken({ resourceUri: HOST, key: 'AAEC AwQF', expiry: 1 })), 'bad-key');
  });

  test('Azure provider refuses missing names and silly lifetimes', () => {
    equal(authCode(() => new AzureSasTokenProvider({ host: '', deviceId: 'd', key: KEY }), 'host'), 'bad-option');
    equal(authCode(() => new AzureSasTokenProvider({ host: HOST, deviceId: 'd', key: KEY, lifetime: 10 }), 'at least 60'), 'bad-option');
    equal(authCode(() => new AzureSasTokenProvider({ host: HOST, deviceId: 'd', key: KEY, lifetime: 99.5 })), 'bad-option');
    equal(authCode(() => azureSasToken({ resourceUri: HOST, key: KEY, expiry: 1.5 }), 'whole seconds'), 'bad-option');
  });

  for (const method of ['sha256', 'sha1', 'md5'] as const) {
    test(`OneNET device token signed with ${method}`, () => {
      equal(
        oneNetToken({ res: 'products/123123/devices/mydev', key: ONENET_KEY, expiry: 1537255523, method }),
        `version=2018-10-31&res=${ONENET_RES}&et=1537255523&method=${method}&sign=${ONENET_SIGN[method]}`,
      );
    });
  }

  test('OneNET product-level (API) token', () => {
    equal(
      oneNetToken({ res: 'products/123123', key: ONENET_KEY, expiry: 1537255523, method: 'sha1' }),
      'version=2018-10-31&res=products%2F123123&et=1537255523&method=sha1&sign=6J76GT8RohNcpmcDcBG3%2BAHoMhI%3D',
    );
  });

  test('OneNET provider: sha256 by default, client id = device name, user name = product id', () => {
    const provider = new OneNetTokenProvider({ productId: '123123', deviceName: 'mydev', key: ONENET_KEY });
    equal(provider.password(1537255523 - 3600), `version=2018-10-31&res=${ONENET_RES}&et=1537255523&method=sha256&sign=${ONENET_SIGN.sha256}`);
    equal([provider.clientId, provider.username, provider.expiresAt], ['mydev', '123123', 1537255523]);
  });

  test('OneNET refuses unknown methods and bad keys', () => {
    const options = { productId: '1', deviceName: 'd', key: ONENET_KEY, method: 'sha512' as 'sha256' };
    equal(authCode(() => new OneNetTokenProvider(options), '"md5", "sha1" or "sha256"'), 'bad-option');
    equal(authCode(() => new OneNetTokenProvider({ productId: '1', deviceName: 'd', key: 'Zg=' })), 'bad-key');
    equal(authCode(() => new OneNetTokenProvider({ productId: '', deviceName: 'd', key: ONENET_KEY })), 'bad-option');
  });

  test('tokenPassword signs with the Clock port wall time, in whole seconds', () => {
    const clock = new ManualClock({ wallTime: (1456971697 - 3600) * 1000 + 999 });
    const provider = new AzureSasTokenProvider({ host: HOST, deviceId: 'device1', key: KEY });
    const password = tokenPassword(provider, clock);
    equal(password(), DEVICE_TOKEN);
    clock.setWallTime(undefined);
    equal(authCode(password, 'SNTP'), 'no-wall-time');
    clock.setWallTime(5_000); // an unset clock counting from 1970
    equal(authCode(password, '1970-01-01T00:00:05.000Z'), 'no-wall-time');
    clock.setWallTime(946_684_800_000); // an RTC chip's power-on default, 2000-01-01
    equal(authCode(password, '2000-01-01'), 'no-wall-time');
    equal(provider.expiresAt, 1456971697, 'a failed call leaves the last token state alone');
  });

  test('wallSeconds floors milliseconds', () => {
    equal(wallSeconds(new ManualClock({ wallTime: 1_700_000_000_999 })), 1_700_000_000);
  });

  test('renewalDelay: 5 minutes before expiry, at most a fifth of the lifetime, never negative', () => {
    const fake = (issuedAt: number, expiresAt: number): TokenProvider => ({ issuedAt, expiresAt, password: () => '' });
    equal(renewalDelay(fake(0, 0), 1_700_000_000), 0, 'no token yet: renew now');
    equal(renewalDelay(fake(1000, 4600), 1000), 3300_000);
    equal(renewalDelay(fake(1000, 4600), 2000), 2300_000);
    equal(renewalDelay(fake(1000, 1600), 1000), 480_000, 'lifetime 600: margin 120');
    equal(renewalDelay(fake(1000, 4600), 4400), 0, 'past the renewal point');
    equal(renewalDelay(fake(1000, 4600), 1000, 60), 3540_000, 'custom margin');
  });

  test('renewalDelay follows a real provider', () => {
    const provider = new OneNetTokenProvider({ productId: '1', deviceName: 'd', key: ONENET_KEY, lifetime: 86400 });
    provider.password(1_700_000_000);
    equal(renewalDelay(provider, 1_700_000_000), (86400 - 300) * 1000);
  });

  test('percentEncode keeps only RFC 3986 unreserved characters', () => {
    equal(percentEncode('AZaz09-._~'), 'AZaz09-._~');
    equal(percentEncode("a b/c?d=e&f+g%h!'()*"), 'a%20b%2Fc%3Fd%3De%26f%2Bg%25h%21%27%28%29%2A');
    equal(percentEncode('caf\u00e9 \u2713'), 'caf%C3%A9%20%E2%9C%93');
    equal(percentEncode(''), '');
    ok(percentEncode('x'.repeat(100)).length === 100);
  });
});

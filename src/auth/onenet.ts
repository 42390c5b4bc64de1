// China Mobile OneNET tokens (OneNET docs, "token 算法", version 2018-10-31):
//   version=2018-10-31&res={res}&et={expiry}&method={md5|sha1|sha256}&sign={sign}
// with sign = base64(HMAC-<method>(base64decode(accessKey), et + "\n" + method + "\n" + res + "\n" + version)),
// every value URL-encoded in the token (res in plain form when signed).
import { base64Encode } from '../text/base64';
import { hmacMd5 } from '../crypto/md5';
import { hmacSha1 } from '../crypto/sha1';
import { hmacSha256 } from '../crypto/sha256';
import { AuthError } from './errors';
import { decodeKey } from './key';
import { percentEncode } from '../text/percent';
import { checkLifetime, type TokenProvider } from './token';

export type OneNetMethod = 'md5' | 'sha1' | 'sha256';

const ONENET_TOKEN_VERSION = '2018-10-31';

export interface OneNetParameters {
  /** Resource: "products/{productId}/devices/{deviceName}" to connect a device, "products/{productId}" for the API. */
  res: string;
  /** The base64 access key (device key for a device connection), or its bytes. */
  key: string | Uint8Array;
  /** Unix time (s) at which the token expires. */
  expiry: number;
  /** Signature method; default 'sha256'. */
  method?: OneNetMethod;
}

export function oneNetToken(parameters: OneNetParameters): string {
  return signOneNet(parameters.res, decodeKey(parameters.key, 'OneNET access key'), parameters.expiry, checkMethod(parameters.method ?? 'sha256'));
}

function signOneNet(res: string, key: Uint8Array, expiry: number, method: OneNetMethod): string {
  if (!Number.isInteger(expiry) || expiry <= 0) {
    throw new AuthError('bad-option', `OneNET expiry (et) must be a Unix time in whole seconds; got ${expiry}`);
  }
  const text = `${expiry}\n${method}\n${res}\n${ONENET_TOKEN_VERSION}`;
  const mac = method === 'sha256' ? hmacSha256(key, text) : method === 'sha1' ? hmacSha1(key, text) : hmacMd5(key, text);
  return `version=${ONENET_TOKEN_VERSION}&res=${percentEncode(res)}&et=${expiry}&method=${method}&sign=${percentEncode(base64Encode(mac))}`;
}

function checkMethod(method: string): OneNetMethod {
  if (method !== 'md5' && method !== 'sha1' && method !== 'sha256') {
    throw new AuthError('bad-option', `OneNET signature method must be "md5", "sha1" or "sha256"; got ${JSON.stringify(method)}`);
  }
  return method;
}

export interface OneNetDeviceOptions {
  productId: string;
  deviceName: string;
  /** The device's base64 key from the OneNET console, or its bytes. */
  key: string | Uint8Array;
  method?: OneNetMethod;
  /** Seconds each token stays valid; default 3600. */
  lifetime?: number;
}

/**
 * OneNET device tokens for MQTT: CONNECT with client id = deviceName, user name = productId
 * and password = tokenPassword(provider, clock).
 */
export class OneNetTokenProvider implements TokenProvider {
  expiresAt = 0;
  issuedAt = 0;
  readonly clientId: string;
  readonly username: string;
  private readonly res: string;
  private readonly key: Uint8Array;
  private readonly method: OneNetMethod;
  private readonly lifetime: number;

  constructor(options: OneNetDeviceOptions) {
    if (!options.productId || !options.deviceName) {
      throw new AuthError('bad-option', 'OneNET needs `productId` and `deviceName` (as shown in the OneNET console)');
    }
    this.key = decodeKey(options.key, 'OneNET device key');
    this.method = checkMethod(options.method ?? 'sha256');
    this.lifetime = checkLifetime(options.lifetime ?? 3600, 'OneNET token');
    this.res = `products/${options.productId}/devices/${options.deviceName}`;
    this.clientId = options.deviceName;
    this.username = options.productId;
  }

  password(nowSeconds: number): string {
    const now = Math.floor(nowSeconds);
    const token = signOneNet(this.res, this.key, now + this.lifetime, this.method);
    this.issuedAt = now;
    this.expiresAt = now + this.lifetime;
    return token;
  }
}

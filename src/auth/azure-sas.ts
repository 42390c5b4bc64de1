// Azure IoT Hub shared access signature (SAS) tokens, as described in Microsoft's "Control access to
// IoT Hub with shared access signatures":
//   SharedAccessSignature sr={URL-encoded resourceURI}&sig={signature}&se={expiry}[&skn={policyName}]
// where signature = base64(HMAC-SHA256(base64decode(key), URL-encoded resourceURI + "\n" + expiry)),
// URL-encoded again in the token.
import { base64Encode } from '../text/base64';
import { hmacSha256 } from '../crypto/sha256';
import { AuthError } from './errors';
import { decodeKey } from './key';
import { percentEncode } from '../text/percent';
import { checkLifetime, type TokenProvider } from './token';

export interface AzureSasParameters {
  /** Resource URI without protocol, e.g. "myhub.azure-devices.net/devices/device1". */
  resourceUri: string;
  /** The base64 key (device symmetric key, or the policy's key when policyName is set), or its bytes. */
  key: string | Uint8Array;
  /** Unix time (s) at which the token expires. */
  expiry: number;
  /** Shared access policy name (skn); leave out for a device's own key. */
  policyName?: string;
}

/** Builds one SAS token. Throws AuthError 'bad-key' for a key that is not base64. */
export function azureSasToken(parameters: AzureSasParameters): string {
  return signSas(percentEncode(parameters.resourceUri), decodeKey(parameters.key, 'Azure SAS key'), parameters.expiry, parameters.policyName);
}

function signSas(encodedUri: string, key: Uint8Array, expiry: number, policyName: string | undefined): string {
  if (!Number.isInteger(expiry) || expiry <= 0) {
    throw new AuthError('bad-option', `Azure SAS expiry must be a Unix time in whole seconds; got ${expiry}`);
  }
  const signature = base64Encode(hmacSha256(key, `${encodedUri}\n${expiry}`));
  let token = `SharedAccessSignature sr=${encodedUri}&sig=${percentEncode(signature)}&se=${expiry}`;
  if (policyName) token += `&skn=${percentEncode(policyName)}`;
  return token;
}

export interface AzureDeviceOptions {
  /** IoT hub host name, e.g. "myhub.azure-devices.net". */
  host: string;
  deviceId: string;
  /** For a module identity. */
  moduleId?: string;
  /** The device's (or module's) base64 symmetric key, or the policy's key when policyName is set. */
  key: string | Uint8Array;
  /** Policy name for a token made from a shared access policy with DeviceConnect permission. */
  policyName?: string;
  /** Seconds each token stays valid; default 3600. */
  lifetime?: number;
}

/** Azure IoT Hub device tokens for MQTT: see tokenPassword() and renewalDelay(). */
export class AzureSasTokenProvider implements TokenProvider {
  expiresAt = 0;
  issuedAt = 0;
  /** MQTT CONNECT client id. */
  readonly clientId: string;
  private readonly encodedUri: string;
  private readonly key: Uint8Array;
  private readonly lifetime: number;
  private readonly policyName: string | undefined;

  constructor(options: AzureDeviceOptions) {
    if (!options.host || !options.deviceId) {
      throw new AuthError('bad-option', 'Azure IoT Hub needs `host` (e.g. "myhub.azure-devices.net") and `deviceId`');
    }
    this.key = decodeKey(options.key, 'Azure device key');
    this.lifetime = checkLifetime(options.lifetime ?? 3600, 'Azure SAS token');
    this.policyName = options.policyName;
    let uri = `${options.host}/devices/${options.deviceId}`;
    if (options.moduleId) uri += `/modules/${options.moduleId}`;
    this.encodedUri = percentEncode(uri);
    this.clientId = options.moduleId ? `${options.deviceId}/${options.moduleId}` : options.deviceId;
  }

  password(nowSeconds: number): string {
    const now = Math.floor(nowSeconds);
    const token = signSas(this.encodedUri, this.key, now + this.lifetime, this.policyName);
    this.issuedAt = now;
    this.expiresAt = now + this.lifetime;
    return token;
  }
}

/**
 * MQTT CONNECT user name for IoT Hub: "{host}/{deviceId}[/{moduleId}]/?api-version=...".
 * The client id is the device id ("{deviceId}/{moduleId}" for a module).
 */
export function azureMqttUsername(host: string, deviceId: string, moduleId?: string, apiVersion = '2021-04-12'): string {
  return `${host}/${deviceId}${moduleId ? `/${moduleId}` : ''}/?api-version=${apiVersion}`;
}

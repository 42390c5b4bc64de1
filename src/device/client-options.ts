// What a host may set on the device's MQTT client (DeviceOptions.client): how to verify TLS, a
// password provider and its token refresh, MQTT 5, timing and limits, error and drop callbacks. The
// device's identity and session (broker host, port and TLS on or off, client id, user name, will,
// clean session, outbox, ports) come from its configuration only: a host option never replaces them.
import type { ClientOptions } from '../mqtt/client';

/** The client options a host may set. */
export const HOST_CLIENT_KEYS = [
  'tls',
  'password',
  'tokenRefresh',
  'protocol',
  'keepAlive',
  'pingTimeout',
  'connectTimeout',
  'reconnect',
  'maxPacketSize',
  'inflightWindow',
  'onError',
  'onDrop',
  'onMessage',
] as const;

type HostKey = (typeof HOST_CLIENT_KEYS)[number];

/**
 * DeviceOptions.client. The other ClientOptions keys are typed `never`, so passing one (even through
 * a wider type such as Partial<ClientOptions>) fails to compile. `tls` applies when brokerTls is on.
 */
export type HostClientOptions = Pick<ClientOptions, HostKey> & { readonly [K in Exclude<keyof ClientOptions, HostKey>]?: never };

/** No host options: one object for every device (never changed). */
const NO_TUNING: Pick<ClientOptions, HostKey> = {};

/**
 * The options of `given` a host may set. Any other key (from JavaScript, past the type) is left out
 * and named to `refused`.
 */
export const hostClientOptions = (given: HostClientOptions | undefined, refused: (key: string) => void): Pick<ClientOptions, HostKey> => {
  if (!given) return NO_TUNING;
  const out: Record<string, unknown> = {};
  const keys = Object.keys(given);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const value = (given as Record<string, unknown>)[key];
    if (value === undefined) continue; // as if not given: the device's own value stays
    if ((HOST_CLIENT_KEYS as readonly string[]).indexOf(key) >= 0) out[key] = value;
    else refused(key);
  }
  return out;
};

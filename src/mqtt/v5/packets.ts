// MQTT 5.0 control packets as plain objects (OASIS mqtt-v5.0 section 3). `type` is the packet type
// number of the fixed header (../packets.ts); AUTH is new in MQTT 5.
import type { AUTH, CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, QoS, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE } from '../packets';
import type { Properties, Subscription5 } from '../properties';

export { AUTH } from '../packets';
export type { Subscription5 } from '../properties';

export interface Will5 {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  properties?: Properties;
}

export interface Connect5 {
  type: typeof CONNECT;
  clientId: string;
  /** Clean Start: discard any session the server holds. */
  cleanStart: boolean;
  keepAlive: number;
  username?: string;
  /** MQTT 5 allows a password without a user name. */
  password?: Uint8Array;
  will?: Will5;
  properties?: Properties;
}

export interface Connack5 {
  type: typeof CONNACK;
  sessionPresent: boolean;
  reasonCode: number;
  properties?: Properties;
}

export interface Publish5 {
  type: typeof PUBLISH;
  /** Empty when a Topic Alias stands for it. */
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  packetId?: number;
  properties?: Properties;
}

/** PUBACK, PUBREC, PUBREL or PUBCOMP. */
export interface Ack5 {
  type: typeof PUBACK | typeof PUBREC | typeof PUBREL | typeof PUBCOMP;
  packetId: number;
  reasonCode: number;
  properties?: Properties;
}

export interface Subscribe5 {
  type: typeof SUBSCRIBE;
  packetId: number;
  subscriptions: Subscription5[];
  properties?: Properties;
}

export interface Suback5 {
  type: typeof SUBACK;
  packetId: number;
  reasonCodes: number[];
  properties?: Properties;
}

export interface Unsubscribe5 {
  type: typeof UNSUBSCRIBE;
  packetId: number;
  filters: string[];
  properties?: Properties;
}

export interface Unsuback5 {
  type: typeof UNSUBACK;
  packetId: number;
  reasonCodes: number[];
  properties?: Properties;
}

export interface Ping5 {
  type: typeof PINGREQ | typeof PINGRESP;
}

/** DISCONNECT or AUTH. */
export interface Disconnect5 {
  type: typeof DISCONNECT | typeof AUTH;
  reasonCode: number;
  properties?: Properties;
}

export type Packet5 = Connect5 | Connack5 | Publish5 | Ack5 | Subscribe5 | Suback5 | Unsubscribe5 | Unsuback5 | Ping5 | Disconnect5;

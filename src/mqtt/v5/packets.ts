// MQTT 5.0 control packets as plain objects (OASIS mqtt-v5.0 section 3). `type` is the packet type
// number of the fixed header; AUTH (15) is new in MQTT 5.
import type { QoS } from '../packets';
import type { Properties } from './properties';

export const AUTH = 15;

export interface Will5 {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  properties?: Properties;
}

export interface Connect5 {
  type: 1;
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
  type: 2;
  sessionPresent: boolean;
  reasonCode: number;
  properties?: Properties;
}

export interface Publish5 {
  type: 3;
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
  type: 4 | 5 | 6 | 7;
  packetId: number;
  reasonCode: number;
  properties?: Properties;
}

export interface Subscription5 {
  filter: string;
  qos: QoS;
  /** Do not send this client its own messages. Not allowed on shared subscriptions. */
  noLocal?: boolean;
  /** Keep the RETAIN flag of forwarded messages as published. */
  retainAsPublished?: boolean;
  /** 0: send retained messages at subscribe; 1: only if the subscription is new; 2: never. */
  retainHandling?: 0 | 1 | 2;
}

export interface Subscribe5 {
  type: 8;
  packetId: number;
  subscriptions: Subscription5[];
  properties?: Properties;
}

export interface Suback5 {
  type: 9;
  packetId: number;
  reasonCodes: number[];
  properties?: Properties;
}

export interface Unsubscribe5 {
  type: 10;
  packetId: number;
  filters: string[];
  properties?: Properties;
}

export interface Unsuback5 {
  type: 11;
  packetId: number;
  reasonCodes: number[];
  properties?: Properties;
}

export interface Ping5 {
  type: 12 | 13;
}

/** DISCONNECT or AUTH. */
export interface Disconnect5 {
  type: 14 | 15;
  reasonCode: number;
  properties?: Properties;
}

export type Packet5 = Connect5 | Connack5 | Publish5 | Ack5 | Subscribe5 | Suback5 | Unsubscribe5 | Unsuback5 | Ping5 | Disconnect5;

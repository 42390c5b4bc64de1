// MQTT control packet types (the high 4 bits of the fixed header), and the MQTT 3.1.1 packets as plain
// objects (the MQTT 5 ones are in v5/packets.ts).

export type QoS = 0 | 1 | 2;

export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREC = 5;
export const PUBREL = 6;
export const PUBCOMP = 7;
export const SUBSCRIBE = 8;
export const SUBACK = 9;
export const UNSUBSCRIBE = 10;
export const UNSUBACK = 11;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;
/** MQTT 5 only; reserved in MQTT 3.1.1. */
export const AUTH = 15;

/** Packet names by type, for messages. */
export const PACKET_NAMES = ['', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH'];

export interface Will {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
}

export interface ConnectPacket {
  type: typeof CONNECT;
  clientId: string;
  cleanSession: boolean;
  /** Seconds; 0 disables keep-alive. */
  keepAlive: number;
  username?: string;
  password?: Uint8Array;
  will?: Will;
}

export interface ConnackPacket {
  type: typeof CONNACK;
  sessionPresent: boolean;
  returnCode: number;
}

export interface PublishPacket {
  type: typeof PUBLISH;
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** Present when qos > 0. */
  packetId?: number;
}

export interface AckPacket {
  type: typeof PUBACK | typeof PUBREC | typeof PUBREL | typeof PUBCOMP | typeof UNSUBACK;
  packetId: number;
}

export interface Subscription {
  filter: string;
  qos: QoS;
}

export interface SubscribePacket {
  type: typeof SUBSCRIBE;
  packetId: number;
  subscriptions: Subscription[];
}

export interface SubackPacket {
  type: typeof SUBACK;
  packetId: number;
  /** Granted QoS per filter, or 0x80 for a refused filter. */
  granted: number[];
}

export interface UnsubscribePacket {
  type: typeof UNSUBSCRIBE;
  packetId: number;
  filters: string[];
}

export interface EmptyPacket {
  type: typeof PINGREQ | typeof PINGRESP | typeof DISCONNECT;
}

export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | AckPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | EmptyPacket;

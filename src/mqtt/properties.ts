// MQTT 5 properties and options as the client's API takes and gives them. Types only: a 3.1.1 client
// shares the API (and refuses these options at run time), so they live beside it, not in v5/, whose
// code a 3.1.1 build never carries. Their encoding and checks are in v5/properties.ts.
import type { QoS } from './packets';

export type UserProperties = [name: string, value: string][];

export interface Properties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Uint8Array;
  /** One in SUBSCRIBE; in PUBLISH from the server, one per matching subscription that has one. */
  subscriptionIdentifiers?: number[];
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Uint8Array;
  requestProblemInformation?: boolean;
  willDelayInterval?: number;
  requestResponseInformation?: boolean;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQoS?: number;
  retainAvailable?: boolean;
  /** In order; a name may repeat. */
  userProperties?: UserProperties;
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: boolean;
  subscriptionIdentifiersAvailable?: boolean;
  sharedSubscriptionAvailable?: boolean;
}

/** What an application may set on a PUBLISH (topic aliases are the client's business). */
export type PublishProperties = Pick<
  Properties,
  'payloadFormatIndicator' | 'messageExpiryInterval' | 'contentType' | 'responseTopic' | 'correlationData' | 'userProperties'
>;

/** Will Properties: the publish properties plus the will delay. */
export type WillProperties = PublishProperties & Pick<Properties, 'willDelayInterval'>;

/** MQTT 5 acknowledgement details that are not errors, e.g. 0x10 No matching subscribers. */
export interface AckInfo {
  reasonCode: number;
  reasonName: string;
  properties?: Properties;
}

/** DISCONNECT options: reason code (0 normal, 0x04 publish the will), a new session expiry, a reason string. */
export interface DisconnectOptions {
  reasonCode?: number;
  sessionExpiryInterval?: number;
  reasonString?: string;
  userProperties?: UserProperties;
}

/** Options of one topic filter, or of all filters of one subscribe() call. */
export interface SubscribeOptions5 {
  /** Do not send this client its own messages. Not allowed on shared subscriptions. */
  noLocal?: boolean;
  /** Keep the RETAIN flag of forwarded messages as published. */
  retainAsPublished?: boolean;
  /** 0: send retained messages at subscribe; 1: only if the subscription is new; 2: never. */
  retainHandling?: 0 | 1 | 2;
}

/** A topic filter with its QoS and (MQTT 5) options, as SUBSCRIBE carries it. */
export interface Subscription5 extends SubscribeOptions5 {
  filter: string;
  qos: QoS;
}

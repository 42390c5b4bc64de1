// Presence as one state machine. The will, the birth and the clean-stop message are built by one
// function, so topic, QoS (1) and retain (true) can never differ between them.
//
// Homie $state mapping:  init -> "init" (booting, not yet connected)
//                        ready -> "ready" (birth published: online)
//                        disconnected -> "disconnected" (clean stop: offline)
//                        lost -> "lost" (the broker published the will: offline)

export type PresenceState = 'init' | 'ready' | 'disconnected' | 'lost';

const PRESENCE_QOS = 1;
const PRESENCE_RETAIN = true;

export interface PresenceMessage {
  topic: string;
  payload: string;
  qos: typeof PRESENCE_QOS;
  retain: typeof PRESENCE_RETAIN;
}

export interface PresenceIdentity {
  topic: string;
  boot: number;
  version: string;
}

export const presenceMessage = (id: PresenceIdentity, state: Exclude<PresenceState, 'init'>, extra?: Record<string, unknown>): PresenceMessage => {
  const payload = JSON.stringify({ status: state === 'ready' ? 'online' : 'offline', state, boot: id.boot, version: id.version, ...extra });
  return { topic: id.topic, payload, qos: PRESENCE_QOS, retain: PRESENCE_RETAIN };
};

/** Tracks the state and whether the current birth was acknowledged by the broker. */
export class Presence {
  state: PresenceState = 'init';
  birthAcknowledged = false;
  /** Counts births, so an acknowledgement of an older one is not mistaken for the current one. */
  private births = 0;

  constructor(private readonly id: PresenceIdentity) {}

  will(): PresenceMessage {
    return presenceMessage(this.id, 'lost');
  }

  /** The birth for this connection; `acknowledged` marks it when the broker's PUBACK arrives. */
  birth(extra?: Record<string, unknown>): { message: PresenceMessage; acknowledged: (error?: Error) => void } {
    const n = ++this.births;
    this.state = 'ready';
    this.birthAcknowledged = false;
    return {
      message: presenceMessage(this.id, 'ready', extra),
      acknowledged: (error) => {
        if (!error && n === this.births && this.state === 'ready') this.birthAcknowledged = true;
      },
    };
  }

  disconnected(): void {
    if (this.state === 'ready') this.state = 'lost';
    this.birthAcknowledged = false;
  }

  stop(reason: string): PresenceMessage {
    this.state = 'disconnected';
    this.birthAcknowledged = false;
    return presenceMessage(this.id, 'disconnected', { reason });
  }
}

// The broker's side of one scripted MQTT 3.1.1 connection, for cases that run the whole device
// application on a ScriptedSocket: it reads the packets the client wrote (OASIS MQTT 3.1.1 section
// 2 fixed header, 3.3 PUBLISH, 3.8 SUBSCRIBE), answers CONNACK, SUBACK, PUBACK and PINGRESP, and
// publishes to the client. ASCII topics and payloads only. Pure TypeScript: runs on XS too.
import type { ScriptedSocket, VirtualClock } from './fakes';
import { hex } from '../../hosts/xs/harness';

export interface SeenPublish {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

const ascii = (bytes: Uint8Array, from: number, to: number) => String.fromCharCode(...Array.from(bytes.subarray(from, to)));
const toHexText = (bytes: number[]) => bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');

function lengthBytes(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function stringBytes(text: string): number[] {
  const out = [text.length >> 8, text.length & 0xff];
  for (let i = 0; i < text.length; i++) out.push(text.charCodeAt(i));
  return out;
}

export class FakeBroker {
  /** Every PUBLISH the client sent, oldest first. */
  readonly published: SeenPublish[] = [];
  /** The client id of the last CONNECT. */
  clientId = '';

  constructor(private readonly socket: ScriptedSocket) {}

  /** Opens the socket, takes CONNECT and accepts it (no session present). */
  accept(): void {
    this.socket.open();
    this.pump();
    this.socket.receive('20 02 00 00');
    this.pump();
  }

  /** A QoS 0 PUBLISH to the client. */
  publish(topic: string, payload: string): void {
    const body = stringBytes(topic);
    for (let i = 0; i < payload.length; i++) body.push(payload.charCodeAt(i));
    this.socket.receive(toHexText([0x30, ...lengthBytes(body.length), ...body]));
    this.pump();
  }

  /** Reads what the client wrote and answers it; answers can make the client write more. */
  pump(): void {
    for (let round = 0; round < 100; round++) {
      const answers: number[] = [];
      for (const chunk of this.socket.sent()) this.read(hex(chunk), answers);
      if (!answers.length) return;
      this.socket.receive(toHexText(answers));
    }
    throw new Error('the client kept writing for 100 rounds');
  }

  /** Moves the clock in one-second steps, answering the client at each (keep-alive included). */
  run(clock: VirtualClock, ms: number): void {
    for (let left = ms; left > 0; left -= 1000) {
      clock.advance(Math.min(1000, left));
      this.pump();
    }
  }

  /** PUBLISHes the client sent to topics that start with `head`. */
  to(head: string): SeenPublish[] {
    return this.published.filter((p) => p.topic.startsWith(head));
  }

  private read(bytes: Uint8Array, answers: number[]): void {
    let at = 0;
    while (at < bytes.length) {
      const first = bytes[at];
      let length = 0;
      let shift = 1;
      let i = at + 1;
      for (;;) {
        const b = bytes[i++];
        length += (b & 0x7f) * shift;
        shift *= 128;
        if (!(b & 0x80)) break;
      }
      const start = i;
      const end = start + length;
      if (end > bytes.length) throw new Error('a packet split across writes: extend FakeBroker');
      const type = first >> 4;
      if (type === 1) {
        // CONNECT: protocol name (6), level, flags, keep-alive, then the client id
        const idAt = start + 10;
        this.clientId = ascii(bytes, idAt + 2, idAt + 2 + ((bytes[idAt] << 8) | bytes[idAt + 1]));
      } else if (type === 3) {
        const qos = (first >> 1) & 3;
        const topicEnd = start + 2 + ((bytes[start] << 8) | bytes[start + 1]);
        const payloadAt = qos ? topicEnd + 2 : topicEnd;
        this.published.push({ topic: ascii(bytes, start + 2, topicEnd), payload: ascii(bytes, payloadAt, end), qos, retain: !!(first & 1) });
        if (qos === 1) answers.push(0x40, 0x02, bytes[topicEnd], bytes[topicEnd + 1]);
        if (qos === 2) answers.push(0x50, 0x02, bytes[topicEnd], bytes[topicEnd + 1]);
      } else if (type === 6) {
        answers.push(0x70, 0x02, bytes[start], bytes[start + 1]);
      } else if (type === 8) {
        // SUBSCRIBE: packet id, then (filter, QoS) pairs; grant each its QoS
        const grants: number[] = [];
        for (let p = start + 2; p < end; ) {
          p += 2 + ((bytes[p] << 8) | bytes[p + 1]);
          grants.push(bytes[p++]);
        }
        answers.push(0x90, ...lengthBytes(2 + grants.length), bytes[start], bytes[start + 1], ...grants);
      } else if (type === 12) {
        answers.push(0xd0, 0x00);
      }
      at = end;
    }
  }
}

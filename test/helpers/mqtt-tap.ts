// Records the MQTT 3.1.1 packets a client sends and receives, by wrapping its Network port: type,
// packet id, DUP and QoS flags, the payload as text (PUBLISH) and sessionPresent (CONNACK), per TCP
// connection. Parsed here from the spec layout (section 2 and 3), independently of src/mqtt.
import type { Network, TcpSocket } from '../../src/ports';

const PACKET_NAMES = ['', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH'];

export interface TappedPacket {
  /** Position in the tap's log. */
  seq: number;
  /** Date.now() when the bytes were read or written. */
  at: number;
  /** The TCP connection, counted from 1 per tap. */
  conn: number;
  /** 'out': the client sent it; 'in': the client read it. */
  dir: 'in' | 'out';
  type: string;
  id?: number;
  dup?: boolean;
  qos?: number;
  topic?: string;
  text?: string;
  /** CONNACK only. */
  sessionPresent?: boolean;
}

const decoder = new TextDecoder();

/** Splits one direction of one connection into packets (they may arrive in any fragments). */
class Framer {
  private buffer = new Uint8Array(0);

  constructor(private readonly emit: (first: number, body: Uint8Array) => void) {}

  push(bytes: Uint8Array): void {
    const all = new Uint8Array(this.buffer.length + bytes.length);
    all.set(this.buffer);
    all.set(bytes, this.buffer.length);
    let at = 0;
    for (;;) {
      if (all.length - at < 2) break;
      let length = 0;
      let multiplier = 1;
      let i = at + 1;
      let complete = false;
      for (; i < all.length && i < at + 5; i++) {
        length += (all[i] & 127) * multiplier;
        multiplier *= 128;
        if (!(all[i] & 128)) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete || all.length - i < length) break;
      this.emit(all[at], all.subarray(i, i + length));
      at = i + length;
    }
    this.buffer = all.slice(at);
  }
}

function describe(first: number, body: Uint8Array): Omit<TappedPacket, 'seq' | 'at' | 'conn' | 'dir'> {
  const kind = first >> 4;
  const type = PACKET_NAMES[kind] ?? `type ${kind}`;
  if (kind === 3) {
    const qos = (first >> 1) & 3;
    const n = (body[0] << 8) | body[1];
    const topic = decoder.decode(body.subarray(2, 2 + n));
    let at = 2 + n;
    let id: number | undefined;
    if (qos) {
      id = (body[at] << 8) | body[at + 1];
      at += 2;
    }
    return { type, qos, dup: (first & 8) !== 0, id, topic, text: decoder.decode(body.subarray(at)) };
  }
  if (kind === 2) return { type, sessionPresent: (body[0] & 1) === 1 };
  if (kind >= 4 && kind <= 11 && body.length >= 2) return { type, id: (body[0] << 8) | body[1] };
  return { type };
}

export interface Tap {
  network: Network;
  packets: TappedPacket[];
}

/** Wraps `inner` so that every packet through its TCP sockets is appended to `packets`. */
export function tapNetwork(inner: Network): Tap {
  const packets: TappedPacket[] = [];
  let connections = 0;
  const record = (conn: number, dir: 'in' | 'out') => (first: number, body: Uint8Array) => {
    packets.push({ seq: packets.length, at: Date.now(), conn, dir, ...describe(first, body) });
  };
  const network: Network = {
    ...inner,
    connect(options) {
      const conn = ++connections;
      const incoming = new Framer(record(conn, 'in'));
      const outgoing = new Framer(record(conn, 'out'));
      const socket: TcpSocket = inner.connect(options);
      return {
        read() {
          const bytes = socket.read();
          if (bytes) incoming.push(bytes);
          return bytes;
        },
        write(bytes) {
          socket.write(bytes);
          outgoing.push(bytes);
        },
        close() {
          socket.close();
        },
      };
    },
  };
  return { network, packets };
}

/** One line per packet, e.g. "#812 c3 in  PUBLISH q2 d1 id 17 cut/q2 '1234'". */
export function formatPacket(p: TappedPacket): string {
  const parts = [`#${p.seq}`, `c${p.conn}`, p.dir === 'in' ? 'in ' : 'out', p.type];
  if (p.qos !== undefined) parts.push(`q${p.qos}`, `d${p.dup ? 1 : 0}`);
  if (p.id !== undefined) parts.push(`id ${p.id}`);
  if (p.topic !== undefined) parts.push(p.topic, `'${p.text}'`);
  if (p.sessionPresent !== undefined) parts.push(`sessionPresent ${p.sessionPresent ? 1 : 0}`);
  return parts.join(' ');
}

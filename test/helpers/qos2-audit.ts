// Decides, from the packets both clients exchanged (test/helpers/mqtt-tap.ts), which side caused each
// QoS 2 message the subscribing app received more than once. MQTT 3.1.1 section 4.3.3:
// - the sender sends a message under one packet id, resends it only with DUP set and the same id,
//   and never again once it has a PUBREC for it (from then on only PUBREL);
// - the receiver delivers a PUBLISH with a packet id it has acknowledged with PUBREC and not yet seen
//   released by PUBREL at most once (Method B), and a PUBLISH after that PUBREL is a new message;
// - a CONNACK with sessionPresent 0 ends both sessions' state.
// A duplicate is the client's only when the client broke one of these rules; otherwise the broker sent
// the message to the subscriber as a new publication, which only the broker could have avoided.
import { formatPacket, type TappedPacket } from './mqtt-tap';

type Side = 'publisher' | 'subscriber' | 'broker';

export interface Duplicate {
  text: string;
  /** Times the app received it. */
  deliveries: number;
  side: Side;
  why: string;
  /** The packets of both clients that concern this message (with their PUBREC/PUBREL/PUBCOMP). */
  excerpt: string[];
}

/** Ids the subscriber may not deliver again, as the protocol sees them, at each inbound PUBLISH. */
function receiverVerdicts(sub: TappedPacket[], topic: string): Map<number, boolean> {
  const awaitingRelease = new Set<number>();
  const mayDeliver = new Map<number, boolean>(); // packet seq -> a correct receiver delivers it
  for (const p of sub) {
    if (p.dir !== 'in') continue;
    if (p.type === 'CONNACK' && !p.sessionPresent) awaitingRelease.clear();
    else if (p.type === 'PUBREL') awaitingRelease.delete(p.id!);
    else if (p.type === 'PUBLISH' && p.qos === 2 && p.topic === topic) {
      mayDeliver.set(p.seq, !awaitingRelease.has(p.id!));
      awaitingRelease.add(p.id!);
    }
  }
  return mayDeliver;
}

/** Why the publisher's packets for one message break the sender's rules, or undefined. */
function senderFault(pub: TappedPacket[], topic: string, text: string): string | undefined {
  let id: number | undefined;
  let received = false; // PUBREC seen for id
  for (const p of pub) {
    if (p.type === 'CONNACK' && p.dir === 'in' && !p.sessionPresent) {
      id = undefined; // the broker has no session: sending it again as a new message is right
      received = false;
    } else if (p.dir === 'out' && p.type === 'PUBLISH' && p.topic === topic && p.text === text) {
      if (received) return `the publisher sent PUBLISH id ${p.id} after the broker's PUBREC for it`;
      if (id !== undefined && p.id !== id) return `the publisher sent it under ids ${id} and ${p.id} in one session`;
      if (id !== undefined && !p.dup) return `the publisher resent id ${p.id} without DUP`;
      id = p.id;
    } else if (p.dir === 'in' && p.type === 'PUBREC' && id !== undefined && p.id === id) received = true;
    else if (p.dir === 'in' && p.type === 'PUBCOMP' && id !== undefined && p.id === id) id = undefined;
  }
  return undefined;
}

/** How the broker's copies after the first came: under the same id after its PUBREL, or a new id. */
function brokerResends(sub: TappedPacket[], arrivals: TappedPacket[]): string {
  const out: string[] = [];
  for (let i = 1; i < arrivals.length; i++) {
    const before = arrivals[i - 1];
    const p = arrivals[i];
    const released = sub.some((q) => q.dir === 'in' && q.type === 'PUBREL' && q.id === p.id && q.seq > before.seq && q.seq < p.seq);
    out.push(p.id === before.id && released ? `PUBLISH DUP=${p.dup ? 1 : 0} id ${p.id} again after its PUBREL` : `PUBLISH DUP=${p.dup ? 1 : 0} under a new id ${p.id} (was ${before.id})`);
  }
  return out.join('; ');
}

function related(packets: TappedPacket[], topic: string, text: string, who: string): string[] {
  const ids = new Set<number>();
  for (const p of packets) if (p.type === 'PUBLISH' && p.topic === topic && p.text === text && p.id !== undefined) ids.add(p.id);
  const out: string[] = [];
  const connacks = new Map<number, TappedPacket>();
  const shown = new Set<number>();
  for (const p of packets) {
    if (p.type === 'CONNACK') connacks.set(p.conn, p);
    // its PUBLISH packets, and every QoS 2 packet under the ids it had (other messages' included)
    const mine = p.type === 'PUBLISH' ? p.topic === topic && (p.text === text || ids.has(p.id!)) : ids.has(p.id!) && /^PUB(REC|REL|COMP)$/.test(p.type);
    if (!mine) continue;
    // the CONNACK of each connection involved, for sessionPresent
    const connack = connacks.get(p.conn);
    if (connack && !shown.has(p.conn)) out.push(`${who} ${formatPacket(connack)}`);
    shown.add(p.conn);
    out.push(`${who} ${formatPacket(p)}`);
  }
  return out;
}

/**
 * Every QoS 2 message on `topic` delivered more than once (`delivered`: the payloads the app got, in
 * order), with the side that caused it.
 */
export function auditQos2Duplicates(pub: TappedPacket[], sub: TappedPacket[], topic: string, delivered: string[]): Duplicate[] {
  const counts = new Map<string, number>();
  for (const text of delivered) counts.set(text, (counts.get(text) ?? 0) + 1);
  const verdicts = receiverVerdicts(sub, topic);
  const out: Duplicate[] = [];
  for (const [text, deliveries] of counts) {
    if (deliveries < 2) continue;
    const arrivals = sub.filter((p) => p.dir === 'in' && p.type === 'PUBLISH' && p.topic === topic && p.text === text);
    const allowed = arrivals.filter((p) => verdicts.get(p.seq)).length;
    const excerpt = [...related(pub, topic, text, 'pub'), ...related(sub, topic, text, 'sub')];
    let side: Side;
    let why: string;
    const sender = senderFault(pub, topic, text);
    if (deliveries > allowed) {
      side = 'subscriber';
      why = `delivered ${deliveries} times, but ${arrivals.length - allowed} of its ${arrivals.length} arrivals reused an id awaiting PUBREL`;
    } else if (sender) {
      side = 'publisher';
      why = sender;
    } else {
      side = 'broker';
      why = `the broker sent it ${allowed} times as a new message: ${brokerResends(sub, arrivals)}`;
    }
    out.push({ text, deliveries, side, why, excerpt });
  }
  return out;
}

export interface Loss {
  text: string;
  side: 'subscriber' | 'broker';
  why: string;
  excerpt: string[];
}

/**
 * Every QoS 2 message on `topic` among `expected` that the app never received (`delivered`), with the
 * side that lost it: the subscriber when one of its arrivals carried a free packet id (it had to be
 * delivered); otherwise the broker, which never sent it, or sent it only under an id whose exchange
 * was still open (awaiting PUBREL), which the receiver must take for a resend (section 4.3.3).
 */
export function auditQos2Losses(sub: TappedPacket[], topic: string, expected: string[], delivered: string[]): Loss[] {
  const got = new Set(delivered);
  const verdicts = receiverVerdicts(sub, topic);
  const arrivals = new Map<string, TappedPacket[]>();
  for (const p of sub) {
    if (p.dir === 'in' && p.type === 'PUBLISH' && p.topic === topic) (arrivals.get(p.text!) ?? arrivals.set(p.text!, []).get(p.text!)!).push(p);
  }
  const out: Loss[] = [];
  for (const text of expected) {
    if (got.has(text)) continue;
    const seen = arrivals.get(text) ?? [];
    const excerpt = related(sub, topic, text, 'sub');
    if (seen.some((p) => verdicts.get(p.seq))) {
      out.push({ text, side: 'subscriber', why: 'it arrived under a free packet id and was not delivered', excerpt });
    } else if (seen.length) {
      const ids = seen.map((p) => `${p.id} (DUP=${p.dup ? 1 : 0})`).join(', ');
      out.push({ text, side: 'broker', why: `the broker sent it only under packet ids still awaiting PUBREL from an earlier message: ${ids}`, excerpt });
    } else out.push({ text, side: 'broker', why: 'the broker never sent it to the subscriber', excerpt });
  }
  return out;
}

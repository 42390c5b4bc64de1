// The stress test's attribution of QoS 2 duplicates and losses (test/helpers/qos2-audit.ts), on
// packet traces written by hand: each rule of MQTT 3.1.1 section 4.3.3 that a client can break is
// blamed on that client, and what only the broker could have avoided on the broker.
import { describe, expect, it } from 'vitest';
import type { TappedPacket } from '../helpers/mqtt-tap';
import { auditQos2Duplicates, auditQos2Losses } from '../helpers/qos2-audit';

const T = 't/q2';

/** A trace from lines like "in PUBLISH 7 d0 a", "out PUBREC 7", "in CONNACK 1" (sessionPresent). */
function trace(...lines: string[]): TappedPacket[] {
  let conn = 0;
  return lines.map((line, seq) => {
    const [dir, type, a, b, c] = line.split(' ');
    if (type === 'CONNACK') conn++;
    const p: TappedPacket = { seq, at: seq, conn, dir: dir as 'in' | 'out', type };
    if (type === 'CONNACK') p.sessionPresent = a === '1';
    else if (type === 'PUBLISH') Object.assign(p, { qos: 2, id: Number(a), dup: b === 'd1', topic: T, text: c });
    else p.id = Number(a);
    return p;
  });
}

// a publisher that sent "a" once and completed it
const cleanPub = trace('in CONNACK 0', 'out PUBLISH 1 d0 a', 'in PUBREC 1', 'out PUBREL 1', 'in PUBCOMP 1');

describe('QoS 2 duplicate attribution', () => {
  it('blames the subscriber for delivering again an id that was awaiting PUBREL', () => {
    const sub = trace('in CONNACK 0', 'in PUBLISH 7 d0 a', 'out PUBREC 7', 'in CONNACK 1', 'in PUBLISH 7 d1 a', 'out PUBREC 7', 'in PUBREL 7');
    const [d] = auditQos2Duplicates(cleanPub, sub, T, ['a', 'a']);
    expect(d.side).toBe('subscriber');
    expect(d.excerpt.some((line) => line.includes('PUBLISH q2 d1 id 7'))).toBe(true);
  });

  it('blames the broker for a PUBLISH after its PUBREL, and for the same message under a new id', () => {
    const afterRelease = trace('in CONNACK 0', 'in PUBLISH 7 d0 a', 'out PUBREC 7', 'in PUBREL 7', 'out PUBCOMP 7', 'in CONNACK 1', 'in PUBLISH 7 d1 a');
    const [d] = auditQos2Duplicates(cleanPub, afterRelease, T, ['a', 'a']);
    expect(d.side).toBe('broker');
    expect(d.why).toContain('id 7 again after its PUBREL');
    const newId = trace('in CONNACK 0', 'in PUBLISH 7 d0 a', 'out PUBREC 7', 'in PUBLISH 9 d0 a');
    expect(auditQos2Duplicates(cleanPub, newId, T, ['a', 'a'])[0].why).toContain('new id 9');
  });

  it('blames the publisher for a PUBLISH after PUBREC, a new id in one session, or a resend without DUP', () => {
    const sub = trace('in CONNACK 0', 'in PUBLISH 7 d0 a', 'out PUBREC 7', 'in PUBREL 7', 'in PUBLISH 8 d0 a');
    const afterRec = trace('in CONNACK 0', 'out PUBLISH 1 d0 a', 'in PUBREC 1', 'in CONNACK 1', 'out PUBLISH 1 d1 a');
    expect(auditQos2Duplicates(afterRec, sub, T, ['a', 'a'])[0]).toMatchObject({ side: 'publisher', why: expect.stringContaining('after the broker') });
    const renumbered = trace('in CONNACK 0', 'out PUBLISH 1 d0 a', 'in CONNACK 1', 'out PUBLISH 2 d1 a');
    expect(auditQos2Duplicates(renumbered, sub, T, ['a', 'a'])[0]).toMatchObject({ side: 'publisher', why: expect.stringContaining('ids 1 and 2') });
    const noDup = trace('in CONNACK 0', 'out PUBLISH 1 d0 a', 'in CONNACK 1', 'out PUBLISH 1 d0 a');
    expect(auditQos2Duplicates(noDup, sub, T, ['a', 'a'])[0]).toMatchObject({ side: 'publisher', why: expect.stringContaining('without DUP') });
    // without a session the publisher must send it again as a new message: then it is the broker's
    const lostSession = trace('in CONNACK 0', 'out PUBLISH 1 d0 a', 'in CONNACK 0', 'out PUBLISH 2 d0 a');
    expect(auditQos2Duplicates(lostSession, sub, T, ['a', 'a'])[0].side).toBe('broker');
  });

  it('finds nothing when every message was delivered once', () => {
    expect(auditQos2Duplicates(cleanPub, trace('in CONNACK 0', 'in PUBLISH 7 d0 a'), T, ['a'])).toEqual([]);
  });
});

describe('QoS 2 loss attribution', () => {
  it('blames the subscriber for a message that came under a free id and was not delivered', () => {
    const sub = trace('in CONNACK 0', 'in PUBLISH 7 d0 a', 'out PUBREC 7', 'in PUBREL 7', 'in PUBLISH 7 d0 b');
    expect(auditQos2Losses(sub, T, ['a', 'b'], ['a'])).toMatchObject([{ text: 'b', side: 'subscriber' }]);
  });

  it('blames the broker for a message it sent only under an id still awaiting PUBREL, or never sent', () => {
    // a broker restored from an older database reuses id 7 while the receiver still holds it
    const sub = trace('in CONNACK 0', 'in PUBLISH 7 d0 a', 'out PUBREC 7', 'in CONNACK 1', 'in PUBLISH 7 d0 b', 'out PUBREC 7', 'in PUBREL 7');
    const losses = auditQos2Losses(sub, T, ['a', 'b', 'c'], ['a']);
    expect(losses.map((l) => [l.text, l.side])).toEqual([
      ['b', 'broker'],
      ['c', 'broker'],
    ]);
    expect(losses[0].why).toContain('awaiting PUBREL');
    expect(losses[1].why).toContain('never sent');
  });

  it('a session that ended frees the ids: a message under an old id is the subscriber\'s to deliver', () => {
    const sub = trace('in CONNACK 0', 'in PUBLISH 7 d0 a', 'out PUBREC 7', 'in CONNACK 0', 'in PUBLISH 7 d0 b');
    expect(auditQos2Losses(sub, T, ['a', 'b'], ['a'])).toMatchObject([{ text: 'b', side: 'subscriber' }]);
  });
});

// The outbox's limits, drop policy and persistence.
import { Outbox, type OutboxMessage } from '../../src/mqtt/outbox';
import { outboxStore } from '../../src/mqtt/outbox-store';
import type { QoS } from '../../src/mqtt/packets';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { equal, ok, suite } from '../../hosts/xs/harness';

function message(topic: string, qos: QoS, bytes: number): OutboxMessage {
  return { topic, payload: new Uint8Array(bytes).fill(0x41), qos, retain: false, state: 0, size: topic.length + bytes };
}

const topics = (list: OutboxMessage[]) => list.map((m) => m.topic);

export default suite('mqtt outbox', (test) => {
  test('holds messages up to the count limit, then drops QoS 0 first, oldest first', () => {
    const box = new Outbox({ maxMessages: 4, maxBytes: 10000 });
    for (const [t, q] of [['a', 1], ['b', 0], ['c', 1], ['d', 0]] as const) equal(box.add(message(t, q, 10)), []);
    equal(topics(box.add(message('e', 1, 10))), ['b']);
    equal(topics(box.add(message('f', 1, 10))), ['d']);
    // no QoS 0 left: the oldest queued QoS 1 goes
    equal(topics(box.add(message('g', 2, 10))), ['a']);
    equal(topics(box.queue), ['c', 'e', 'f', 'g']);
    equal(box.dropped, [2, 1, 0]);
    equal(box.count, 4);
  });

  test('a new QoS 0 message is refused rather than dropping stored QoS 1/2 messages', () => {
    const box = new Outbox({ maxMessages: 2 });
    box.add(message('a', 1, 1));
    box.add(message('b', 2, 1));
    const m = message('c', 0, 1);
    equal(box.add(m), [m]);
    equal(topics(box.queue), ['a', 'b']);
  });

  test('the byte budget counts topic and payload', () => {
    const box = new Outbox({ maxMessages: 100, maxBytes: 100 });
    box.add(message('t1', 1, 38)); // 40
    box.add(message('t2', 0, 38)); // 80
    equal(box.bytes, 80);
    equal(topics(box.add(message('t3', 1, 38))), ['t2']);
    equal(box.bytes, 80);
  });

  test('a message larger than the whole budget is refused', () => {
    const box = new Outbox({ maxBytes: 50 });
    const big = message('big', 1, 60);
    equal(box.add(big), [big]);
    equal(box.count, 0);
  });

  test('inflight messages are never dropped; when only they remain the new message is refused', () => {
    const box = new Outbox({ maxMessages: 2 });
    const a = message('a', 1, 1);
    const b = message('b', 1, 1);
    box.add(a);
    box.add(b);
    // both sent: they leave the queue but stay counted
    box.shift();
    box.shift();
    a.state = b.state = 1;
    const c = message('c', 1, 1);
    equal(box.add(c), [c]);
    box.release(a);
    equal(box.add(message('d', 1, 1)), []);
  });

  test('room: the bytes a new message may have to skip the queue, -1 while messages wait or no slot is free', () => {
    const box = new Outbox({ maxMessages: 2, maxBytes: 100 });
    equal(box.room, 100);
    const a = message('a', 1, 9); // 10 bytes
    box.add(a);
    box.shift(); // into flight: counted, not waiting
    equal(box.room, 90);
    box.add(message('b', 0, 9));
    equal(box.room, -1, 'a message waits');
    box.release(box.shift()!);
    equal(box.room, 90);
    box.add(message('c', 1, 9));
    box.shift();
    equal(box.room, -1, 'both slots taken');
    box.release(a);
    equal(box.room, 90);
  });

  test('persisted QoS 1/2 messages come back in order with their id and state; QoS 0 is not persisted', () => {
    const store = new MemoryStore();
    const box = new Outbox({ persist: outboxStore(store) });
    const a = message('dev/é', 1, 3);
    const b = message('b', 2, 0);
    box.add(a);
    box.add(message('zero', 0, 5));
    box.add(b);
    b.id = 513;
    b.state = 2;
    box.save(b);
    equal(store.keys().length, 2);
    const reloaded = new Outbox({ persist: outboxStore(store) });
    const inflight = new Map<number, OutboxMessage>();
    equal(reloaded.store!.restore(reloaded, inflight), []);
    equal([...reloaded.queue, ...inflight.values()].map((m) => [m.topic, m.qos, m.id, m.state, m.payload.length]), [
      ['dev/é', 1, undefined, 0, 3],
      ['b', 2, 513, 2, 0],
    ]);
    // the one never sent waits in the queue again, the other in flight under its id; both count
    equal(topics(reloaded.queue), ['dev/é']);
    equal([...inflight.keys()], [513]);
    equal([reloaded.count, reloaded.bytes], [2, 6 + 3 + 1]); // UTF-8 topic bytes + payload
    equal(reloaded.room, -1, 'a message waits: nothing skips the queue');
    box.release(a);
    const third = new Outbox({ persist: outboxStore(store) });
    third.store!.restore(third, new Map());
    equal(third.count, 1);
  });

  test('a corrupt stored record is deleted and reported, the others restored', () => {
    const store = new MemoryStore();
    const box = new Outbox({ persist: outboxStore(store) });
    box.add(message('ok', 1, 2));
    store.set('mq9', new Uint8Array([1, 0, 0, 0, 200, 1, 65])); // topic length past the end
    store.set('mqa', 'not bytes');
    const corrupt: string[] = [];
    const restored = new Outbox({ persist: outboxStore(store, { onCorruptRecord: (k) => corrupt.push(k) }) });
    restored.store!.restore(restored, new Map());
    equal(topics(restored.queue), ['ok']);
    equal(corrupt.sort(), ['mq9', 'mqa']);
    ok(!store.get('mq9') && !store.get('mqa'), 'corrupt records deleted');
  });
});

// The persisted outbox's store (src/device/outbox-store.ts): a record the host cannot write never ends
// the publish (or the connect) that made it, and records are written on a later turn, from a fresh
// stack, not under the publish.
import { CheckedStore } from '../../src/device/checked-store';
import { OutboxStore } from '../../src/device/outbox-store';
import type { Logger } from '../../src/ports';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { boot } from './device-rig';
import { equal, ok, suite } from '../../hosts/xs/harness';

function store(maxValueBytes?: number) {
  const inner = new MemoryStore({ maxValueBytes });
  const lines: string[] = [];
  const log: Logger = { log: (level, message) => void lines.push(`${level} ${message}`) };
  const clock = new ManualClock();
  return { inner, lines, clock, outbox: new OutboxStore(new CheckedStore(inner, log), log, clock) };
}

export default suite('device outbox store', (test) => {
  test('a message the store cannot hold stays in RAM and goes out; the connect goes on, and says so', () => {
    // an ESP8266 entry holds at most 512 bytes, and its 4 KB preference sector fills; here 200 bytes,
    // less than the discovery message the first connect publishes (QoS 1, so persisted)
    const r = boot(new MemoryStore({ maxValueBytes: 200 }), { config: { persistOutbox: true } });
    r.accept();
    r.run(1000);
    ok(r.device.client.connected, 'still connected');
    ok(r.device.presence.birthAcknowledged || r.published().some((p) => p.topic.endsWith('/status')), 'the birth went out');
    ok(r.published().some((p) => p.topic.startsWith('homeassistant/')), 'the discovery message went out');
    ok(r.logs.some((l) => l.startsWith('warn outbox:') && l.includes('kept in RAM only')), `no warning about the record: ${r.logs.join(' | ')}`);
  });

  test('records are written on a later turn, not under the publish; reads see them at once', () => {
    const { inner, clock, outbox } = store();
    outbox.set('mq1', Uint8Array.of(1, 2, 3));
    equal(inner.map.has('mq1'), false, 'written under the publish');
    equal(outbox.get('mq1'), Uint8Array.of(1, 2, 3));
    clock.advance(0);
    equal(inner.get('mq1'), Uint8Array.of(1, 2, 3));
  });

  test('a record replaced or deleted before its turn is never written', () => {
    const { inner, clock, outbox } = store();
    outbox.set('mq1', Uint8Array.of(1));
    outbox.set('mq1', Uint8Array.of(2));
    outbox.set('mq2', Uint8Array.of(3));
    outbox.delete('mq2');
    equal(outbox.get('mq2'), undefined);
    clock.advance(0);
    equal(inner.get('mq1'), Uint8Array.of(2));
    equal(inner.map.has('mq2'), false);
    // one write for mq1, one delete for mq2
    equal(inner.writes, 2);
  });

  test('keys() and flush() write what is queued first; a failed write is logged, not thrown', () => {
    const { inner, lines, outbox } = store(4);
    outbox.set('mq1', Uint8Array.of(1, 2));
    outbox.set('mq2', Uint8Array.of(1, 2, 3, 4, 5, 6));
    equal(outbox.keys(), ['mq1']);
    equal(inner.map.has('mq2'), false);
    ok(lines.some((l) => l.includes('message mq2 kept in RAM only')), lines.join(' | '));
    outbox.delete('mq1');
    outbox.flush();
    equal(inner.keys(), []);
  });
});

// 2,000 QoS 1 and 2,000 QoS 2 messages between two of our clients with persistent sessions, while
// the proxies cut the connections several times and the broker restarts. Zero QoS 1 loss, zero QoS 2
// loss or duplicates at the receiving app. Then a SIGKILL in the same kind of stream: losses are
// counted, and none may come from the client's side.
import { afterEach, describe, expect, it } from 'vitest';
import { FaultProxy } from '../../hosts/sim/proxy';
import { startMosquitto, type MosquittoBroker } from '../helpers/mosquitto';
import { connected, sleep, subscribed, testClient, until, type TestClient } from '../helpers/mqtt';

const COUNT = 2000;
let cleanup: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

interface Stream {
  broker: MosquittoBroker;
  pubProxy: FaultProxy;
  subProxy: FaultProxy;
  pub: TestClient;
  sub: TestClient;
  /** Publishes both streams in slices, calling chaos(sliceIndex) between slices. */
  run(chaos: (slice: number) => Promise<void>): Promise<void>;
  counts(): { q1: Map<number, number>; q2: Map<number, number> };
  /** Ids whose PUBACK / PUBCOMP the publisher received, in order. */
  acked: { q1: number[]; q2: number[] };
}

async function stream(tag: string, autosaveInterval?: number): Promise<Stream> {
  const broker = await startMosquitto({ persistence: true, autosaveInterval, extraConfig: 'max_queued_messages 0\nmax_inflight_messages 20\n' });
  const pubProxy = await FaultProxy.start({ targetHost: broker.host, targetPort: broker.port });
  const subProxy = await FaultProxy.start({ targetHost: broker.host, targetPort: broker.port });
  const common = { host: '127.0.0.1', cleanSession: false, keepAlive: 5, outbox: { maxMessages: 5000, maxBytes: 1 << 20 } };
  const pub = testClient({ ...common, port: pubProxy.port, clientId: `${tag}-pub-${process.pid}` });
  const sub = testClient({ ...common, port: subProxy.port, clientId: `${tag}-sub-${process.pid}` });
  cleanup.push(async () => {
    pub.client.destroy();
    sub.client.destroy();
    pubProxy.close();
    subProxy.close();
    await broker.stop();
  });
  await Promise.all([connected(pub), connected(sub)]);
  await subscribed(sub, `${tag}/q1`, 1);
  await subscribed(sub, `${tag}/q2`, 2);
  const acked = { q1: [] as number[], q2: [] as number[] };
  return {
    acked,
    broker,
    pubProxy,
    subProxy,
    pub,
    sub,
    async run(chaos) {
      const slices = 20;
      const per = COUNT / slices;
      for (let s = 0; s < slices; s++) {
        for (let i = s * per; i < (s + 1) * per; i++) {
          expect(pub.client.publish(`${tag}/q1`, String(i), { qos: 1 }, (e) => e || acked.q1.push(i))).toBe(true);
          expect(pub.client.publish(`${tag}/q2`, String(i), { qos: 2 }, (e) => e || acked.q2.push(i))).toBe(true);
        }
        await sleep(40);
        await chaos(s);
      }
    },
    counts() {
      const q1 = new Map<number, number>();
      const q2 = new Map<number, number>();
      for (const m of sub.received) {
        const map = m.topic.endsWith('q1') ? q1 : q2;
        map.set(+m.text, (map.get(+m.text) ?? 0) + 1);
      }
      return { q1, q2 };
    },
  };
}

describe('delivery guarantees under faults', () => {
  it('cuts and a broker restart (SIGTERM): no QoS 1 loss, QoS 2 exactly once', async () => {
    const s = await stream('cut');
    let cuts = 0;
    await s.run(async (slice) => {
      if (slice % 4 === 1) {
        s.pubProxy.cutAll();
        cuts++;
      }
      if (slice % 4 === 3) {
        s.subProxy.cutAll();
        cuts++;
      }
      if (slice === 14) await s.broker.restart(); // SIGTERM saves, then a fresh start
    });
    await until(() => s.pub.client.outboxState.depth === 0, 'publisher outbox drained', 60_000);
    await until(() => s.counts().q1.size === COUNT && s.counts().q2.size === COUNT, 'every message at the subscriber', 60_000);
    await sleep(500); // late duplicates would show up now
    const { q1, q2 } = s.counts();
    const q2dups = [...q2.values()].filter((c) => c > 1).length;
    const q1dups = [...q1.values()].filter((c) => c > 1).length;
    console.log(`cuts ${cuts}, broker restarts 1, reconnects pub ${s.pub.client.stats.reconnects} sub ${s.sub.client.stats.reconnects}; ` +
      `QoS 1: ${q1.size}/${COUNT} distinct (${q1dups} duplicated, allowed); QoS 2: ${q2.size}/${COUNT} distinct, ${q2dups} duplicated; ` +
      `QoS 2 duplicates suppressed by the client: ${s.sub.client.stats.inboundDuplicates}`);
    expect(cuts).toBeGreaterThanOrEqual(5);
    expect(s.pub.client.stats.reconnects).toBeGreaterThanOrEqual(3);
    expect(q1.size).toBe(COUNT);
    expect(q2.size).toBe(COUNT);
    expect(q2dups).toBe(0);
    expect(s.pub.client.outboxState.dropped).toEqual([0, 0, 0]);
  }, 120_000);

  it('a broker SIGKILL: losses are counted, none on the client side', async () => {
    // Saves every second: the sessions and subscriptions made at the start survive the kill, so any
    // loss is a message the broker held only in memory.
    const s = await stream('kill', 1);
    await sleep(1500);
    let ackedQ1 = new Set<number>();
    let ackedQ2 = new Set<number>();
    let publishedBeforeKill = 0;
    await s.run(async (slice) => {
      if (slice === 8) {
        // the subscriber goes offline, so the broker holds its messages in memory when it dies
        s.subProxy.refuse(true);
        s.subProxy.cutAll();
      }
      if (slice === 10) {
        publishedBeforeKill = (COUNT / 20) * 11;
        ackedQ1 = new Set(s.acked.q1);
        ackedQ2 = new Set(s.acked.q2);
        await s.broker.kill();
        await sleep(200);
        await s.broker.restart();
        s.subProxy.refuse(false);
      }
    });
    await until(() => s.pub.client.outboxState.depth === 0, 'publisher outbox drained', 60_000);
    await until(() => s.counts().q1.has(COUNT - 1) && s.counts().q2.has(COUNT - 1), 'the last messages', 30_000);
    await sleep(1000);
    const { q1, q2 } = s.counts();
    const lost1 = COUNT - q1.size;
    const lost2 = COUNT - q2.size;
    console.log(`SIGKILL with ${ackedQ1.size} QoS 1 and ${ackedQ2.size} QoS 2 of ${COUNT} each acknowledged: lost QoS 1 ${lost1}, QoS 2 ${lost2} (the broker had acknowledged them ` +
      `but not saved them); client-side drops ${s.pub.client.outboxState.dropped.join('/')}, unacknowledged left ${s.pub.client.outboxState.depth}; ` +
      `QoS 2 duplicates at the app ${[...q2.values()].filter((c) => c > 1).length}`);
    // Client side: nothing dropped, everything eventually acknowledged by the (restarted) broker.
    expect(s.pub.client.outboxState.dropped).toEqual([0, 0, 0]);
    expect(s.pub.client.outboxState.depth).toBe(0);
    expect(lost1 + lost2, 'the kill should have cost the broker some messages').toBeGreaterThan(0);
    // A loss is the client's when the client dropped the message before a broker took it over, or never
    // sent it again: so every lost message must have been acknowledged by a broker (PUBACK for QoS 1;
    // PUBREC for QoS 2, which precedes the PUBCOMP we see by at most an inflight window). Most losses
    // are acknowledged before the kill; a few after the restart, when mosquitto's restored state from
    // its last autosave (sessions, queues) is older than the live one was.
    const window = 16;
    const allQ1 = new Set(s.acked.q1);
    const allQ2 = new Set(s.acked.q2);
    const pendingQ2 = Array.from({ length: publishedBeforeKill }, (_, i) => i).filter((i) => !ackedQ2.has(i)).slice(0, window);
    let afterRestart = 0;
    for (let i = 0; i < COUNT; i++) {
      if (!q1.has(i)) {
        expect(allQ1.has(i), `lost QoS 1 message ${i} had been acknowledged by the broker`).toBe(true);
        if (!ackedQ1.has(i)) afterRestart++;
      }
      if (!q2.has(i)) {
        expect(allQ2.has(i) || pendingQ2.includes(i), `lost QoS 2 message ${i} had been taken over by the broker`).toBe(true);
        if (!ackedQ2.has(i) && !pendingQ2.includes(i)) afterRestart++;
      }
    }
    console.log(`losses acknowledged by the restarted broker (its restored state was older): ${afterRestart}`);
  }, 120_000);
});

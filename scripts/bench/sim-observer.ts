// Child process of the scale benchmark: an MQTT.js subscriber (as a back end would be) that times
// every heartbeat against the schedule its device was given. Runs apart from the devices, so the
// lateness includes the devices' event loop, the sockets and the broker, and nothing of ours
// measures itself. Talks to the parent over IPC:
//   {type:'connect', urls, filters}                -> {type:'ready'}   (one subscriber per broker)
//   {type:'schedule', entries:[[id, t0, every]]}     heartbeat k is due at t0 + k*every (epoch ms)
//   {type:'window-start'} / {type:'window-end'}      -> {type:'stats', ...}
//   {type:'close'}
import mqtt from 'mqtt';

interface Schedule {
  t0: number;
  every: number;
  lastK: number;
  beats: number;
}

const schedules = new Map<string, Schedule>();
let lateness = new Float64Array(1 << 16);
let count = 0;
let messages = 0;
let windowStart = 0;
let inWindow = false;
let clients: mqtt.MqttClient[] = [];

const wallNow = () => performance.timeOrigin + performance.now();
const send = (m: unknown) => process.send?.(m);

function record(ms: number): void {
  if (count === lateness.length) {
    const bigger = new Float64Array(lateness.length * 2);
    bigger.set(lateness);
    lateness = bigger;
  }
  lateness[count++] = ms;
}

function onMessage(topic: string): void {
  const arrival = wallNow();
  if (inWindow) messages++;
  if (!topic.endsWith('/heartbeat')) return;
  const parts = topic.split('/');
  const s = schedules.get(parts[parts.length - 2]);
  if (!s) return;
  // Heartbeats are never early, so the beat is the last one due; a beat later than a whole
  // interval would be taken for the next one, which the missing-beat count then exposes.
  // (5 ms of slack: the two processes' clocks agree to about a millisecond)
  const k = Math.max(s.lastK + 1, Math.floor((arrival - s.t0 + 5) / s.every));
  s.lastK = k;
  if (!inWindow) return;
  s.beats++;
  record(Math.max(0, arrival - (s.t0 + k * s.every)));
}

function quantile(sorted: Float64Array, q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

process.on('message', (m: { type: string; urls?: string[]; filters?: string[]; entries?: [string, number, number][] }) => {
  switch (m.type) {
    case 'connect': {
      let ready = 0;
      clients = m.urls!.map((url, i) => {
        const client = mqtt.connect(url, { clientId: `bench-observer-${process.pid}-${i}`, reconnectPeriod: 200, keepalive: 30 });
        client.on('message', onMessage);
        client.once('connect', () => {
          client.subscribe(m.filters!, { qos: 0 }, () => {
            if (++ready === clients.length) send({ type: 'ready' });
          });
        });
        return client;
      });
      return;
    }
    case 'schedule':
      for (const [id, t0, every] of m.entries!) schedules.set(id, { t0, every, lastK: 0, beats: 0 });
      return;
    case 'forget':
      schedules.clear();
      return;
    case 'window-start':
      count = 0;
      messages = 0;
      for (const s of schedules.values()) s.beats = 0;
      windowStart = wallNow();
      inWindow = true;
      return;
    case 'window-end': {
      inWindow = false;
      const seconds = (wallNow() - windowStart) / 1000;
      const sorted = lateness.slice(0, count).sort();
      let expected = 0;
      for (const s of schedules.values()) expected += Math.floor((seconds * 1000) / s.every);
      send({
        type: 'stats',
        beats: count,
        expected,
        messages,
        seconds,
        p50: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        max: quantile(sorted, 1),
      });
      return;
    }
    case 'close':
      void Promise.all(clients.map((c) => c.endAsync(true))).then(() => process.exit(0));
      setTimeout(() => process.exit(0), 2000).unref();
  }
});
process.on('disconnect', () => process.exit(0));

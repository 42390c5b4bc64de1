// Command round trips and Home Assistant discovery, against mosquitto, requests from MQTT.js.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient as PeerClient } from 'mqtt';
import { startMosquitto, type MosquittoBroker } from '../../scripts/broker/mosquitto';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { observer, simDevice, type Observed, type SimDevice } from '../helpers/device';
import { sleep, until } from '../helpers/mqtt';

let broker: MosquittoBroker;
let d: SimDevice;
let peer: PeerClient;
let seen: Observed[];

beforeAll(async () => {
  broker = await startMosquitto();
  d = simDevice({
    id: `cmd${process.pid}`,
    config: { brokerHost: broker.host, brokerPort: broker.port, prefix: 'lab', brokerUser: 'bench', brokerPassword: 's3cret-pass', name: 'Bench board' },
  });
  await until(() => d.device.presence.birthAcknowledged, 'device online');
  ({ peer, seen } = await observer(broker.url, ['lab/+/cmd/#', 'lab/reply/#', 'replies/#', 'homeassistant/#']));
  await sleep(200);
});

afterAll(async () => {
  d?.device.client.destroy();
  await peer?.endAsync(true);
  await broker?.stop();
});

let n = 0;
async function call(name: string, body: string | object, replyTopic?: string): Promise<Record<string, unknown>> {
  const id = `r${n++}`;
  const payload = typeof body === 'string' ? body : JSON.stringify({ id, ...body });
  const topic = replyTopic ?? d.device.topics.commandResult(name);
  // only replies that arrive after this request count (a raw-string request has no id of ours)
  const before = seen.length;
  await peer.publishAsync(d.device.topics.command(name), payload, { qos: 1 });
  const matches = () => seen.slice(before).filter((m) => m.topic === topic && (typeof body === 'string' || m.json.id === id));
  await until(() => matches().length > 0, `reply to ${name}`);
  return matches().at(-1)!.json;
}

describe('commands', () => {
  it('ping answers with the same id and status ok', async () => {
    const r = await call('ping', {});
    expect(r).toMatchObject({ status: 'ok', result: { pong: true, boot: d.device.boot } });
    expect(typeof r.id).toBe('string');
  });

  it('get-config returns the settings with secrets masked', async () => {
    const r = await call('get-config', {});
    const result = r.result as Record<string, unknown>;
    expect(result).toMatchObject({ prefix: 'lab', name: 'Bench board', brokerPassword: '***', heartbeatInterval: 60 });
    expect(JSON.stringify(r)).not.toContain('s3cret-pass');
    expect(d.logs.join('\n')).not.toContain('s3cret-pass');
  });

  it('set-config validates, persists and applies a live setting', async () => {
    const r = await call('set-config', { args: { heartbeatInterval: 5, telemetryQos: 0 } });
    expect(r).toMatchObject({ status: 'ok', result: { changed: ['heartbeatInterval', 'telemetryQos'], restartRequired: [] } });
    expect(d.platform.storage.get('c.hb')).toBe('5');
    expect(d.device.values.heartbeatInterval).toBe(5);
  });

  it('an invalid set-config changes nothing and says why', async () => {
    const before = d.device.values.keepAlive;
    const r = await call('set-config', { args: { keepAlive: 9999999, name: 'ok' } });
    expect(r.status).toBe('error');
    expect(r.error).toMatch(/keepAlive must be between 5 and 3600/);
    expect(d.device.values.keepAlive).toBe(before);
    const unknown = await call('set-config', { args: { colour: 'red' } });
    expect(unknown.error).toMatch(/unknown setting "colour"/);
    const wrongType = await call('set-config', { args: { discovery: 'yes' } });
    expect(wrongType.error).toMatch(/discovery must be true or false/);
  });

  it('a setting that needs a restart is reported as such', async () => {
    const r = await call('set-config', { args: { brokerPort: broker.port } });
    expect(r.status).toBe('ok');
    const again = await call('set-config', { args: { keepAlive: 45 } });
    expect(again.result).toMatchObject({ changed: ['keepAlive'], restartRequired: ['keepAlive'] });
  });

  it('an unknown command gets an error result naming the known ones', async () => {
    const r = await call('open-door', {});
    expect(r).toMatchObject({ status: 'error' });
    expect(r.error).toMatch(/unknown command "open-door".*ping.*reboot.*identify.*get-config.*set-config/);
  });

  it('malformed JSON gets an error result and the device keeps serving', async () => {
    const r = await call('ping', '{"id": 7, "args": ');
    expect(r).toMatchObject({ status: 'error', id: null });
    expect(r.error).toMatch(/malformed JSON/);
    const arr = await call('ping', '[1,2]');
    expect(arr.error).toMatch(/JSON object/);
    expect((await call('ping', {})).status).toBe('ok');
  });

  it('a response topic and correlation data in the request are honoured', async () => {
    const r = await call('ping', { responseTopic: 'lab/reply/app1', correlationData: 'xyz' }, 'lab/reply/app1');
    expect(r).toMatchObject({ status: 'ok', correlationData: 'xyz' });
  });

  it('a response topic outside the reply space gets the error on the result topic', async () => {
    const r = await call('ping', { responseTopic: 'replies/app1', correlationData: 'xyz' });
    expect(r).toMatchObject({ status: 'error', correlationData: 'xyz' });
    expect(r.error).toMatch(/"replies\/app1" is outside the reply topics \(lab\/cmd\d+\/#, lab\/reply\/#\)/);
    expect(seen.some((m) => m.topic === 'replies/app1')).toBe(false);
  });

  it('an empty payload gets an error result', async () => {
    const r = await call('ping', '');
    expect(r).toMatchObject({ status: 'error', id: null });
    expect(r.error).toMatch(/empty request/);
  });

  it('identify validates its argument', async () => {
    expect((await call('identify', { args: { seconds: 2 } })).result).toEqual({ identifying: 2 });
    expect((await call('identify', { args: { seconds: 'long' } })).error).toMatch(/seconds/);
  });

  it('reboot replies first, then stops cleanly and restarts', async () => {
    const r = await call('reboot', {});
    expect(r).toMatchObject({ status: 'ok', result: { rebooting: true } });
    await until(() => d.restarts.length === 1, 'restart');
    expect(d.restarts[0]).toBe('reboot command');
    expect(d.device.presence.state).toBe('disconnected');
  });
});

// Keys documented for MQTT discovery of sensor and binary_sensor entities
// (home-assistant.io/integrations/sensor.mqtt and binary_sensor.mqtt, "Configuration Variables").
const COMMON = ['availability', 'availability_mode', 'availability_template', 'availability_topic', 'default_entity_id', 'device', 'device_class', 'enabled_by_default', 'encoding', 'entity_category', 'entity_picture', 'expire_after', 'force_update', 'icon', 'json_attributes_template', 'json_attributes_topic', 'name', 'object_id', 'payload_available', 'payload_not_available', 'platform', 'qos', 'state_topic', 'unique_id', 'value_template'];
const SENSOR_KEYS = new Set([...COMMON, 'last_reset_value_template', 'options', 'state_class', 'suggested_display_precision', 'unit_of_measurement']);
const BINARY_KEYS = new Set([...COMMON, 'off_delay', 'payload_off', 'payload_on']);
const DEVICE_KEYS = new Set(['configuration_url', 'connections', 'hw_version', 'identifiers', 'manufacturer', 'model', 'model_id', 'name', 'serial_number', 'suggested_area', 'sw_version', 'via_device']);
// Units Home Assistant accepts per sensor device class (home-assistant.io/integrations/sensor, "Device class").
const UNITS: Record<string, string[]> = { temperature: ['°C', '°F', 'K'], humidity: ['%'], pressure: ['cbar', 'bar', 'hPa', 'mmHg', 'inHg', 'kPa', 'mbar', 'Pa', 'psi'], illuminance: ['lx'] };
const ENTITY_CATEGORIES = ['config', 'diagnostic'];
const STATE_CLASSES = ['measurement', 'total', 'total_increasing', 'measurement_angle'];

describe('Home Assistant discovery', () => {
  it('publishes retained configs whose keys and values follow the documented schema', async () => {
    const configs = seen.filter((m) => m.topic.startsWith('homeassistant/') && m.topic.endsWith('/config'));
    const id = d.platform.system.deviceId();
    expect(configs.map((m) => m.topic).sort()).toEqual([
      `homeassistant/binary_sensor/${id}/status/config`,
      `homeassistant/sensor/${id}/env_humidity/config`,
      `homeassistant/sensor/${id}/env_pressure/config`,
      `homeassistant/sensor/${id}/env_temperature/config`,
    ]);
    for (const m of configs) {
      const c = m.json;
      const binary = m.topic.includes('/binary_sensor/');
      const allowed = binary ? BINARY_KEYS : SENSOR_KEYS;
      for (const key of Object.keys(c)) expect(allowed.has(key), `${m.topic}: key ${key}`).toBe(true);
      for (const key of Object.keys(c.device as object)) expect(DEVICE_KEYS.has(key), `device key ${key}`).toBe(true);
      expect(c.state_topic, 'state_topic is required').toEqual(expect.any(String));
      expect((c.device as { identifiers: string[] }).identifiers).toEqual([id]);
      expect(c.unique_id).toEqual(expect.stringContaining(id));
      if (c.entity_category) expect(ENTITY_CATEGORIES).toContain(c.entity_category);
      if (!binary) {
        expect(STATE_CLASSES).toContain(c.state_class);
        expect(UNITS[c.device_class as string]).toContain(c.unit_of_measurement);
        expect(c.expire_after).toBeGreaterThan(0);
      }
    }
  });

  it('re-sends discovery when Home Assistant announces "online"', async () => {
    const count = () => seen.filter((m) => m.topic.endsWith('/config')).length;
    const fresh = simDevice({ id: `ha${process.pid}`, config: { brokerHost: broker.host, brokerPort: broker.port, prefix: 'lab' } });
    try {
      await until(() => fresh.device.presence.birthAcknowledged, 'online');
      await until(() => count() >= 8, 'first discovery of the second device');
      const before = count();
      await peer.publishAsync('homeassistant/status', 'online', { qos: 1 });
      await until(() => count() >= before + 4, 'discovery re-sent');
    } finally {
      fresh.device.client.destroy();
    }
  });
});

describe('confined replies', () => {
  it('device 2 asked to reply on device 1\'s identify topic: device 1 does not blink, the requester gets an error', async () => {
    const config = { brokerHost: broker.host, brokerPort: broker.port, prefix: 'lab' };
    const one = simDevice({ id: `one${process.pid}`, config });
    const two = simDevice({ id: `two${process.pid}`, config });
    try {
      await until(() => one.device.presence.birthAcknowledged && two.device.presence.birthAcknowledged, 'both devices online');
      const target = one.device.topics.command('identify');
      const resultTopic = two.device.topics.commandResult('identify');
      const before = seen.length;
      await peer.publishAsync(two.device.topics.command('identify'), JSON.stringify({ id: 'hop', responseTopic: target, args: { seconds: 1 } }), { qos: 1 });
      await until(() => seen.slice(before).some((m) => m.topic === resultTopic), 'the error on the result topic');
      const reply = seen.slice(before).find((m) => m.topic === resultTopic)!;
      expect(reply.json).toMatchObject({ id: 'hop', status: 'error' });
      expect(reply.json.error).toBe(`responseTopic "${target}" is a command topic; replies never go there`);
      // device 1 answers a real request on that topic, so its silence below is not a lost subscription
      await sleep(300);
      expect(seen.slice(before).filter((m) => m.topic === target)).toEqual([]);
      expect([...one.logs, ...two.logs].filter((l) => l.includes('identify'))).toEqual([]);
      await peer.publishAsync(one.device.topics.command('ping'), '{"id":"alive"}', { qos: 1 });
      await until(() => seen.some((m) => m.topic === one.device.topics.commandResult('ping') && m.json.id === 'alive'), 'device 1 answers');
    } finally {
      one.device.client.destroy();
      two.device.client.destroy();
    }
  });
});

describe('discovery re-sends under forged births', () => {
  it('50 "online" births in a burst: one coalesced re-send per 30 s of the device clock', async () => {
    const clock = new ManualClock({ wallTime: Date.UTC(2024, 0, 1) });
    const dev = simDevice({ id: `flood${process.pid}`, clock, config: { brokerHost: broker.host, brokerPort: broker.port, prefix: 'lab' } });
    const mine = () => seen.filter((m) => m.topic.startsWith('homeassistant/') && m.topic.includes(`/flood${process.pid}/`)).length;
    try {
      await until(() => dev.device.presence.birthAcknowledged, 'online');
      await until(() => mine() === 4, 'discovery at connect (4 configs)');
      await peer.publishAsync('homeassistant/status', 'online', { qos: 1 });
      // at once: the re-send runs from a 0 ms timer (a fresh XS stack), so the device clock does not move
      await until(() => (clock.advance(0), mine() === 8), 'the first birth is answered at once');
      for (let i = 0; i < 50; i++) await peer.publishAsync('homeassistant/status', 'online', { qos: 1 });
      // the births have reached the device when a command sent after them is answered
      await peer.publishAsync(dev.device.topics.command('ping'), '{"id":"after-births"}', { qos: 1 });
      await until(() => seen.some((m) => m.json.id === 'after-births'), 'the ping after the births');
      await sleep(300);
      expect(mine()).toBe(8);
      clock.advance(30_000);
      await until(() => mine() === 12, 'one coalesced re-send');
      await sleep(300);
      clock.advance(60_000);
      await sleep(300);
      expect(mine()).toBe(12);
    } finally {
      dev.device.client.destroy();
    }
  });
});

// Pure parts of the device application: reading filters, configuration validation and storage,
// the command dispatcher, the topic layout.
import { Commands, CommandError, type Reply } from '../../src/device/commands';
import { Config, ConfigError, validate } from '../../src/device/config';
import { MAX_DEVICE_ID_LENGTH, deviceIdProblem, resolveDeviceId } from '../../src/device/device-id';
import { DEFAULT_REPLY_TOPICS, replyFilters, replyTopicProblem } from '../../src/device/reply-space';
import { ReadingFilter } from '../../src/device/filters';
import { Topics } from '../../src/device/topics';
import { decodeUtf8, encodeUtf8 } from '../../src/mqtt/utf8';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import { equal, ok, suite, throws } from '../../hosts/xs/harness';

function dispatcher() {
  const replies: Reply[] = [];
  const commands = new Commands({ resultTopic: (name) => `base/cmd/${name}/result`, send: (r) => replies.push(r) });
  const decode = (b: Uint8Array) => decodeUtf8(b, 0, b.length);
  const call = (name: string, text: string) => {
    commands.handle(name, encodeUtf8(text), decode);
    const r = replies[replies.length - 1];
    return { topic: r.topic, body: JSON.parse(r.payload) as Record<string, unknown>, after: r.after };
  };
  return { commands, replies, call };
}

export default suite('device logic', (test) => {
  test('median of 3 removes a single spike', () => {
    const f = new ReadingFilter({ median: 3 });
    equal([20, 21, 80, 22, 23].map((v) => f.push(v)), [20, 20.5, 21, 22, 23]);
  });

  test('moving average of 4, rounded to 1 decimal', () => {
    const f = new ReadingFilter({ average: 4, decimals: 1 });
    equal([1, 2, 3, 4, 10].map((v) => f.push(v)), [1, 1.5, 2, 2.5, 4.8]);
  });

  test('delta threshold, throttle and periodic resend decide what is due', () => {
    const f = new ReadingFilter({ delta: 0.5, throttle: 1000, resend: 10000 });
    f.push(20);
    ok(f.due(0), 'first value is due');
    f.published(0);
    f.push(20.4);
    ok(!f.due(2000), 'change below delta');
    f.push(21);
    ok(!f.due(500), 'throttled');
    ok(f.due(2000), 'change of 1 after the throttle');
    f.published(2000);
    f.push(21);
    ok(!f.due(11000), 'unchanged before resend');
    ok(f.due(12000), 'resend after 10 s');
  });

  test('without a delta every sample is due', () => {
    const f = new ReadingFilter({});
    f.push(5);
    f.published(0);
    f.push(5);
    ok(f.due(1));
  });

  test('filter windows are checked', () => {
    throws(() => new ReadingFilter({ median: 0 }), RangeError);
    throws(() => new ReadingFilter({ average: 100 }), RangeError);
  });

  test('config values are validated with messages that say what is wrong', () => {
    equal(validate('keepAlive', 60), 60);
    throws(() => validate('keepAlive', 2), ConfigError, 'between 5 and 3600');
    throws(() => validate('keepAlive', 10.5), ConfigError, 'whole number');
    throws(() => validate('brokerTls', 'true'), ConfigError, 'true or false');
    throws(() => validate('prefix', 'a/+/b'), ConfigError, 'without + or #');
    throws(() => validate('name', 'bad\u0007name'), ConfigError, 'control characters');
    throws(() => validate('brokerHost', 'h'.repeat(64)), ConfigError, 'at most 63');
    throws(() => validate('nope', 1), ConfigError, 'unknown setting');
  });

  test('config layers: defaults < host base < stored overrides; invalid layers are reported and ignored', () => {
    const store = new MemoryStore();
    store.set('c.hb', '15');
    store.set('c.ka', 'garbage');
    const bad: string[] = [];
    const c = new Config(store, { heartbeatInterval: 30, telemetryInterval: 5, keepAlive: 1 }, (e) => bad.push(e.key));
    equal(c.values.heartbeatInterval, 15);
    equal(c.values.telemetryInterval, 5);
    equal(c.values.keepAlive, 30);
    equal(bad.sort(), ['keepAlive', 'keepAlive']);
  });

  test('set() is all-or-nothing, persists, and names settings that need a restart', () => {
    const store = new MemoryStore();
    const c = new Config(store);
    throws(() => c.set({ heartbeatInterval: 10, keepAlive: 0 }), ConfigError);
    equal(c.values.heartbeatInterval, 60);
    equal(store.keys(), []);
    equal(c.set({ heartbeatInterval: 10, keepAlive: 40, discovery: false }), { changed: ['heartbeatInterval', 'keepAlive', 'discovery'], restartRequired: ['keepAlive'] });
    equal([store.get('c.hb'), store.get('c.ka'), store.get('c.disc')], ['10', '40', '0']);
    equal(new Config(store).values.discovery, false);
  });

  test('stored keys fit ESP32 NVS (15 characters)', () => {
    const store = new MemoryStore();
    const c = new Config(store);
    const all: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(c.values)) all[k] = v;
    all.brokerUser = 'u';
    c.set(all);
    for (const k of store.keys()) ok(k.length <= 15, `key ${k}`);
  });

  test('secrets are masked in the redacted view', () => {
    const c = new Config(new MemoryStore(), { brokerUser: 'u', brokerPassword: 'hunter22' });
    const r = c.redacted();
    equal([r.brokerPassword, r.brokerUser], ['***', 'u']);
    ok(!JSON.stringify(r).includes('hunter22'));
    equal(new Config(new MemoryStore()).redacted().brokerPassword, '', 'an empty secret shows as empty');
  });

  test('commands: result on <name>/result with the same id', () => {
    const d = dispatcher();
    d.commands.register('ping', () => ({ pong: true }));
    equal(d.call('ping', '{"id":"a1"}'), { topic: 'base/cmd/ping/result', body: { id: 'a1', status: 'ok', result: { pong: true } }, after: undefined });
    equal(d.call('ping', '{"id":12}').body.id, 12);
  });

  test('commands: a result JSON cannot carry is answered with an error, not dropped', () => {
    const d = dispatcher();
    d.commands.register('big', () => ({ count: 10n }));
    d.commands.handle('big', encodeUtf8('{"id":"b1","correlationData":"c-2"}'), (b) => decodeUtf8(b, 0, b.length));
    equal(d.replies.length, 1, 'one reply');
    const body = JSON.parse(d.replies[0].payload) as Record<string, unknown>;
    equal([body.id, body.correlationData, body.status], ['b1', 'c-2', 'error']);
    ok(String(body.error).startsWith('the result cannot be sent as JSON: '), String(body.error));
  });

  test('commands: errors for malformed JSON, non-objects, bad ids, bad args, unknown names, throwing handlers', () => {
    const d = dispatcher();
    d.commands.register('boom', () => {
      throw new CommandError('no door');
    });
    ok(String(d.call('x', '{"id":').body.error).startsWith('malformed JSON'));
    equal(d.call('x', '"str"').body.error, 'the request must be a JSON object');
    equal(d.call('boom', '{"id":{}}').body.error, '"id" must be a string or a number');
    equal(d.call('boom', '{"id":"1","args":[1]}').body.error, '"args" must be a JSON object');
    equal(d.call('nope', '{"id":"1"}').body, { id: '1', status: 'error', error: 'unknown command "nope"; known: boom' });
    equal(d.call('boom', '{"id":"2"}').body, { id: '2', status: 'error', error: 'no door' });
    equal(d.call('boom', '{"id":"3","responseTopic":"a/#"}').body.error, '"responseTopic" must be a topic name without wildcards');
  });

  test('commands: an empty payload is an error, not an empty request', () => {
    const d = dispatcher();
    let ran = 0;
    d.commands.register('ping', () => (ran++, undefined));
    equal(d.call('ping', ''), { topic: 'base/cmd/ping/result', body: { id: null, status: 'error', error: 'empty request: send a JSON object, e.g. {"id":"1"}' }, after: undefined });
    equal(ran, 0);
  });

  test('commands: responseTopic and correlationData are honoured', () => {
    const d = dispatcher();
    d.commands.register('ping', () => undefined);
    const r = d.call('ping', '{"id":"9","responseTopic":"app/replies","correlationData":"c-1"}');
    equal(r.topic, 'app/replies');
    equal(r.body, { id: '9', correlationData: 'c-1', status: 'ok' });
  });

  test('commands: a responseTopic that is not a string is refused', () => {
    const d = dispatcher();
    d.commands.register('ping', () => undefined);
    equal(d.call('ping', '{"id":"1","responseTopic":7}'), { topic: 'base/cmd/ping/result', body: { id: '1', status: 'error', error: '"responseTopic" must be a topic name without wildcards' }, after: undefined });
  });

  test('reply space: command topics of any device, discovery, broker and device data topics are refused whatever the setting', () => {
    const t = new Topics('home/lab', 'dev2', 'ha');
    const everywhere = '#';
    const refused: [string, string][] = [
      ['home/lab/dev1/cmd/identify', 'a command topic'],
      ['home/lab/dev2/cmd/ping', 'a command topic'],
      ['other/fw/x/cmd/reboot', 'a command topic'],
      ['a/cmd/b/c', 'a command topic'],
      ['homeassistant/sensor/dev2/t/config', 'Home Assistant discovery'],
      ['ha/status', 'Home Assistant discovery'],
      ['$SYS/broker/x', 'a broker topic'],
      ['home/lab/dev1/status', "a device's status topic"],
      ['home/lab/reply/heartbeat', "a device's heartbeat topic"],
      ['home/lab/dev2/ota/job', "a device's ota topic"],
      ['home/lab/dev2/telemetry/env', "a device's telemetry topic"],
      ['home/lab/group/g1/ota/job', 'a group OTA topic'],
    ];
    for (const [topic, kind] of refused) equal(replyTopicProblem(topic, t, everywhere), `is ${kind}; replies never go there`, topic);
    for (const topic of ['home/lab/dev1/cmd/ping/result', 'app/x', 'home/lab/dev2', 'x/cmd']) equal(replyTopicProblem(topic, t, everywhere), '', topic);
  });

  test('reply space: the default is <prefix>/<id>/# and <prefix>/reply/#; the setting replaces it', () => {
    const t = new Topics('home/lab', 'dev2');
    equal(replyFilters(DEFAULT_REPLY_TOPICS, t), ['home/lab/dev2/#', 'home/lab/reply/#']);
    for (const topic of ['home/lab/dev2/answers', 'home/lab/dev2/cmd/ping/result', 'home/lab/reply/app/1']) equal(replyTopicProblem(topic, t, DEFAULT_REPLY_TOPICS), '', topic);
    for (const topic of ['home/lab/dev1/answers', 'replies/app1', 'home/labx/reply/1']) {
      equal(replyTopicProblem(topic, t, DEFAULT_REPLY_TOPICS), 'is outside the reply topics (home/lab/dev2/#, home/lab/reply/#); the replyTopics setting lists where replies may go', topic);
    }
    equal(replyTopicProblem('app/r/1', t, ' app/r/+ , {prefix}/+/x '), '');
    equal(replyTopicProblem('home/lab/dev1/x', t, ' app/r/+ , {prefix}/+/x '), '');
    equal(replyTopicProblem('home/lab/dev2/answers', t, ''), 'is not allowed: the replyTopics setting is empty, so replies go only to the result topic');
  });

  test('config: replyTopics is validated as topic filters with {prefix} and {id}', () => {
    equal(validate('replyTopics', '{prefix}/{id}/#,app/+/replies'), '{prefix}/{id}/#,app/+/replies');
    equal(validate('replyTopics', ''), '');
    throws(() => validate('replyTopics', 'app/r+'), ConfigError, 'replyTopics has "app/r+"');
    throws(() => validate('replyTopics', 'a/#/b'), ConfigError, 'topic filters');
    throws(() => validate('replyTopics', 'a,,b'), ConfigError, 'topic filters');
    throws(() => validate('replyTopics', '{device}/x'), ConfigError, 'placeholders are {prefix} and {id}');
    throws(() => validate('replyTopics', '$SYS/#'), ConfigError, 'belong to the broker');
    equal(new Config(new MemoryStore()).values.replyTopics, DEFAULT_REPLY_TOPICS);
  });

  test('device ids: a safe charset and a bounded length', () => {
    for (const id of ['0242ac110002', 'A-z_09', 'x'.repeat(MAX_DEVICE_ID_LENGTH)]) equal(deviceIdProblem(id), '', id);
    equal(deviceIdProblem(''), 'it is empty');
    equal(deviceIdProblem('x'.repeat(MAX_DEVICE_ID_LENGTH + 1)), `it is longer than ${MAX_DEVICE_ID_LENGTH} characters`);
    for (const id of ['a/b', 'a+', '#', 'a b', 'caf\u00e9', '\ufffd', 'a\u0000', 'a.b']) equal(deviceIdProblem(id), 'only letters A-Z and a-z, digits, "_" and "-" are allowed', JSON.stringify(id));
    equal(resolveDeviceId('dev-1'), { id: 'dev-1' });
    const r = resolveDeviceId('bad\u0007id');
    ok(/^[0-9a-f]{12}$/.test(r.id) && r.id === resolveDeviceId('bad\u0007id').id && r.id !== resolveDeviceId('bad\u0008id').id, r.id);
    equal(r.warning, `device id "bad\\u0007id" is unusable (only letters A-Z and a-z, digits, "_" and "-" are allowed); using "${r.id}", derived from it, in topics and the client id`);
  });

  test('commands: an async handler replies once, with an after-acknowledgement action', () => {
    const d = dispatcher();
    let ran = 0;
    d.commands.register('later', (ctx) => {
      ctx.reply(undefined, { n: 1 }, () => ran++);
      ctx.reply(undefined, { n: 2 });
      return 'async';
    });
    const r = d.call('later', '{"id":"z"}');
    equal(d.replies.length, 1);
    equal(r.body.result, { n: 1 });
    r.after!();
    equal(ran, 1);
  });

  test('commands: an oversize request is refused', () => {
    const d = dispatcher();
    d.commands.register('ping', () => undefined);
    ok(String(d.call('ping', JSON.stringify({ id: '1', pad: 'x'.repeat(5000) })).body.error).includes('limit'));
  });

  test('topic layout', () => {
    const t = new Topics('home/lab', 'abc123');
    equal([t.status, t.heartbeat, t.ota, t.commands], ['home/lab/abc123/status', 'home/lab/abc123/heartbeat', 'home/lab/abc123/ota', 'home/lab/abc123/cmd/+']);
    equal([t.telemetry('env'), t.command('ping'), t.commandResult('ping')], ['home/lab/abc123/telemetry/env', 'home/lab/abc123/cmd/ping', 'home/lab/abc123/cmd/ping/result']);
    equal([t.commandName('home/lab/abc123/cmd/ping'), t.commandName('home/lab/abc123/cmd/ping/result'), t.commandName('other/cmd/ping')], ['ping', undefined, undefined]);
    equal(t.discovery('sensor', 'env_temperature'), 'homeassistant/sensor/abc123/env_temperature/config');
  });
});

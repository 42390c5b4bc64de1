// The command layer with MQTT 5 request properties (Response Topic, Correlation Data), and without
// them (MQTT 3.1.1, the JSON id scheme), on Commands directly.
import { Commands, type Reply } from '../../src/device/commands';
import { DEFAULT_REPLY_TOPICS, replyTopicProblem } from '../../src/device/reply-space';
import { Topics } from '../../src/device/topics';
import { equal, suite } from '../../hosts/xs/harness';

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const decode = (b: Uint8Array) => String.fromCharCode(...b);

function commands() {
  const sent: Reply[] = [];
  const c = new Commands({ resultTopic: (name) => `dev/cmd/${name}/result`, send: (r) => sent.push(r) });
  c.register('ping', () => ({ pong: true }));
  return { c, sent };
}

export default suite('mqtt5 commands', (test) => {
  test('Response Topic and Correlation Data properties: the reply goes there and carries them', () => {
    const { c, sent } = commands();
    c.handle('ping', bytes('{}'), decode, { responseTopic: 'app/r', correlationData: Uint8Array.of(1, 2) });
    equal(sent, [
      {
        topic: 'app/r',
        payload: '{"id":null,"status":"ok","result":{"pong":true}}',
        properties: { contentType: 'application/json', payloadFormatIndicator: true, correlationData: Uint8Array.of(1, 2) },
        after: undefined,
      },
    ]);
  });

  test('the Response Topic property wins over a responseTopic in the JSON', () => {
    const { c, sent } = commands();
    c.handle('ping', bytes('{"id":"a","responseTopic":"json/r"}'), decode, { responseTopic: 'prop/r' });
    equal(sent[0].topic, 'prop/r');
  });

  test('a Response Topic with a wildcard: the error goes to the result topic', () => {
    const { c, sent } = commands();
    c.handle('ping', bytes('{}'), decode, { responseTopic: 'app/#', correlationData: Uint8Array.of(9) });
    equal(sent[0].topic, 'dev/cmd/ping/result');
    equal(JSON.parse(sent[0].payload), { id: null, status: 'error', error: 'the Response Topic property must be a topic name without wildcards' });
    equal(sent[0].properties?.correlationData, Uint8Array.of(9));
  });

  test('a Response Topic property outside the reply space: the error goes to the result topic, with the correlation data', () => {
    const sent: Reply[] = [];
    const topics = new Topics('lab', 'dev2');
    const c = new Commands({ resultTopic: (name) => topics.commandResult(name), send: (r) => sent.push(r), replyProblem: (t) => replyTopicProblem(t, topics, DEFAULT_REPLY_TOPICS) });
    let ran = 0;
    c.register('identify', () => (ran++, {}));
    c.handle('identify', bytes('{"id":"i"}'), decode, { responseTopic: 'lab/dev1/cmd/identify', correlationData: Uint8Array.of(7) });
    c.handle('identify', bytes('{"id":"j"}'), decode, { responseTopic: 'homeassistant/sensor/dev2/t/config' });
    equal(ran, 0, 'the command is not run');
    equal(sent.map((r) => r.topic), ['lab/dev2/cmd/identify/result', 'lab/dev2/cmd/identify/result']);
    equal(sent[0].properties?.correlationData, Uint8Array.of(7));
    equal(JSON.parse(sent[0].payload).error, 'the Response Topic property "lab/dev1/cmd/identify" is a command topic; replies never go there');
    equal(JSON.parse(sent[1].payload).error, 'the Response Topic property "homeassistant/sensor/dev2/t/config" is Home Assistant discovery; replies never go there');
    c.handle('identify', bytes('{"id":"k"}'), decode, { responseTopic: 'lab/reply/app' });
    equal([sent[2].topic, ran], ['lab/reply/app', 1]);
  });

  test('without MQTT 5 properties nothing changes: JSON id, responseTopic and correlationData, no properties', () => {
    const { c, sent } = commands();
    c.handle('ping', bytes('{"id":7,"responseTopic":"a/r","correlationData":"x"}'), decode);
    equal(sent, [{ topic: 'a/r', payload: '{"id":7,"correlationData":"x","status":"ok","result":{"pong":true}}', after: undefined }]);
    equal('properties' in sent[0], false);
  });
});

// The command layer with MQTT 5 request properties (Response Topic, Correlation Data), and without
// them (MQTT 3.1.1, the JSON id scheme), on Commands directly.
import { Commands, type Reply } from '../../src/device/commands';
import { equal, suite } from './harness';

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const decode = (b: Uint8Array) => String.fromCharCode(...b);

function commands() {
  const sent: Reply[] = [];
  const c = new Commands((name) => `dev/cmd/${name}/result`, (r) => sent.push(r));
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

  test('without MQTT 5 properties nothing changes: JSON id, responseTopic and correlationData, no properties', () => {
    const { c, sent } = commands();
    c.handle('ping', bytes('{"id":7,"responseTopic":"a/r","correlationData":"x"}'), decode);
    equal(sent, [{ topic: 'a/r', payload: '{"id":7,"correlationData":"x","status":"ok","result":{"pong":true}}', after: undefined }]);
    equal('properties' in sent[0], false);
  });
});

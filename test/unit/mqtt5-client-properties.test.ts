// Property tests of the MQTT 5 client: random publish sequences go out as packets that mqtt-packet
// (an independent decoder) reads back; resolving the topic aliases as a server must gives every topic
// right, aliases stay within the server's maximum, and QoS 1/2 messages in flight never exceed the
// server's receive maximum while acknowledgements come at random. Inbound packets that mqtt-packet
// writes with topic aliases arrive with the right topics.
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { MqttClient } from '../../src/mqtt/client';
import { mqtt5 } from '../../src/mqtt/v5/protocol';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { ScriptedNetwork } from '../../hosts/sim/fakes/network';

const clock = new ManualClock();

function connack(properties: mqttPacket.IConnackPacket['properties']): Uint8Array {
  return mqttPacket.generate({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties }, { protocolVersion: 5 });
}

function decodeAll(buffers: Uint8Array[]): mqttPacket.Packet[] {
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  const out: mqttPacket.Packet[] = [];
  parser.on('packet', (p: mqttPacket.Packet) => out.push(p));
  parser.on('error', (e: Error) => {
    throw e;
  });
  for (const b of buffers) parser.parse(Buffer.from(b));
  return out;
}

const topics = ['a', 'b/c', 'sensor/kitchen/temperature', 'x/y/z', 'é/€', 'long/'.repeat(20) + 'end'];

describe('mqtt5 client properties', () => {
  it('topic aliases: the server resolves every topic right, within its topic alias maximum', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.record({ topic: fc.constantFrom(...topics), qos: fc.constantFrom(0 as const, 1 as const) }), { minLength: 1, maxLength: 60 }),
        (serverMax, ownMax, publishes) => {
          const net = new ScriptedNetwork();
          const client = new MqttClient({ clock, network: net, host: 'h', clientId: 'p', inflightWindow: 1000, outbox: { maxMessages: 1000, maxBytes: 1 << 20 }, protocol: mqtt5({ topicAliases: ownMax }) });
          client.connect();
          const wire = net.last;
          wire.open(1);
          wire.receiveBytes(connack({ topicAliasMaximum: serverMax, receiveMaximum: 1000 }));
          wire.written.length = 0;
          publishes.forEach((p, i) => client.publish(p.topic, `m${i}`, { qos: p.qos }));
          const sent = decodeAll(wire.written) as mqttPacket.IPublishPacket[];
          // a server's alias table, as section 3.3.2.3.4 describes it
          const table = new Map<number, string>();
          const resolved = sent.map((p) => {
            const alias = p.properties?.topicAlias;
            if (alias !== undefined) {
              expect(alias).toBeGreaterThanOrEqual(1);
              expect(alias).toBeLessThanOrEqual(Math.min(serverMax, ownMax));
              if (p.topic) table.set(alias, p.topic);
              else expect(table.has(alias)).toBe(true);
            } else expect(p.topic).not.toBe('');
            return { topic: p.topic || table.get(alias!)!, payload: String(p.payload) };
          });
          expect(resolved).toEqual(publishes.map((p, i) => ({ topic: p.topic, payload: `m${i}` })));
          if (ownMax === 0) expect(sent.every((p) => p.properties?.topicAlias === undefined)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never more QoS 1/2 messages in flight than the server receive maximum, with acknowledgements at random', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.oneof(fc.constantFrom(1 as const, 2 as const).map((qos) => ({ publish: qos })), fc.nat(20).map((k) => ({ ack: k }))), { minLength: 1, maxLength: 80 }),
        (receiveMaximum, steps) => {
          const net = new ScriptedNetwork();
          const done: number[] = [];
          const client = new MqttClient({ clock, network: net, host: 'h', clientId: 'p', inflightWindow: 16, outbox: { maxMessages: 1000, maxBytes: 1 << 20 }, protocol: mqtt5() });
          client.connect();
          const wire = net.last;
          wire.open(1);
          wire.receiveBytes(connack({ receiveMaximum }));
          wire.written.length = 0;
          const open = new Map<number, number>(); // packet id -> QoS, as the server sees them
          let published = 0;
          const drain = () => {
            for (const p of decodeAll(wire.written.splice(0))) {
              if (p.cmd === 'publish' && p.qos > 0) open.set(p.messageId!, p.qos);
              expect(open.size).toBeLessThanOrEqual(receiveMaximum);
            }
          };
          for (const step of steps) {
            if ('publish' in step) {
              const n = published++;
              client.publish('t', `${n}`, { qos: step.publish }, () => done.push(n));
            } else if (open.size) {
              // the server completes one message: PUBACK, or PUBREC ... PUBCOMP
              const [id, qos] = [...open][step.ack % open.size];
              open.delete(id);
              if (qos === 1) wire.receiveBytes(mqttPacket.generate({ cmd: 'puback', messageId: id }, { protocolVersion: 5 }));
              else {
                wire.receiveBytes(mqttPacket.generate({ cmd: 'pubrec', messageId: id }, { protocolVersion: 5 }));
                wire.receiveBytes(mqttPacket.generate({ cmd: 'pubcomp', messageId: id }, { protocolVersion: 5 }));
              }
            }
            drain();
          }
          // everything published is done or still held by the client
          expect(done.length + client.outboxState.depth).toBe(published);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('inbound messages that mqtt-packet writes with topic aliases arrive with the right topics and properties', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ topic: fc.constantFrom(...topics), alias: fc.integer({ min: 1, max: 3 }), useAlias: fc.boolean() }), { minLength: 1, maxLength: 40 }), (inbound) => {
        const net = new ScriptedNetwork();
        const seen: { topic: string; correlation?: number[] }[] = [];
        const errors: Error[] = [];
        const client = new MqttClient({
          clock,
          network: net,
          host: 'h',
          clientId: 'p',
          protocol: mqtt5({ topicAliasMaximum: 3 }),
          onMessage: (topic, _p, info) => seen.push({ topic, correlation: info.properties?.correlationData && Array.from(info.properties.correlationData) }),
          onError: (e) => errors.push(e),
        });
        client.connect();
        const wire = net.last;
        wire.open(1);
        wire.receiveBytes(connack({}));
        // the server's side of the aliases
        const table = new Map<number, string>();
        const expected: { topic: string; correlation: number[] }[] = [];
        inbound.forEach((m, i) => {
          const known = table.get(m.alias) === m.topic;
          const sendEmpty = m.useAlias && known;
          if (!sendEmpty) table.set(m.alias, m.topic);
          const packet = mqttPacket.generate(
            { cmd: 'publish', topic: sendEmpty ? '' : m.topic, payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: m.alias, correlationData: Buffer.from([i & 255]) } },
            { protocolVersion: 5 },
          );
          wire.receiveBytes(packet);
          expected.push({ topic: m.topic, correlation: [i & 255] });
        });
        expect(errors).toEqual([]);
        expect(seen).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});

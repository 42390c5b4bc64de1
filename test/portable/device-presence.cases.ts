// The presence state machine and the messages it makes: the will, the birth and the clean-stop
// status share topic, QoS and retain by construction.
import { Presence, presenceMessage } from '../../src/device/presence';
import { equal, ok, suite } from '../../hosts/xs/harness';

const id = { topic: 'p/dev1/status', boot: 7, version: '1.2.3' };

export default suite('device presence', (test) => {
  test('will, birth and stop use the same topic, QoS 1 and retain', () => {
    const p = new Presence(id);
    const messages = [p.will(), p.birth().message, p.stop('bye')];
    for (const m of messages) {
      equal([m.topic, m.qos, m.retain], ['p/dev1/status', 1, true]);
    }
  });

  test('payloads carry status, Homie state, boot counter and version', () => {
    const p = new Presence(id);
    equal(JSON.parse(p.will().payload), { status: 'offline', state: 'lost', boot: 7, version: '1.2.3' });
    equal(JSON.parse(p.birth().message.payload), { status: 'online', state: 'ready', boot: 7, version: '1.2.3' });
    equal(JSON.parse(p.stop('maintenance').payload), { status: 'offline', state: 'disconnected', boot: 7, version: '1.2.3', reason: 'maintenance' });
  });

  test('states: init, then ready at birth, lost on a dropped connection, disconnected at a clean stop', () => {
    const p = new Presence(id);
    equal(p.state, 'init');
    p.birth();
    equal(p.state, 'ready');
    p.disconnected();
    equal(p.state, 'lost');
    p.birth();
    p.stop('x');
    equal(p.state, 'disconnected');
    p.disconnected();
    equal(p.state, 'disconnected', 'a clean stop is not turned into lost by the socket closing');
  });

  test('only the acknowledgement of the current birth counts', () => {
    const p = new Presence(id);
    const first = p.birth();
    p.disconnected();
    const second = p.birth();
    first.acknowledged();
    ok(!p.birthAcknowledged, 'an old birth acknowledged late must not count');
    second.acknowledged(new Error('dropped'));
    ok(!p.birthAcknowledged, 'a failed birth does not count');
    const third = p.birth();
    third.acknowledged();
    ok(p.birthAcknowledged, 'the current birth acknowledged');
    p.disconnected();
    ok(!p.birthAcknowledged, 'a lost connection clears it');
  });

  test('extra fields never override the status fields of another state', () => {
    const m = presenceMessage(id, 'ready', { ts: 5 });
    equal(JSON.parse(m.payload), { status: 'online', state: 'ready', boot: 7, version: '1.2.3', ts: 5 });
  });
});

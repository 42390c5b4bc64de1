// The broker URL entered in the set-up page becomes connection settings.
import { brokerSettings } from '../../src/device/wifi-setup';
import { equal, suite, throws } from '../../hosts/xs/harness';

export default suite('device wifi set-up', (test) => {
  test('mqtt:// and mqtts:// URLs with and without a port', () => {
    equal(brokerSettings('mqtt://192.168.1.2:1884'), { brokerHost: '192.168.1.2', brokerPort: 1884, brokerTls: false });
    equal(brokerSettings('mqtt://broker.local'), { brokerHost: 'broker.local', brokerPort: 1883, brokerTls: false });
    equal(brokerSettings(' mqtts://hub.example.com/ '), { brokerHost: 'hub.example.com', brokerPort: 8883, brokerTls: true });
    equal(brokerSettings('mqtt://[fd00::2]:1883'), { brokerHost: 'fd00::2', brokerPort: 1883, brokerTls: false });
  });

  test('anything else is refused with the expected form in the message', () => {
    for (const bad of ['http://x:1883', 'broker.local', 'mqtt://', 'mqtt://a b', 'mqtt://h:99999', 'mqtt://h:1883/path']) {
      throws(() => brokerSettings(bad), Error, 'mqtt://');
    }
  });
});

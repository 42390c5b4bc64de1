// The Improv service's replies, against a scripted provisioning target.
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { equal, hex, suite } from '../../hosts/xs/harness';
import type { WiFiNetwork } from '../../src/ports';
import { ImprovSerialService, improvStateOf, type ImprovTarget } from '../../src/improv/service';
import type { AttemptResult, ProvisioningState, StateListener } from '../../src/provisioning/provisioning';
import { ProvisioningBusyError } from '../../src/provisioning/portal';
import type { WiFiCredentials } from '../../src/provisioning/validate';

const clock = new ManualClock();

class Target implements ImprovTarget {
  state: ProvisioningState = 'ap';
  ip: string | undefined;
  listeners: StateListener[] = [];
  tried: WiFiCredentials[] = [];
  busy = false;
  finish: (r: AttemptResult) => void = () => {};
  subscribe(l: StateListener) {
    this.listeners.push(l);
  }
  unsubscribe(l: StateListener) {
    this.listeners = this.listeners.filter((x) => x !== l);
  }
  set(s: ProvisioningState) {
    this.state = s;
    for (const l of this.listeners) l.provisioningState(s);
  }
  scan(cb: (n: WiFiNetwork[]) => void) {
    cb([{ ssid: 'A', rssi: -40, channel: 1, auth: 'wpa2' }]);
  }
  tryCredentials(c: WiFiCredentials, _extras: undefined, done: (r: AttemptResult) => void): void {
    if (this.busy) throw new ProvisioningBusyError('busy');
    this.tried.push(c);
    this.set('testing');
    this.finish = done;
  }
}

function setup() {
  const target = new Target();
  const out: Uint8Array[] = [];
  const service = new ImprovSerialService({
    target,
    clock,
    write: (b) => out.push(b),
    info: { firmwareName: 'fw', firmwareVersion: '1', hardware: 'esp8266', deviceName: 'dev' },
  });
  /** Packets written since the last call, newlines dropped. */
  const packets = () => out.splice(0).filter((b) => !(b.length === 1 && b[0] === 0x0a));
  return { target, service, packets };
}

const getState = hex('49 4d 50 52 4f 56 01 03 02 02 00 e5');
const errNone = hex('49 4d 50 52 4f 56 01 02 01 00 e1');
const stateReady = hex('49 4d 50 52 4f 56 01 01 01 02 e2');
const stateProvisioning = hex('49 4d 50 52 4f 56 01 01 01 03 e3');
const stateProvisioned = hex('49 4d 50 52 4f 56 01 01 01 04 e4');
const errUnable = hex('49 4d 50 52 4f 56 01 02 01 03 e4');
const errUnknown = hex('49 4d 50 52 4f 56 01 02 01 ff e0');
// Send Wi-Fi settings: SSID "A", password "12345678"
const wifi = hex('49 4d 50 52 4f 56 01 03 0d 01 0b 01 41 08 31 32 33 34 35 36 37 38 e8');

export default suite('improv service', (test) => {
  test('state mapping: testing is provisioning, connected is provisioned, the rest ready', () => {
    equal(['idle', 'connecting', 'ap', 'testing', 'connected', 'stopped'].map((s) => improvStateOf(s as ProvisioningState)), [2, 2, 2, 3, 4, 2]);
  });

  test('quiet until a client speaks, then state changes are announced', () => {
    const { target, service, packets } = setup();
    target.set('connecting');
    target.set('ap');
    equal(packets(), []);
    service.receive(getState);
    equal(packets(), [errNone, stateReady]);
    target.set('testing');
    equal(packets(), [stateProvisioning]);
  });

  test('request current state when provisioned also sends the (empty) URL result', () => {
    const { target, service, packets } = setup();
    target.state = 'connected';
    target.ip = '10.0.0.5';
    service.receive(getState);
    equal(packets(), [errNone, stateProvisioned, hex('49 4d 50 52 4f 56 01 04 02 02 00 e6')]);
  });

  test('Wi-Fi settings: provisioning, then unable to connect on failure', () => {
    const { target, service, packets } = setup();
    service.receive(wifi);
    equal(target.tried, [{ ssid: 'A', password: '12345678' }]);
    equal(packets(), [errNone, stateProvisioning]);
    target.set('ap');
    target.finish({ ok: false, ssid: 'A', reason: 'auth-failed', message: 'x' });
    equal(packets(), [stateReady, errUnable]);
  });

  test('Wi-Fi settings: provisioned and an empty result on success', () => {
    const { target, service, packets } = setup();
    service.receive(wifi);
    packets();
    target.set('connected');
    target.finish({ ok: true, ssid: 'A', ip: '10.0.0.5' });
    equal(packets(), [stateProvisioned, hex('49 4d 50 52 4f 56 01 04 02 01 00 e5')]);
  });

  test('Wi-Fi settings while another attempt runs: unknown error', () => {
    const { target, service, packets } = setup();
    target.busy = true;
    service.receive(wifi);
    equal(packets(), [errNone, errUnknown]);
  });

  test('after close nothing is answered', () => {
    const { service, packets } = setup();
    service.close();
    service.receive(getState);
    equal(packets(), []);
  });
});

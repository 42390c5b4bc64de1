// Improv serial packets against vectors written from https://www.improv-wifi.com/serial/
// (checksums summed by hand: "IMPROV" = 0x1dd).
import { equal, hex, suite, throws } from '../../hosts/xs/harness';
import { checksum, decodeRpc, decodeStrings, encodePacket, encodeRpcResult, ImprovPacketError } from '../../src/improv/packet';
import { ImprovReader, type ImprovFrame } from '../../src/improv/reader';

const ascii = (s: string) => hex(Array.from(s, (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(''));

// The spec's example: SSID MyWirelessAP, password mysecurepassword
const wifiData = hex('01 1e 0c 4d 79 57 69 72 65 6c 65 73 73 41 50 10 6d 79 73 65 63 75 72 65 70 61 73 73 77 6f 72 64');
const wifiPacket = hex('49 4d 50 52 4f 56 01 03 20 01 1e 0c 4d 79 57 69 72 65 6c 65 73 73 41 50 10 6d 79 73 65 63 75 72 65 70 61 73 73 77 6f 72 64 c1');

function collect(): { frames: ImprovFrame[]; bad: number; reader: ImprovReader } {
  const out = { frames: [] as ImprovFrame[], bad: 0, reader: undefined as unknown as ImprovReader };
  out.reader = new ImprovReader({
    frame: (f) => void out.frames.push(f),
    badChecksum: () => void out.bad++,
  });
  return out;
}

export default suite('improv packets', (test) => {
  test('state, error and RPC packets have the spec layout', () => {
    equal(encodePacket(0x01, hex('02')), hex('49 4d 50 52 4f 56 01 01 01 02 e2'), 'current state: ready');
    equal(encodePacket(0x01, hex('04')), hex('49 4d 50 52 4f 56 01 01 01 04 e4'), 'current state: provisioned');
    equal(encodePacket(0x02, hex('00')), hex('49 4d 50 52 4f 56 01 02 01 00 e1'), 'error: none');
    equal(encodePacket(0x02, hex('03')), hex('49 4d 50 52 4f 56 01 02 01 03 e4'), 'error: unable to connect');
    equal(encodePacket(0x03, hex('02 00')), hex('49 4d 50 52 4f 56 01 03 02 02 00 e5'), 'RPC: request current state');
    equal(encodePacket(0x03, wifiData), wifiPacket, 'RPC: send Wi-Fi settings (spec example)');
  });

  test('RPC results: command, total length, length-prefixed strings', () => {
    equal(
      encodePacket(0x04, encodeRpcResult(0x04, ['MyWirelessNetwork', '-60', 'YES'])),
      hex('49 4d 50 52 4f 56 01 04 1c 04 1a 11 4d 79 57 69 72 65 6c 65 73 73 4e 65 74 77 6f 72 6b 03 2d 36 30 03 59 45 53 b5'),
    );
    equal(encodePacket(0x04, encodeRpcResult(0x04, [])), hex('49 4d 50 52 4f 56 01 04 02 04 00 e8'), 'end of scan');
    equal(
      encodePacket(0x04, encodeRpcResult(0x03, ['ESPHome', '2021.11.0', 'esp32-s3-devkitc-1/esp32-s3', 'Temperature Monitor'])),
      hex(
        '49 4d 50 52 4f 56 01 04 44 03 42 07 45 53 50 48 6f 6d 65 09 32 30 32 31 2e 31 31 2e 30 1b 65 73 70 33 32 2d 73 33 2d 64 65 76 6b 69 74 63 2d 31 2f 65 73 70 33 32 2d 73 33 13 54 65 6d 70 65 72 61 74 75 72 65 20 4d 6f 6e 69 74 6f 72 07',
      ),
      'device info (spec example strings)',
    );
  });

  test('checksum is the low byte of the sum', () => {
    equal(checksum(hex('ff ff 03')), 0x01);
    equal(checksum(ascii('IMPROV')), 0xdd);
  });

  test('too much data is an error', () => {
    throws(() => encodePacket(0x04, new Uint8Array(256)), ImprovPacketError, 'at most 255');
    throws(() => encodeRpcResult(0x04, ['x'.repeat(200), 'y'.repeat(60)]), ImprovPacketError, 'at most 253');
  });

  test('decodeRpc and decodeStrings read the Wi-Fi settings', () => {
    const rpc = decodeRpc(wifiData);
    equal(rpc.command, 1);
    equal(decodeStrings(rpc.payload), ['MyWirelessAP', 'mysecurepassword']);
    equal(decodeStrings(hex('04 48 6f 6d 65 00')), ['Home', ''], 'open network: empty password');
    equal(decodeStrings(hex('02 c3 bc')), ['ü']);
  });

  test('malformed RPC data', () => {
    throws(() => decodeRpc(hex('01')), ImprovPacketError, 'at least');
    throws(() => decodeRpc(hex('01 05 00')), ImprovPacketError, 'says 5 but 1');
    throws(() => decodeStrings(hex('05 41 42')), ImprovPacketError, 'past the end');
    throws(() => decodeStrings(hex('02 c3 28')), ImprovPacketError, 'not valid UTF-8');
  });

  test('the reader finds packets among log text, split anywhere', () => {
    const c = collect();
    const stream = new Uint8Array([...ascii('[I] boot ok IMPRO\r\n'), ...wifiPacket, 0x0a, ...ascii('I\n'), ...hex('49 4d 50 52 4f 56 01 03 02 02 00 e5')]);
    for (let i = 0; i < stream.length; i += 3) c.reader.push(stream.subarray(i, i + 3), 0);
    equal(c.bad, 0);
    equal(c.frames.length, 2);
    equal(c.frames[0], { type: 3, data: wifiData });
    equal(c.frames[1], { type: 3, data: hex('02 00') });
  });

  test('a bad checksum is reported and the reader recovers', () => {
    const c = collect();
    c.reader.push(hex('49 4d 50 52 4f 56 01 03 02 02 00 e6'), 0);
    equal(c.bad, 1);
    c.reader.push(hex('49 4d 50 52 4f 56 01 03 02 03 00 e6'), 0);
    equal(c.bad, 1);
    equal(c.frames, [{ type: 3, data: hex('03 00') }]);
  });

  test('wrong version bytes are skipped', () => {
    const c = collect();
    c.reader.push(hex('49 4d 50 52 4f 56 02 03 02 02 00 e6'), 0);
    equal(c.frames.length, 0);
    equal(c.bad, 0);
  });

  test('an unfinished packet is dropped after a second of silence', () => {
    const c = collect();
    c.reader.push(hex('49 4d 50 52 4f 56 01 03 02 02'), 0);
    c.reader.push(hex('49 4d 50 52 4f 56 01 03 02 02 00 e5'), 1500);
    equal(c.frames, [{ type: 3, data: hex('02 00') }]);
    equal(c.bad, 0);
  });
});

// Captive DNS messages against hand-assembled RFC 1035 packets.
import { equal, hex, ok, suite, throws } from '../../hosts/xs/harness';
import { buildDnsAnswer, DnsAddressError, ipv4Bytes, parseDnsQuery } from '../../src/dns/message';

// id 0x1234, flags 0x0100 (RD), QDCOUNT 1; question example.com A IN
const header = '12 34 01 00 00 01 00 00 00 00 00 00';
const exampleCom = '07 65 78 61 6d 70 6c 65 03 63 6f 6d 00';
const queryA = hex(`${header} ${exampleCom} 00 01 00 01`);
const ap = hex('c0 a8 04 01'); // 192.168.4.1

export default suite('dns message', (test) => {
  test('an A query gets one authoritative A record with the access point address', () => {
    const q = parseDnsQuery(queryA);
    ok(q);
    equal(q.name, 'example.com');
    equal(q.type, 1);
    equal(q.qclass, 1);
    equal(
      buildDnsAnswer(queryA, q, ap, 30),
      hex(`12 34 85 00 00 01 00 01 00 00 00 00 ${exampleCom} 00 01 00 01  c0 0c 00 01 00 01 00 00 00 1e 00 04 c0 a8 04 01`),
    );
  });

  test('RD clear in the query stays clear in the answer', () => {
    const query = hex(`ab cd 00 00 00 01 00 00 00 00 00 00 ${exampleCom} 00 01 00 01`);
    const q = parseDnsQuery(query);
    ok(q);
    equal(buildDnsAnswer(query, q, ap, 30).subarray(0, 4), hex('ab cd 84 00'));
  });

  test('names are compared in lower case', () => {
    const query = hex(`${header} 07 45 58 41 4d 50 4c 45 03 43 4f 4d 00 00 01 00 01`);
    equal(parseDnsQuery(query)?.name, 'example.com');
  });

  test('AAAA gets NOERROR with no answer, so the client uses IPv4', () => {
    const query = hex(`${header} ${exampleCom} 00 1c 00 01`);
    const q = parseDnsQuery(query);
    ok(q);
    equal(buildDnsAnswer(query, q, ap, 30), hex(`12 34 85 00 00 01 00 00 00 00 00 00 ${exampleCom} 00 1c 00 01`));
  });

  test('ANY is answered with the A record', () => {
    const query = hex(`${header} ${exampleCom} 00 ff 00 01`);
    const q = parseDnsQuery(query);
    ok(q);
    equal(buildDnsAnswer(query, q, ap, 30)[7], 1);
  });

  test('an EDNS OPT record in the query is not echoed', () => {
    // ARCOUNT 1: root name, type OPT (41), payload size 4096, no options
    const query = hex(`12 34 01 00 00 01 00 00 00 00 00 01 ${exampleCom} 00 01 00 01 00 00 29 10 00 00 00 00 00 00 00`);
    const q = parseDnsQuery(query);
    ok(q);
    const answer = buildDnsAnswer(query, q, ap, 30);
    equal(answer.subarray(0, 12), hex('12 34 85 00 00 01 00 01 00 00 00 00'));
    equal(answer.length, 12 + 17 + 16);
  });

  test('the root name is a valid question', () => {
    const q = parseDnsQuery(hex(`${header} 00 00 01 00 01`));
    equal(q?.name, '');
  });

  test('malformed or foreign packets are ignored', () => {
    const bad: Array<[string, string]> = [
      ['empty', ''],
      ['header only', header],
      ['a response (QR set)', `12 34 81 80 00 01 00 00 00 00 00 00 ${exampleCom} 00 01 00 01`],
      ['opcode STATUS', `12 34 10 00 00 01 00 00 00 00 00 00 ${exampleCom} 00 01 00 01`],
      ['two questions', `12 34 01 00 00 02 00 00 00 00 00 00 ${exampleCom} 00 01 00 01 ${exampleCom} 00 01 00 01`],
      ['no question', `12 34 01 00 00 00 00 00 00 00 00 00 ${exampleCom} 00 01 00 01`],
      ['answers in a query', `12 34 01 00 00 01 00 01 00 00 00 00 ${exampleCom} 00 01 00 01`],
      ['name runs past the end', `${header} 07 65 78 61`],
      ['no type and class', `${header} ${exampleCom} 00 01`],
      ['compression pointer in the question', `${header} c0 0c 00 01 00 01`],
      ['reserved label type 0x40', `${header} 41 61 00 00 01 00 01`],
      ['missing root label', `${header} 07 65 78 61 6d 70 6c 65`],
    ];
    for (const [why, bytes] of bad) equal(parseDnsQuery(hex(bytes)), undefined, why);
  });

  test('names longer than 255 bytes are ignored', () => {
    const label = '3f ' + '61 '.repeat(63); // 64 bytes on the wire
    equal(parseDnsQuery(hex(`${header} ${label.repeat(4)}00 00 01 00 01`)), undefined, '4 x 64 + 1 = 257 bytes');
    const three = parseDnsQuery(hex(`${header} ${label.repeat(3)}00 00 01 00 01`));
    equal(three?.name.length, 63 * 3 + 2);
  });

  test('packets over 512 bytes are ignored', () => {
    const big = new Uint8Array(513);
    big.set(queryA);
    equal(parseDnsQuery(big), undefined);
  });

  test('ipv4Bytes reads dotted quads and rejects the rest', () => {
    equal(ipv4Bytes('192.168.4.1'), hex('c0 a8 04 01'));
    equal(ipv4Bytes('0.0.0.0'), hex('00 00 00 00'));
    throws(() => ipv4Bytes('256.1.1.1'), DnsAddressError, '0 to 255');
    throws(() => ipv4Bytes('1.2.3'), DnsAddressError, 'four numbers');
    throws(() => ipv4Bytes('::1'), DnsAddressError);
    throws(() => ipv4Bytes('1.2.3.x'), DnsAddressError);
  });
});

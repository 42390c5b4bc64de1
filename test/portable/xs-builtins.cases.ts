// The ES2022 behaviour the firmware relies on, checked on Node and on XS. Expected values come from
// the ECMAScript spec and IEEE 754, worked out by hand.
import { equal, hex, ok, suite, throws } from '../../hosts/xs/harness';

class TypedFailure extends Error {
  readonly code = 'E_TYPED';
}
// on the prototype, as the firmware's errors do: on a device (and in the XS runs) Error.prototype is
// read-only, so an own `name` assigned per error throws
TypedFailure.prototype.name = 'TypedFailure';

class Counter {
  #count = 0;
  static made = 0;
  static {
    Counter.made = -1;
  }
  bump(): number {
    return ++this.#count;
  }
  static has(value: object): boolean {
    return #count in value;
  }
}

export default suite('ES2022 built-ins the firmware relies on', (test) => {
  test('Uint8Array stores values modulo 256 and reads out of range as undefined', () => {
    const bytes = new Uint8Array(2);
    bytes[0] = 257;
    bytes[1] = -1;
    equal(bytes, hex('01 ff'));
    equal(bytes[2], undefined);
  });

  test('subarray shares memory, slice copies', () => {
    const bytes = hex('00 01 02 03 04');
    const view = bytes.subarray(1, 3);
    const copy = bytes.slice(1, 3);
    bytes[1] = 0xaa;
    equal(view, hex('aa 02'));
    equal(copy, hex('01 02'));
    equal(view.byteOffset, 1);
  });

  test('set, fill, indexOf and copyWithin on Uint8Array', () => {
    const bytes = new Uint8Array(6).fill(0x11);
    bytes.set(hex('aa bb'), 2);
    equal(bytes, hex('11 11 aa bb 11 11'));
    equal(bytes.indexOf(0xbb), 3);
    equal(bytes.indexOf(0xcc), -1);
    bytes.copyWithin(0, 2, 4);
    equal(bytes, hex('aa bb aa bb 11 11'));
  });

  test('DataView reads and writes both byte orders', () => {
    const view = new DataView(new ArrayBuffer(8));
    view.setUint16(0, 0x1234);
    view.setUint16(2, 0x1234, true);
    view.setUint32(4, 0xdeadbeef);
    equal(new Uint8Array(view.buffer), hex('12 34 34 12 de ad be ef'));
    equal(view.getUint32(4, true), 0xefbeadde);
    equal(view.getInt16(4), -8531); // 0xdead - 0x10000
  });

  test('DataView float32 uses IEEE 754 single precision', () => {
    const view = new DataView(new ArrayBuffer(4));
    view.setFloat32(0, 1.5);
    equal(new Uint8Array(view.buffer), hex('3f c0 00 00'));
    view.setFloat32(0, -2);
    equal(new Uint8Array(view.buffer), hex('c0 00 00 00'));
    view.setUint32(0, 0x41200000);
    equal(view.getFloat32(0), 10);
  });

  test('BigInt arithmetic wraps only when asked', () => {
    equal(2n ** 64n - 1n, 18446744073709551615n);
    equal(BigInt.asUintN(64, -1n), 0xffffffffffffffffn);
    equal(BigInt.asIntN(8, 255n), -1n);
    equal((0x1234n << 20n).toString(16), '123400000');
    throws(() => (1n as unknown as number) + 1, TypeError);
  });

  test('DataView 64-bit BigInt accessors', () => {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, 0x0102030405060708n);
    equal(new Uint8Array(view.buffer), hex('01 02 03 04 05 06 07 08'));
    equal(view.getBigUint64(0, true), 0x0807060504030201n);
  });

  test('32-bit integer helpers used by hashes', () => {
    equal(Math.imul(0xffffffff, 5), -5);
    equal((0xffffffff + 1) >>> 0, 0);
    equal(((0x80000000 | 0) >>> 31), 1);
    equal(Math.clz32(1), 31);
    equal((0x12345678 >>> 8) | (0x12345678 << 24), 0x78123456);
  });

  test('code can test for TextEncoder without a ReferenceError', () => {
    const kind = typeof (globalThis as { TextEncoder?: unknown }).TextEncoder;
    ok(kind === 'function' || kind === 'undefined', `unexpected typeof TextEncoder: ${kind}`);
    // typeof on an undeclared name is 'undefined', never a ReferenceError.
    equal(typeof (globalThis as Record<string, unknown>).surelyNotAGlobal, 'undefined');
  });

  test('strings: code points, padding and replaceAll', () => {
    equal('é€😀'.codePointAt(2), 0x1f600);
    equal('😀'.length, 2);
    equal(String.fromCharCode(0x41, 0x42), 'AB');
    equal((10).toString(16).padStart(4, '0'), '000a');
    equal('a/b/c'.replaceAll('/', '.'), 'a.b.c');
    equal('abc'.at(-1), 'c');
  });

  test('number formatting follows the spec', () => {
    equal(String(0.1 + 0.2), '0.30000000000000004');
    equal((21.456).toFixed(1), '21.5');
    equal((1.005).toFixed(2), '1.00'); // 1.005 is 1.00499999999999989... in binary
    equal((-0.45).toFixed(1), '-0.5');
    equal((0.96).toFixed(1), '1.0');
    // toFixed(0) is wrong on XS for |x| <= 0.5 ("0." instead of "0"; docs/xs.md): round by hand.
    equal(String(Math.round(2.5)), '3');
    equal(String(Math.round(-0.4)), '0');
    equal(Number('0x1f'), 31);
    equal(parseInt('08', 10), 8);
    ok(Number.isNaN(Number('12px')));
  });

  test('typed errors keep name, code, message and cause', () => {
    const cause = new RangeError('inner');
    const error = new TypedFailure('outer', { cause });
    ok(error instanceof Error && error instanceof TypedFailure);
    equal([error.name, error.code, error.message], ['TypedFailure', 'E_TYPED', 'outer']);
    equal(error.cause, cause);
    equal(String(error), 'TypedFailure: outer');
  });

  test('private fields, private-in and static blocks', () => {
    const counter = new Counter();
    counter.bump();
    equal(counter.bump(), 2);
    equal(Counter.made, -1);
    ok(Counter.has(counter));
    ok(!Counter.has({}));
  });

  test('optional chaining, nullish and logical assignment', () => {
    const settings: { mqtt?: { port?: number }; name?: string } = {};
    equal(settings.mqtt?.port ?? 1883, 1883);
    settings.name ??= 'node';
    settings.name &&= settings.name.toUpperCase();
    equal(settings.name, 'NODE');
    equal(Object.hasOwn(settings, 'mqtt'), false);
  });

  test('Map and Set keep insertion order; sort is stable', () => {
    const map = new Map<string, number>([['b', 1], ['a', 2]]);
    map.set('c', 3);
    map.delete('b');
    map.set('b', 4);
    equal([...map.keys()], ['a', 'c', 'b']);
    equal([...new Set([3, 1, 3, 2])], [3, 1, 2]);
    const rows = [{ k: 1, t: 'x' }, { k: 0, t: 'y' }, { k: 1, t: 'z' }, { k: 0, t: 'w' }];
    equal(rows.sort((a, b) => a.k - b.k).map((r) => r.t).join(''), 'ywxz');
  });

  test('regular expressions: named groups, lookbehind, sticky', () => {
    const match = /(?<key>\w+)=(?<value>\d+)/.exec('port=1883');
    equal(match?.groups?.key, 'port');
    equal(match?.groups?.value, '1883');
    equal('a$1b$2'.replace(/(?<=\$)\d/g, '#'), 'a$#b$#');
    const sticky = /\d/y;
    sticky.lastIndex = 1;
    equal(sticky.test('a1'), true);
  });

  test('promise jobs run in the order the spec queues them', async () => {
    const log: string[] = [];
    async function inner(): Promise<void> {
      log.push('inner');
    }
    async function outer(): Promise<void> {
      log.push('outer start');
      await inner();
      log.push('outer end');
    }
    log.push('start');
    const first = outer();
    const chain = new Promise<void>((resolve) => {
      log.push('executor');
      resolve();
    })
      .then(() => log.push('then 1'))
      .then(() => log.push('then 2'));
    log.push('end');
    await Promise.all([first, chain]);
    // Since ES2019 `await` on a native promise takes one job, queued before `then 1`.
    equal(log, ['start', 'outer start', 'inner', 'executor', 'end', 'outer end', 'then 1', 'then 2']);
  });

  test('Promise.all keeps order, allSettled reports each, rejection is caught', async () => {
    const values = await Promise.all([Promise.resolve(2), 1, Promise.resolve(3)]);
    equal(values, [2, 1, 3]);
    const settled = await Promise.allSettled([Promise.reject(new TypedFailure('no')), Promise.resolve(1)]);
    equal(settled.map((s) => s.status), ['rejected', 'fulfilled']);
    const any = await Promise.any([Promise.reject(new Error('a')), Promise.resolve('b')]);
    equal(any, 'b');
  });

  test('generators and iteration protocols', () => {
    function* pairs(bytes: Uint8Array): Generator<number> {
      for (let i = 0; i + 1 < bytes.length; i += 2) yield (bytes[i]! << 8) | bytes[i + 1]!;
    }
    equal([...pairs(hex('01 02 03 04 05'))], [0x0102, 0x0304]);
    equal(Array.from({ length: 3 }, (_v, i) => i * i), [0, 1, 4]);
    equal(Object.entries({ a: 1, b: 2 }).flat(), ['a', 1, 'b', 2]);
  });
});

// application/x-www-form-urlencoded decoding (WHATWG URL "urlencoded parser", strict escapes) and responses.
import { equal, ok, suite, throws } from '../../hosts/xs/harness';
import { HttpError } from '../../src/http/errors';
import { parseForm, parseQuery } from '../../src/http/form';
import { percentEncode } from '../../src/text/percent';
import { serializeResponse } from '../../src/http/response';

function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function text(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

export default suite('http form and response', (test) => {
  test('fields, plus as space, percent escapes, UTF-8', () => {
    const f = parseForm(bytes('s=My+Home%20Net&p=p%40ss%26word%3D&n=K%C3%BCche&e=&flag'));
    equal(f.get('s'), 'My Home Net');
    equal(f.get('p'), 'p@ss&word=');
    equal(f.get('n'), 'Küche');
    equal(f.get('e'), '');
    equal(f.get('flag'), '');
    equal(f.size, 5);
  });

  test('raw UTF-8 bytes in the body are accepted', () => {
    equal(parseForm(bytes('s=K\xc3\xbcche')).get('s'), 'Küche');
  });

  test('empty pieces are skipped', () => {
    const f = parseForm(bytes('&&a=1&&b=2&&'));
    equal(f.get('a'), '1');
    equal(f.get('b'), '2');
    equal(f.size, 2);
  });

  test('a name given twice is a 400 that names the field, not a silent pick of one value', () => {
    for (const form of ['s=a&s=b', 's=a&p=12345678&s=a', 's&s', 's=a&%73=b', 's+x=1&s%20x=2']) {
      const e = throws(() => parseForm(bytes(form)), HttpError) as HttpError;
      equal(e.code, 'duplicate-field', form);
      equal(e.status, 400, form);
      equal(e.field, form.startsWith('s+x') ? 's x' : 's', form);
      ok(e.message.includes(`the form field "${e.field}" is given more than once`), e.message);
    }
    const long = 'n'.repeat(300);
    const e = throws(() => parseForm(bytes(`${long}=1&${long}=2`)), HttpError) as HttpError;
    ok(e.message.length < 100, `a long name is shortened in the message (${e.message.length} characters)`);
    equal(e.field, long);
    throws(() => parseQuery('s=a&scan&s=b'), HttpError, 'the form field "s" is given more than once');
  });

  test('a 4-byte UTF-8 character', () => {
    equal(parseForm(bytes('s=%F0%9F%93%B6')).get('s'), '\u{1F4F6}');
  });

  test('bad escapes and invalid UTF-8 are errors', () => {
    for (const bad of ['s=%', 's=%4', 's=%G0', 's=%%41', 's=%FF', 's=%C3', 's=%ED%A0%80', 's=%C0%80', '%zz=1']) {
      const e = throws(() => parseForm(bytes(bad)), HttpError) as HttpError;
      equal(e.code, 'bad-percent-encoding', bad);
      equal(e.status, 400);
    }
  });

  test('too many fields', () => {
    throws(() => parseForm(bytes('a=1&b=2&c=3'), 2), HttpError, 'more than 2 fields');
  });

  test('query strings', () => {
    equal(parseQuery('s=Caf%C3%A9+Wifi&scan').get('s'), 'Café Wifi');
    equal(parseQuery('').size, 0);
  });

  test('percentEncode keeps unreserved characters and escapes UTF-8 bytes', () => {
    equal(percentEncode('a-Z_0.~'), 'a-Z_0.~');
    equal(percentEncode('My Net&"<é>'), 'My%20Net%26%22%3C%C3%A9%3E');
  });

  test('a response is status line, headers, length, close, body', () => {
    const r = serializeResponse({ status: 302, headers: [['Location', 'http://192.168.4.1/']], body: 'hé' }, false);
    equal(text(r), 'HTTP/1.1 302 Found\r\nLocation: http://192.168.4.1/\r\nContent-Length: 3\r\nConnection: close\r\n\r\nh\xc3\xa9');
  });

  test('HEAD responses keep the length but drop the body; CR/LF cannot start a header', () => {
    const r = serializeResponse({ status: 200, headers: [['X', 'a\r\nSet-Cookie: b']], body: 'abc' }, true);
    equal(text(r), 'HTTP/1.1 200 OK\r\nX: aSet-Cookie: b\r\nContent-Length: 3\r\nConnection: close\r\n\r\n');
  });
});

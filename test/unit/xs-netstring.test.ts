import { describe, expect, it } from 'vitest';
import { NetstringReader, netstring } from '../../hosts/xs/netstring';
import { XsProtocolError } from '../../hosts/xs/errors';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

describe('netstrings', () => {
  it('frames a payload as <length>:<bytes>,', () => {
    expect(text(netstring(bytes('hello')))).toBe('5:hello,');
    expect(text(netstring(new Uint8Array(0)))).toBe('0:,');
  });

  it('decodes messages split across chunks and several in one chunk', () => {
    const reader = new NetstringReader();
    expect(reader.push(bytes('3:a'))).toEqual([]);
    expect(reader.push(bytes('bc'))).toEqual([]);
    expect(reader.push(bytes(',0:,1')).map(text)).toEqual(['abc', '']);
    expect(reader.push(bytes(':x,2:yz,')).map(text)).toEqual(['x', 'yz']);
  });

  it('keeps binary payloads, commas and colons included', () => {
    const payload = new Uint8Array([0x2c, 0x3a, 0, 255]);
    expect(new NetstringReader().push(netstring(payload))).toEqual([payload]);
  });

  it('rejects malformed framing with a typed error', () => {
    expect(() => new NetstringReader().push(bytes('x:'))).toThrow(XsProtocolError);
    expect(() => new NetstringReader().push(bytes(':abc'))).toThrow(/empty netstring length/);
    expect(() => new NetstringReader().push(bytes('2:ab;'))).toThrow(/closing comma/);
    expect(() => new NetstringReader().push(bytes('1234567890:'))).toThrow(/length prefix/);
  });
});

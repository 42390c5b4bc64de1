// The test kit's scripted network (hosts/sim/fakes/network.ts): the peer played by hand, as the
// Network port says a socket behaves (bytes not yet read arrive together, nothing after close).
import { describe, expect, it } from 'vitest';
import { ScriptedNetwork } from '../../hosts/sim/fakes/network';
import type { TcpSocket } from '../../src/ports';

function client(network: ScriptedNetwork) {
  const events: string[] = [];
  const socket: TcpSocket = network.connect({
    host: 'h',
    port: 1,
    onWritable: (n) => events.push(`writable ${n}`),
    onReadable: (n) => events.push(`readable ${n}`),
    onError: (e) => events.push(`error ${e.message}`),
  });
  return { socket, events };
}

describe('ScriptedNetwork', () => {
  it('keeps a copy of every write until sent() takes them, as hex pairs; text() shows what is left', () => {
    const network = new ScriptedNetwork();
    const { socket } = client(network);
    const bytes = Uint8Array.of(0x47, 0x45, 0x54);
    socket.write(bytes);
    bytes[0] = 0;
    socket.write(Uint8Array.of(0x0a));
    expect(network.last.text()).toBe('GET\n');
    expect(network.last.sent()).toEqual(['47 45 54', '0a']);
    expect(network.last.sent()).toEqual([]);
    expect(network.last.writes).toBe(2);
  });

  it('bytes the code has not read yet arrive together with the next ones', () => {
    const network = new ScriptedNetwork();
    const { socket, events } = client(network);
    network.last.open(100);
    network.last.receive('01 02');
    network.last.receiveText('AB');
    expect(events).toEqual(['writable 100', 'readable 2', 'readable 4']);
    expect(Array.from(socket.read()!)).toEqual([1, 2, 0x41, 0x42]);
    expect(socket.read()).toBeUndefined();
  });

  it('refuses a write after close, and fail() reports an error to the code', () => {
    const network = new ScriptedNetwork();
    const { socket, events } = client(network);
    network.last.fail('refused');
    socket.close();
    expect(network.last.closed).toBe(true);
    expect(() => socket.write(Uint8Array.of(1))).toThrow(/write after close/);
    expect(events).toEqual(['error refused']);
  });

  it("keep 'last' holds only the last write, not copied, and a count", () => {
    const network = new ScriptedNetwork({ keep: 'last' });
    const { socket } = client(network);
    const a = Uint8Array.of(1);
    const b = Uint8Array.of(2);
    socket.write(a);
    socket.write(b);
    expect(network.last.lastWrite).toBe(b);
    expect(network.last.writes).toBe(2);
    expect(network.last.sent()).toEqual([]);
  });

  it('hands incoming connections to the newest listener, with the peer address; none after close', () => {
    const network = new ScriptedNetwork();
    const accepted: string[] = [];
    const listener = network.listen({
      port: 80,
      onConnection: (c) => {
        accepted.push(c.remoteAddress);
        c.accept({ onReadable() {}, onError() {} }).write(Uint8Array.of(0x68));
      },
    });
    const socket = network.incoming('10.0.0.9');
    expect(accepted).toEqual(['10.0.0.9']);
    expect(socket?.remoteAddress).toBe('10.0.0.9');
    expect(socket?.sent()).toEqual(['68']);
    listener.close();
    expect(() => network.incoming()).toThrow(/nothing listens/);
  });

  it('says so when the code under test made no connection', () => {
    expect(() => new ScriptedNetwork().last).toThrow(/no connection yet/);
  });
});

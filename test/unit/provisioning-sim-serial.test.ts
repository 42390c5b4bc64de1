// The simulator's serial ports: in-process pipe and OS FIFOs carry bytes unchanged and in order.
import { execFileSync } from 'node:child_process';
import fs, { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSerialPipe, openSerialPath, SimSerialError } from '../../hosts/sim/serial';

const allBytes = new Uint8Array(Array.from({ length: 512 }, (_, i) => (i * 7) & 0xff));

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('simulated serial ports', () => {
  it('the pipe carries every byte value both ways, in order, in chunks', async () => {
    const { device, host } = createSerialPipe({ chunkSize: 13 });
    const atDevice: number[] = [];
    let wakeups = 0;
    const port = device({
      onReadable() {
        wakeups++;
        atDevice.push(...(port.read() ?? []));
      },
    });
    const atHost: number[] = [];
    host.onData((b) => atHost.push(...b));
    host.write(allBytes);
    port.write(allBytes);
    await until(() => atDevice.length === 512 && atHost.length === 512, 'both directions');
    expect(atDevice).toEqual([...allBytes]);
    expect(atHost).toEqual([...allBytes]);
    expect(wakeups).toBeGreaterThan(1);
  });

  it('the pipe opens once at a time and refuses writes after close', () => {
    const { device } = createSerialPipe();
    const port = device({ onReadable() {} });
    expect(() => device({ onReadable() {} })).toThrow(SimSerialError);
    port.close();
    expect(() => port.write(new Uint8Array([1]))).toThrow(/after close/);
    expect(() => device({ onReadable() {} })).not.toThrow();
  });

  it('FIFOs carry binary bytes unchanged (no newline translation)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serial-fifo-'));
    try {
      const a = join(dir, 'a');
      const b = join(dir, 'b');
      execFileSync('mkfifo', [a, b]);
      const got: number[] = [];
      const port = openSerialPath({ read: a, write: b })({
        onReadable() {
          got.push(...(port.read() ?? []));
        },
      });
      const writer = new net.Socket({ fd: fs.openSync(a, fs.constants.O_RDWR | fs.constants.O_NONBLOCK), readable: false, writable: true });
      const reader = new net.Socket({ fd: fs.openSync(b, fs.constants.O_RDWR | fs.constants.O_NONBLOCK), readable: true, writable: false });
      const back: number[] = [];
      reader.on('data', (d: Buffer) => back.push(...d));
      writer.write(allBytes);
      port.write(allBytes);
      await until(() => got.length === 512 && back.length === 512, 'FIFO traffic');
      expect(got).toEqual([...allBytes]);
      expect(back).toEqual([...allBytes]);
      port.close();
      writer.destroy();
      reader.destroy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing path is a typed error naming it', () => {
    expect(() => openSerialPath('/nonexistent/tty')({ onReadable() {} })).toThrow(/cannot open serial path \/nonexistent\/tty/);
  });
});

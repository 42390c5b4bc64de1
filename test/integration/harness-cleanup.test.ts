// No broker outlives the process that started it, and parallel brokers do not collide.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNodeNetwork } from '../../hosts/sim/net';
import { ensureMosquitto, MosquittoMissingError, startMosquitto } from '../../scripts/broker/mosquitto';
import { connectBytes } from '../helpers/mqtt-bytes';
import { openProbe } from '../helpers/tcp-probe';

const child = join(__dirname, '../helpers/broker-child.ts');

/** Running, as opposed to gone or a zombie waiting to be reaped. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function startChild(mode: 'idle' | 'exit') {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    proc.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
    proc.once('exit', (code) => reject(new Error(`broker child exited with ${code} before starting a broker`)));
  });
  const [pid, dir] = line.split(' ');
  return { proc, pid: Number(pid), dir };
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; ) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

describe('broker lifetime', () => {
  it('dies with a test process that is SIGKILLed', async () => {
    const { proc, pid } = await startChild('idle');
    expect(running(pid)).toBe(true);
    proc.kill('SIGKILL');
    expect(await waitUntil(() => !running(pid), 5000)).toBe(true);
  });

  it('is killed and its temp dir removed when the test process exits without stopping it', async () => {
    const { proc, pid, dir } = await startChild('exit');
    await new Promise((resolve) => proc.once('exit', resolve));
    expect(await waitUntil(() => !running(pid), 5000)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('parallel brokers', () => {
  it('start side by side on distinct ports and each answers CONNECT', async () => {
    const brokers = await Promise.all([startMosquitto(), startMosquitto(), startMosquitto()]);
    try {
      expect(new Set(brokers.map((b) => b.port)).size).toBe(3);
      expect(new Set(brokers.map((b) => b.dir)).size).toBe(3);
      for (const broker of brokers) {
        const probe = openProbe(createNodeNetwork(), { host: broker.host, port: broker.port });
        await probe.connected;
        probe.socket.write(connectBytes('parallel'));
        expect([...(await probe.waitForBytes(4))]).toEqual([0x20, 0x02, 0x00, 0x00]);
        probe.socket.close();
      }
    } finally {
      await Promise.all(brokers.map((b) => b.stop()));
    }
  });
});

describe('ensureMosquitto', () => {
  it('honours $MOSQUITTO and names a wrong path in its error', () => {
    const saved = process.env.MOSQUITTO;
    try {
      process.env.MOSQUITTO = '/nonexistent/mosquitto';
      expect(() => ensureMosquitto()).toThrow(MosquittoMissingError);
      expect(() => ensureMosquitto()).toThrow(/\/nonexistent\/mosquitto.*unset MOSQUITTO/);
    } finally {
      if (saved === undefined) delete process.env.MOSQUITTO;
      else process.env.MOSQUITTO = saved;
    }
  });
});

// SimLogger and createSimPlatform.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hosts/sim/fakes/clock';
import { LogLevelError, parseLogLevel, SimLogger } from '../../hosts/sim/logger';
import { createSimPlatform } from '../../hosts/sim/platform';
import { SimRestartError } from '../../hosts/sim/system';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-platform-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('SimLogger', () => {
  const at = Date.UTC(2024, 0, 2, 3, 4, 5, 6);

  it('writes text lines with time, device and level, and drops levels below the minimum', () => {
    const lines: string[] = [];
    const log = new SimLogger({ deviceId: 'dev1', level: 'info', write: (l) => lines.push(l), time: () => at });
    log.log('debug', 'hidden');
    log.log('info', 'hello');
    log.log('error', 'boom');
    expect(lines).toEqual(['2024-01-02T03:04:05.006Z [dev1] INFO  hello', '2024-01-02T03:04:05.006Z [dev1] ERROR boom']);
    log.setLevel('error');
    log.log('warn', 'quiet');
    expect(lines).toHaveLength(2);
  });

  it('writes JSON lines, and leaves the time out while the wall time is unknown', () => {
    const lines: string[] = [];
    const log = new SimLogger({ deviceId: 'd', json: true, level: 'debug', write: (l) => lines.push(l), time: () => undefined });
    log.log('debug', 'line "one"\nline two');
    expect(JSON.parse(lines[0])).toEqual({ device: 'd', level: 'debug', msg: 'line "one"\nline two' });
    expect(lines[0]).not.toContain('\n');
  });

  it('parses level names and rejects unknown ones with the valid list', () => {
    expect(parseLogLevel(' WARN ')).toBe('warn');
    expect(() => parseLogLevel('verbose')).toThrow(LogLevelError);
    expect(() => parseLogLevel('verbose')).toThrow(/debug, info, warn, error/);
  });
});

describe('createSimPlatform', () => {
  it('creates a device id once and keeps it across platforms on the same state dir', () => {
    const dir = tempDir();
    const first = createSimPlatform({ stateDir: dir, log: { write: () => {} } });
    expect(first.deviceId).toMatch(/^[0-9a-f]{12}$/);
    // Locally administered, unicast: bit 1 of the first byte set, bit 0 clear.
    expect(parseInt(first.deviceId.slice(0, 2), 16) & 0x03).toBe(0x02);
    expect(readFileSync(join(dir, 'device-id'), 'utf8').trim()).toBe(first.deviceId);
    const second = createSimPlatform({ stateDir: dir, log: { write: () => {} } });
    expect(second.system.deviceId()).toBe(first.deviceId);
    expect(createSimPlatform({ stateDir: tempDir(), log: { write: () => {} } }).deviceId).not.toBe(first.deviceId);
  });

  it('uses a given device id, clock, seed and network, and persists storage in the state dir', () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const network = { connect: () => { throw new Error('offline'); } };
    const p = createSimPlatform({ stateDir: dir, deviceId: 'given', clock, seed: 99, network, log: { write: () => {} } });
    expect(p.system.deviceId()).toBe('given');
    expect(p.clock).toBe(clock);
    expect(p.network).toBe(network);
    expect(p.system.seed).toBe(99);
    p.storage.set('wifi', 'home');
    expect(createSimPlatform({ stateDir: dir, log: { write: () => {} } }).storage.get('wifi')).toBe('home');
  });

  it('prefixes log lines with the device id and stamps them with the clock wall time', () => {
    const lines: string[] = [];
    const clock = new ManualClock({ wallTime: Date.UTC(2024, 0, 1) });
    const p = createSimPlatform({ stateDir: tempDir(), deviceId: 'd7', clock, log: { write: (l) => lines.push(l) } });
    clock.advance(1000);
    p.log.log('info', 'up');
    expect(lines).toEqual(['2024-01-01T00:00:01.000Z [d7] INFO  up']);
  });

  it("boots with reset reason 'software' after a restart(), then 'power-on' again", () => {
    const dir = tempDir();
    const reasons: string[] = [];
    const quiet = { write: () => {} };
    const p = createSimPlatform({ stateDir: dir, log: quiet, onRestart: (r) => reasons.push(r) });
    expect(p.system.resetReason()).toBe('power-on');
    p.system.restart('config changed');
    expect(reasons).toEqual(['config changed']);
    expect(createSimPlatform({ stateDir: dir, log: quiet }).system.resetReason()).toBe('software');
    expect(createSimPlatform({ stateDir: dir, log: quiet }).system.resetReason()).toBe('power-on');
  });

  it('throws SimRestartError on restart() when no handler is given', () => {
    const p = createSimPlatform({ stateDir: tempDir(), log: { write: () => {} } });
    expect(() => p.system.restart('x')).toThrow(SimRestartError);
  });
});

// The Moddable System port's device id: config.deviceId when it is a usable id, else the hardware
// id (the station MAC), with a log line. The SDK's net module and the native helpers are replaced.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../../hosts/sim/fakes/store';
import type { KeyValueStore, Logger, System } from '../../src/ports';

const sdk = vi.hoisted(() => ({ mac: '24:0A:C4:12:34:56' as string | undefined }));
vi.mock('net', () => ({ default: { get: (key: string) => (key === 'MAC' ? sdk.mac : undefined) } }));
vi.mock('../../hosts/moddable/native/sysinfo', () => ({ freeHeap: () => 30_000, resetReason: () => 'power-on' }));

// a path in a variable: tsconfig.node.json must not type-check the host against Node's own net module
const SYSTEM_MODULE = '../../hosts/moddable/system';
type CreateSystem = (deps: { configuredId: string | undefined; storage: KeyValueStore; log: Logger; restart(reason: string): void }) => System;
const { createSystem } = (await import(/* @vite-ignore */ SYSTEM_MODULE)) as { createSystem: CreateSystem };

function system(configuredId: string | undefined) {
  const logs: string[] = [];
  const s = createSystem({ configuredId, storage: new MemoryStore(), log: { log: (level, m) => logs.push(`${level} ${m}`) }, restart: () => undefined });
  return { id: s.deviceId(), logs };
}

describe('Moddable device id', () => {
  beforeEach(() => {
    sdk.mac = '24:0A:C4:12:34:56';
  });

  it('a usable config.deviceId wins over the MAC, without a warning', () => {
    expect(system('greenhouse-7')).toEqual({ id: 'greenhouse-7', logs: [] });
  });

  it('without one, the MAC in hex', () => {
    expect(system(undefined)).toEqual({ id: '240ac4123456', logs: [] });
  });

  it.each(['\ufffd\ufffd', 'lab/one', 'a+b', 'x#', 'new\nline', 'x'.repeat(33)])('an unusable config.deviceId %j gives way to the MAC, with a log line', (bad) => {
    const { id, logs } = system(bad);
    expect(id).toBe('240ac4123456');
    expect(logs).toEqual([`warn config.deviceId ${JSON.stringify(bad)} is unusable (${bad.length > 32 ? 'it is longer than 32 characters' : 'only letters A-Z and a-z, digits, "_" and "-" are allowed'}); using the hardware id`]);
  });
});

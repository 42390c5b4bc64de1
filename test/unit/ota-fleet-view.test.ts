// What the fleet tool prints stays readable with 10,000 devices: device lists are cut after ten with
// a count (the report's JSON keeps every one), and the report ends with what the tool cost.
import { describe, expect, it } from 'vitest';
import type { Campaign, DeviceRun } from '../../scripts/fleet/campaign';
import { buildReport, formatReport, listSome, skippedLine } from '../../scripts/fleet/view';

function campaign(devices: number, failed: number): Campaign {
  const runs: Record<string, DeviceRun> = {};
  const ids: string[] = [];
  for (let i = 0; i < devices; i++) {
    const id = `d${String(i).padStart(5, '0')}`;
    ids.push(id);
    runs[id] = i < failed ? { stage: 0, state: 'failed', error: 'rolled-back', reason: 'crashed' } : { stage: 0, state: 'succeeded' };
  }
  return {
    format: 1, id: 'big', createdAt: 0, finishedAt: 90_000, broker: 'mqtt://127.0.0.1:1', prefix: 'p', version: '1.0.0', size: 1, sha256: 'ab',
    urlPath: '/x', http: { host: '127.0.0.1', port: 1, url: 'http://127.0.0.1:1/x' }, job: {} as Campaign['job'], target: 'all',
    stagePercents: [100], failureThreshold: 0.1, minSample: 3, deviceTimeout: 1000, stages: [{ percent: 100, devices: ids, startedAt: 0, endedAt: 90_000 }],
    current: 1, devices: runs, skipped: ids.slice(0, 25).map((id) => ({ id, why: 'offline' })), status: 'succeeded', runs: [],
  };
}

describe('fleet tool output at scale', () => {
  it('names at most ten devices in a line, then says how many more', () => {
    expect(listSome(['a', 'b'])).toBe('a b');
    const many = Array.from({ length: 12 }, (_, i) => `x${i}`);
    expect(listSome(many)).toBe('x0 x1 x2 x3 x4 x5 x6 x7 x8 x9 ... and 2 more');
    expect(skippedLine(many.map((id) => ({ id, why: 'offline' })))).toMatch(/^skipped: x0 \(offline\), .*x9 \(offline\), \.\.\. and 2 more$/);
  });

  it('a report of 10,000 devices with 300 failures prints ten of them, and every one stays in the JSON', () => {
    const c = campaign(10_000, 300);
    const report = buildReport(c, { tool: { peakRssMb: 150, cpuSeconds: 12.3 }, imageServer: { requests: 10_200, ranges: 12, busy: 0, peakConcurrent: 64, peakQueued: 10, megabytes: 2621.4, activeSeconds: 40.2, megabytesPerSecond: 65.2 } });
    expect(report.failures).toHaveLength(300);
    const text = formatReport(report);
    const lines = text.trimEnd().split('\n');
    expect(lines.length).toBeLessThan(25);
    expect(text).toContain('  ... and 290 more (report.json lists every one)');
    expect(text).toContain('skipped: d00000 (offline)');
    expect(text).toContain('... and 15 more');
    expect(text).toContain('fleet tool: peak RSS 150 MB, CPU 12.3 s');
    expect(text).toContain('image server: 10200 requests (12 resumed with Range, 0 told to come back), 2621.4 MB in 40.2 s busy: 65.2 MB/s; at most 64 at once, 10 waiting');
  });
});

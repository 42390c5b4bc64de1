// The fleet tool's planning: target filters, the deterministic rollout order, stage sizes, and the
// option parsers; stage sizes and orders worked out by hand.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FleetError } from '../../scripts/fleet/errors';
import { matchesTarget, parseDuration, parseFraction, parseSize, parseStages, parseTarget, planStages, rolloutOrder } from '../../scripts/fleet/plan';

const ids = Array.from({ length: 20 }, (_, i) => `dev${String(i).padStart(2, '0')}`);

describe('fleet plan', () => {
  it('orders devices by SHA-256 of "<version>\\n<id>": stable for a version, different for the next', () => {
    const order = rolloutOrder(ids, '1.1.0');
    const byHand = ids
      .map((id) => [createHash('sha256').update(`1.1.0\n${id}`).digest('hex'), id])
      .sort()
      .map(([, id]) => id);
    expect(order).toEqual(byHand);
    expect(rolloutOrder([...ids].reverse(), '1.1.0')).toEqual(order);
    expect(rolloutOrder(ids, '1.2.0')).not.toEqual(order);
  });

  it('cumulative stages: 20 devices at 10,50,100 are 2, 8 and 10; tiny fleets drop empty stages', () => {
    expect(planStages(ids, [10, 50, 100]).map((s) => [s.percent, s.devices.length])).toEqual([
      [10, 2],
      [50, 8],
      [100, 10],
    ]);
    expect(planStages(ids, [1, 10, 50, 100]).map((s) => s.devices.length)).toEqual([1, 1, 8, 10]);
    // 3 devices: 1% -> 1 (at least one), 10% -> 1 (nothing new: dropped), 50% -> 2, 100% -> 3
    expect(planStages(['a', 'b', 'c'], [1, 10, 50, 100]).map((s) => [s.percent, s.devices])).toEqual([
      [1, ['a']],
      [50, ['b']],
      [100, ['c']],
    ]);
    // a partial rollout stops at its last stage
    expect(planStages(ids, [5, 25]).flatMap((s) => s.devices)).toEqual(ids.slice(0, 5));
  });

  it('targets: all, group, id globs, version', () => {
    const d = { id: 'kitchen-3', version: '1.0.0', groups: ['beta'] };
    expect(matchesTarget(d, parseTarget('all'))).toBe(true);
    expect(matchesTarget(d, parseTarget('group:beta'))).toBe(true);
    expect(matchesTarget(d, parseTarget('group:prod'))).toBe(false);
    expect(matchesTarget(d, parseTarget('id:kitchen-*'))).toBe(true);
    expect(matchesTarget(d, parseTarget('id:hall-?,kitchen-?'))).toBe(true);
    expect(matchesTarget(d, parseTarget('id:kitchen'))).toBe(false);
    expect(matchesTarget(d, parseTarget('id:kitchen.3'))).toBe(false); // "." is literal
    expect(matchesTarget(d, parseTarget('version:1.0.0'))).toBe(true);
    expect(() => parseTarget('room:1')).toThrow(FleetError);
  });

  it('option parsers accept what an operator types and refuse the rest with the flag name', () => {
    expect(parseStages('1, 10,50%,100')).toEqual([1, 10, 50, 100]);
    expect(() => parseStages('10,5')).toThrow(/must increase/);
    expect(() => parseStages('0,100')).toThrow(/\(0, 100\]/);
    expect(parseFraction('20%', '--x')).toBe(0.2);
    expect(parseFraction('0.25', '--x')).toBe(0.25);
    expect(parseFraction('30', '--x')).toBe(0.3);
    expect(() => parseFraction('150%', '--failure-threshold')).toThrow(/--failure-threshold/);
    expect(parseDuration('300', '--x')).toBe(300_000);
    expect(parseDuration('5m', '--x')).toBe(300_000);
    expect(parseDuration('1500ms', '--x')).toBe(1500);
    expect(parseDuration('1.5s', '--x')).toBe(1500);
    expect(() => parseDuration('soon', '--device-timeout')).toThrow(/--device-timeout/);
    expect(parseSize('256k', '--size')).toBe(262_144);
    expect(parseSize('1M', '--size')).toBe(1_048_576);
  });

  it('option parsers refuse what only looks like a number, and bound durations', () => {
    for (const bad of ['0x10,100', '1,,100', '1e1,100', ' ,100', '10,100,']) expect(() => parseStages(bad), bad).toThrow(/--stages/);
    expect(() => parseStages(Array.from({ length: 21 }, (_, i) => String(i + 1)).join(','))).toThrow(/up to 20 percentages/);
    for (const bad of ['', ' ', '0x1', '1e-1', '-5%', '20 %', 'ten']) expect(() => parseFraction(bad, '--failure-threshold'), bad).toThrow(/--failure-threshold/);
    expect(parseDuration('2d', '--x')).toBe(172_800_000);
    expect(parseDuration('1m', '--wait', { max: 60_000 })).toBe(60_000);
    expect(() => parseDuration('61s', '--wait', { max: 60_000 })).toThrow('--wait "61s" must be from 0 to 1m');
    expect(() => parseDuration('0', '--device-timeout', { min: 1000 })).toThrow('--device-timeout "0" must be at least 1s');
    expect(() => parseDuration('1e9', '--x')).toThrow(FleetError);
    expect(() => parseSize('0x10', '--size')).toThrow(/--size/);
  });

  it('targets name a group, device ids or a version that devices can have', () => {
    expect(parseTarget('version:1.2.0')).toEqual({ kind: 'version', version: '1.2.0' });
    expect(() => parseTarget('version:banana')).toThrow(/--target version: "banana" is not a semantic version/);
    expect(() => parseTarget('group:a/b')).toThrow(/not a group name/);
    expect(() => parseTarget('id:kitchen-*,hall 1')).toThrow(/--target id:"hall 1"/);
    expect(() => parseTarget('id:a,,b')).toThrow(/--target id:""/);
    expect(() => parseTarget('group:')).toThrow(/is not one of: all, group/);
  });
});

// A fleet split into shards: every device of the fleet runs in exactly one shard, with the number,
// state dir and seed it has in the whole fleet; commands name devices by their number in the fleet.
// And the descriptor check that stops a fleet too large for the process's open-file limit.
import { describe, expect, it } from 'vitest';
import { Fleet, FleetError, shardSize } from '../../scripts/sim/population';
import { checkDescriptorLimit, openFileLimit, SimLimitError } from '../../scripts/sim/limits';

const broker = { host: '127.0.0.1', port: 1 };
// devices are never started here: a fleet's runners exist before they boot
const shard = (devices: number, index: number, count: number) => new Fleet({ devices, broker, seed: 5, shard: { index, count }, stateDir: '/state' });

describe('shards of a fleet', () => {
  it('every device is in exactly one shard, by remainder, with its number and state dir in the whole fleet', () => {
    for (const [devices, count] of [[10, 2], [10, 3], [7, 4], [2, 3], [0, 2], [1000, 7]]) {
      const seen: number[] = [];
      for (let i = 0; i < count; i++) {
        const fleet = shard(devices, i, count);
        expect(fleet.devices).toHaveLength(shardSize(devices, { index: i, count }));
        for (const d of fleet.devices) {
          expect(d.index % count).toBe(i);
          expect(d.options.stateDir).toBe(`/state/device-${String(d.index + 1).padStart(3, '0')}`);
          expect(d.options.seed).toBe(5);
          seen.push(d.index);
        }
      }
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: devices }, (_, k) => k));
    }
  });

  it('a growing fleet keeps every device on its shard', () => {
    const small = shard(10, 1, 3).devices.map((d) => d.index);
    const large = shard(25, 1, 3).devices.map((d) => d.index);
    expect(large.slice(0, small.length)).toEqual(small);
    // grown in place: the same devices as a fleet made that large, the new ones returned to start
    const fleet = shard(10, 1, 3);
    const added = fleet.grow(25).map((d) => d.index);
    expect(fleet.devices.map((d) => d.index)).toEqual(large);
    expect(added).toEqual(large.slice(small.length));
    expect(fleet.size).toBe(25);
    expect(() => fleet.grow(20)).toThrow(/grows to a whole number from 25/);
  });

  it('selects by number in the whole fleet: a range takes this shard\'s devices in it, a number of another shard is refused with its shard', () => {
    const fleet = shard(10, 1, 2); // devices 2, 4, 6, 8, 10
    expect(fleet.select('1-5').map((d) => d.index + 1)).toEqual([2, 4]);
    expect(fleet.select('4').map((d) => d.index + 1)).toEqual([4]);
    expect(fleet.select('all')).toHaveLength(5);
    expect(() => fleet.select('3')).toThrow(/device 3 is run by shard 1\/2, not by this one \(2\/2\)/);
    expect(() => fleet.select('11')).toThrow(/"11" is not a device: use a number from 1 to 10/);
    expect(fleet.byNumber(10)?.index).toBe(9);
    expect(fleet.byNumber(9)).toBeUndefined();
  });

  it('a shard needs the fleet seed and a shard that exists', () => {
    expect(() => new Fleet({ devices: 4, broker, shard: { index: 0, count: 2 } })).toThrow(FleetError);
    expect(() => new Fleet({ devices: 4, broker, seed: 1, shard: { index: 2, count: 2 } })).toThrow(/shard must be i\/n/);
    // one shard of one is the whole fleet
    expect(new Fleet({ devices: 4, broker, shard: { index: 0, count: 1 } }).devices).toHaveLength(4);
  });

  it('more devices than descriptors fails at start with the fix', () => {
    expect(() => checkDescriptorLimit(1000, 20_000)).not.toThrow();
    let error: unknown;
    try {
      checkDescriptorLimit(50_000, 20_000);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SimLimitError);
    expect((error as Error).message).toMatch(/50,000 devices need about 50,256 open files .* may open 20,000: raise the limit .*ulimit -n 56000.* --shard \(19,744 fit in one\)/);
    if (process.platform === 'linux') expect(openFileLimit()).toBeGreaterThan(0);
  });
});

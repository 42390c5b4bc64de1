// Build-config conversion and tick unwrapping of hosts/moddable: the pure parts of the Moddable host.
import { describe, expect, it } from 'vitest';
import { normalizeConfig } from '../../hosts/moddable/config';
import { TickCounter } from '../../hosts/moddable/ticks';

describe('normalizeConfig', () => {
  it('turns mcconfig string overrides back into the numbers and booleans the firmware schema expects', () => {
    // `mcconfig ... brokerPort=8883 brokerTls=true heartbeatInterval=15` arrives as strings
    const { config, problems } = normalizeConfig({ brokerPort: '8883', brokerTls: 'true', heartbeatInterval: '15', persistOutbox: '0', prefix: 'home/lab' });
    expect(config).toEqual({ brokerPort: 8883, brokerTls: true, heartbeatInterval: 15, persistOutbox: false, prefix: 'home/lab' });
    expect(problems).toEqual([]);
  });

  it('keeps manifest defaults that already have their type, and unknown keys as they are', () => {
    const { config } = normalizeConfig({ brokerPort: 1883, discovery: false, sensors: [], simChips: 'bme280@0x76', file: { root: '/tmp/' } });
    expect(config).toEqual({ brokerPort: 1883, discovery: false, sensors: [], simChips: 'bme280@0x76', file: { root: '/tmp/' } });
  });

  it('leaves an unparsable firmware value for the firmware to reject with its own message', () => {
    const { config, problems } = normalizeConfig({ brokerPort: 'eighty', brokerTls: 'maybe' });
    expect(config).toEqual({ brokerPort: 'eighty', brokerTls: 'maybe' });
    expect(problems).toEqual([]);
  });

  it('drops a host value out of range and says which argument to fix', () => {
    const accepted = normalizeConfig({ otaMaxBoots: '5', otaHealthMs: '60000' });
    expect(accepted).toEqual({ config: { otaMaxBoots: 5, otaHealthMs: 60_000 }, problems: [] });
    const { config, problems } = normalizeConfig({ otaHealthMs: 'soon', otaMaxBoots: '0' });
    expect(config).toEqual({});
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('otaHealthMs="soon"');
    expect(problems[0]).toContain('10000..3600000');
    expect(problems[1]).toContain('otaMaxBoots="0"');
    expect(problems[1]).toContain('1..20');
  });

  it('parses the board description given as JSON on the mcconfig command line', () => {
    const { config, problems } = normalizeConfig({ sensors: '[{"type":"sht3x","address":69}]', i2c: '{"data":4,"clock":5}' });
    expect(config).toEqual({ sensors: [{ type: 'sht3x', address: 69 }], i2c: { data: 4, clock: 5 } });
    expect(problems).toEqual([]);
    const bad = normalizeConfig({ sensors: '[{type: bme280}]' });
    expect(bad.config).toEqual({});
    expect(bad.problems[0]).toContain('config sensors is not valid JSON');
  });

  it('does not change the frozen object mcconfig generated', () => {
    const raw = Object.freeze({ brokerPort: '1884' });
    const { config } = normalizeConfig(raw);
    expect(config.brokerPort).toBe(1884);
    expect(raw.brokerPort).toBe('1884');
  });
});

describe('TickCounter', () => {
  it('counts a chip timer from its boot value', () => {
    const t = new TickCounter();
    expect(t.update(1234)).toBe(1234);
    expect(t.update(1300)).toBe(1300);
  });

  it('keeps counting when XS hands the 32-bit millisecond counter over as a negative integer', () => {
    const t = new TickCounter();
    // 2^31 - 10 ms after boot, then 20 ms later the signed view reads -2^31 + 10
    expect(t.update(2_147_483_638)).toBe(2_147_483_638);
    expect(t.update(-2_147_483_638)).toBe(2_147_483_658);
    // and past the unsigned wrap at 2^32: -10 is 2^32 - 10, then +5 ms wraps to 5
    expect(t.update(-10)).toBe(4_294_967_286);
    expect(t.update(5)).toBe(4_294_967_301);
  });

  it('starts at 0 on the desktop build, where Time.ticks is the wall clock, and never steps back', () => {
    const t = new TickCounter();
    expect(t.update(1_795_299_221_320)).toBe(0);
    expect(t.update(1_795_299_221_820)).toBe(500);
    expect(t.update(1_795_299_200_000)).toBe(500); // the host clock was set back
    expect(t.update(1_795_299_200_100)).toBe(600);
  });
});

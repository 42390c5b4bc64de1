import { describe, expect, it } from 'vitest';
import { compare, formatComparison, type Figure } from '../../scripts/budgets/budgets';

const fig = (name: string, value: number, unit: Figure['unit'] = 'computrons'): Figure => ({ name, value, unit });

describe('budget comparison', () => {
  it('passes growth up to the tolerance and fails beyond it', () => {
    const rows = compare([fig('a', 110), fig('b', 111), fig('c', 50)], [fig('a', 100), fig('b', 100), fig('c', 100)]);
    expect(rows.map((r) => [r.name, r.verdict])).toEqual([
      ['a', 'ok'],
      ['b', 'grew'],
      ['c', 'ok'],
    ]);
    expect(rows[1]!.change).toBeCloseTo(0.11, 10);
  });

  it('allows no growth from a zero baseline', () => {
    expect(compare([fig('leak', 1, 'slots')], [fig('leak', 0, 'slots')])[0]).toMatchObject({ verdict: 'grew', change: Infinity });
    expect(compare([fig('leak', 0, 'slots')], [fig('leak', 0, 'slots')])[0]).toMatchObject({ verdict: 'ok', change: 0 });
  });

  it('fails a baseline figure that is no longer measured and lists new ones', () => {
    const rows = compare([fig('new', 5)], [fig('gone', 5)]);
    expect(rows).toEqual([
      { name: 'gone', unit: 'computrons', baseline: 5, verdict: 'missing' },
      { name: 'new', unit: 'computrons', value: 5, verdict: 'new' },
    ]);
  });

  it('fails a figure over its hard limit whatever the baseline, a new one included', () => {
    const limited = (name: string, value: number, limit: number): Figure => ({ name, value, unit: 'slots', limit });
    const rows = compare([limited('deep', 233, 232), limited('fits', 232, 232), limited('fresh', 300, 232)], [fig('deep', 233, 'slots'), fig('fits', 232, 'slots')]);
    expect(rows.map((r) => [r.name, r.verdict])).toEqual([
      ['deep', 'over'],
      ['fits', 'ok'],
      ['fresh', 'over'],
    ]);
    expect(formatComparison(rows.slice(0, 1))).toBe('over    deep                                 233 -> 233 slots (+0.0%) (limit 232)');
  });

  it('honours another tolerance', () => {
    expect(compare([fig('a', 104)], [fig('a', 100)], 0.03)[0]!.verdict).toBe('grew');
  });

  it('shows a target without failing on it, and holds a figure to its own tighter tolerance', () => {
    const flash = (value: number): Figure => ({ name: 'flash', value, unit: 'bytes', target: 100, tolerance: 0.02 });
    const rows = compare([flash(120), { ...flash(123), name: 'flash2' }], [fig('flash', 118, 'bytes'), fig('flash2', 118, 'bytes')]);
    expect(rows.map((r) => [r.name, r.verdict])).toEqual([
      ['flash', 'ok'],
      ['flash2', 'grew'],
    ]);
    expect(formatComparison(rows.slice(0, 1))).toBe('ok      flash                                118 -> 120 bytes (+1.7%) (target 100: 20 over)');
    expect(formatComparison(compare([flash(90)], [fig('flash', 90, 'bytes')]))).toContain('(target 100 reached)');
    // the check's own tolerance still applies when it is the tighter one
    expect(compare([flash(101)], [fig('flash', 100, 'bytes')], 0)[0]!.verdict).toBe('grew');
  });

  it('formats one line per figure with the change', () => {
    expect(formatComparison(compare([fig('a', 120)], [fig('a', 100)]))).toBe(
      'grew    a                                    100 -> 120 computrons (+20.0%)',
    );
  });
});

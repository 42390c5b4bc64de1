// Who gets the update in which stage. Deterministic: devices are ordered by a hash of their id and
// the version being rolled out, so a rerun (or a resumed tool) picks the same devices, while each new
// version's canaries are a different slice of the fleet.
import { createHash } from 'node:crypto';
import { FleetError } from './errors';
import { isDeviceId, parseGroup, parseVersionArg, quote } from './validate';

export interface KnownDevice {
  id: string;
  version?: string;
  online?: boolean;
  groups?: string[];
}

export type Target = { kind: 'all' } | { kind: 'group'; group: string } | { kind: 'id'; patterns: string[] } | { kind: 'version'; version: string };

export function parseTarget(text: string): Target {
  if (text === 'all') return { kind: 'all' };
  const cut = text.indexOf(':');
  const kind = cut < 0 ? '' : text.slice(0, cut);
  const value = text.slice(cut + 1);
  if (kind === 'group' && value) return { kind: 'group', group: parseGroup(value, '--target group:') };
  if (kind === 'id' && value) {
    const patterns = value.split(',');
    // a glob is a device id in which * and ? stand for any characters
    const bad = patterns.find((p) => !isDeviceId(p));
    if (bad !== undefined) throw new FleetError('usage', `--target id:${quote(bad)}: each glob is 1-64 printable characters without spaces, + # or /, separated by commas (e.g. id:kitchen-*,hall-?)`);
    return { kind: 'id', patterns };
  }
  if (kind === 'version' && value) return { kind: 'version', version: parseVersionArg(value, '--target version:') };
  throw new FleetError('usage', `--target ${quote(text)} is not one of: all, group:<name>, id:<glob>[,<glob>...], version:<version>`);
}

export function describeTarget(t: Target): string {
  return t.kind === 'all' ? 'all' : t.kind === 'group' ? `group:${t.group}` : t.kind === 'id' ? `id:${t.patterns.join(',')}` : `version:${t.version}`;
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

export function matchesTarget(d: KnownDevice, t: Target): boolean {
  switch (t.kind) {
    case 'all':
      return true;
    case 'group':
      return (d.groups ?? []).indexOf(t.group) >= 0;
    case 'id':
      return t.patterns.some((p) => glob(p).test(d.id));
    case 'version':
      return d.version === t.version;
  }
}

/** Rollout order: by SHA-256 of "<version>\n<id>", ties (never in practice) by id. */
export function rolloutOrder(ids: string[], version: string): string[] {
  const key = (id: string) => createHash('sha256').update(`${version}\n${id}`).digest('hex');
  const keys = new Map(ids.map((id) => [id, key(id)]));
  return ids.slice().sort((a, b) => (keys.get(a)! < keys.get(b)! ? -1 : keys.get(a)! > keys.get(b)! ? 1 : a < b ? -1 : 1));
}

/** Decimal digits with an optional fraction: what an operator types for a number, and nothing else. */
const DECIMAL = /^\d{1,9}(\.\d{1,9})?$/;
/** More stages than this is a typo, not a plan. */
const MAX_STAGES = 20;

export function parseStages(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim().replace(/%$/, ''));
  const stages = parts.map((s) => (DECIMAL.test(s) ? Number(s) : NaN));
  if (stages.length > MAX_STAGES || stages.some((p) => !Number.isFinite(p) || p <= 0 || p > 100)) {
    throw new FleetError('usage', `--stages ${quote(text)}: give up to ${MAX_STAGES} percentages in (0, 100], e.g. 1,10,50,100`);
  }
  for (let i = 1; i < stages.length; i++) {
    if (stages[i] <= stages[i - 1]) throw new FleetError('usage', `--stages ${quote(text)}: percentages must increase (they are cumulative)`);
  }
  return stages;
}

/**
 * Splits the ordered devices into stages: stage k brings the total to ceil(p_k% of n) (at least one).
 * Stages that would add nobody are dropped; the result lists the new devices of each stage.
 */
export function planStages(ordered: string[], stages: number[]): { percent: number; devices: string[] }[] {
  const out: { percent: number; devices: string[] }[] = [];
  let taken = 0;
  for (const p of stages) {
    const upTo = Math.min(ordered.length, Math.max(1, Math.ceil((p * ordered.length) / 100 - 1e-9)));
    if (upTo > taken) out.push({ percent: p, devices: ordered.slice(taken, upTo) });
    taken = Math.max(taken, upTo);
  }
  return out;
}

/** "20%", "0.2" or "20" (percent) to a fraction: a bare number above 1 is a percentage. */
export function parseFraction(text: string, what: string): number {
  const t = text.trim();
  const percent = t.endsWith('%');
  const digits = percent ? t.slice(0, -1) : t;
  const n = DECIMAL.test(digits) ? Number(digits) : NaN;
  const f = percent || n > 1 ? n / 100 : n;
  if (!Number.isFinite(f) || f < 0 || f > 1) throw new FleetError('usage', `${what} ${quote(text)} must be a percentage like 20% (or a fraction like 0.2)`);
  return f;
}

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * "300", "300s", "5m", "1500ms", "1h", "2d" to milliseconds (bare numbers are seconds), within
 * [min, max] ms when given.
 */
export function parseDuration(text: string, what: string, bounds: { min?: number; max?: number } = {}): number {
  const m = /^(\d{1,9}(?:\.\d{1,9})?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new FleetError('usage', `${what} ${quote(text)} must be a duration like 300s, 5m or 1500ms`);
  const ms = Math.round(Number(m[1]) * UNITS[(m[2] ?? 's') as keyof typeof UNITS]);
  const { min = 0, max = Infinity } = bounds;
  if (ms < min || ms > max) throw new FleetError('usage', `${what} ${quote(text)} must be ${max === Infinity ? `at least ${spell(min)}` : `from ${spell(min)} to ${spell(max)}`}`);
  return ms;
}

function spell(ms: number): string {
  if (ms === 0) return '0';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** "256k", "1M", "262144" to bytes. */
export function parseSize(text: string, what: string): number {
  const m = /^(\d{1,9})([kKmM])?$/.exec(text.trim());
  if (!m) throw new FleetError('usage', `${what} ${quote(text)} must be bytes, optionally with k or M`);
  return Number(m[1]) * (m[2] ? (m[2].toLowerCase() === 'k' ? 1024 : 1024 * 1024) : 1);
}

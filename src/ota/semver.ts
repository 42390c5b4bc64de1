// Version order for the downgrade check: semantic versions (MAJOR.MINOR.PATCH, optional -prerelease,
// +build ignored), with the precedence rules of semver.org section 11.

export interface Version {
  numbers: [number, number, number];
  prerelease: string[];
}

const PATTERN = /^v?(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** The parsed version, or undefined when `text` is not a semantic version. */
export function parseVersion(text: string): Version | undefined {
  const m = PATTERN.exec(text);
  if (!m) return undefined;
  const prerelease = m[4] === undefined ? [] : m[4].split('.');
  if (prerelease.some((p) => p === '' || (/^\d+$/.test(p) && p.length > 1 && p[0] === '0'))) return undefined;
  return { numbers: [Number(m[1]), Number(m[2]), Number(m[3])], prerelease };
}

/** Negative when a < b, 0 when equal in precedence, positive when a > b. */
export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a.numbers[i] !== b.numbers[i]) return a.numbers[i] - b.numbers[i];
  const pa = a.prerelease;
  const pb = b.prerelease;
  if (!pa.length || !pb.length) return pb.length - pa.length; // a release ranks above its prereleases
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1; // numeric identifiers rank below alphanumeric ones
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

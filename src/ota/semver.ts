// Version order for the downgrade check: semantic versions (MAJOR.MINOR.PATCH, optional -prerelease,
// +build ignored), with the precedence rules of semver.org section 11.

export interface Version {
  numbers: [number, number, number];
  prerelease: string[];
}

import { isAlnumCode, isDigitCode, isDigits, runEnd } from '../text/chars';

/** A version number: 0, or up to 9 digits without a leading zero. */
const MAX_NUMBER_DIGITS = 9;

const isIdentifierCode = (c: number): boolean => {
  return isAlnumCode(c) || c === 0x2e || c === 0x2d; // . -
};

/** The parsed version, or undefined when `text` is not a semantic version. */
export const parseVersion = (text: string): Version | undefined => {
  // [v]MAJOR.MINOR.PATCH[-prerelease][+build]
  let at = text[0] === 'v' ? 1 : 0;
  const numbers: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const end = runEnd(text, at, isDigitCode);
    const n = end - at;
    if (n < 1 || n > MAX_NUMBER_DIGITS || (n > 1 && text[at] === '0')) return undefined;
    numbers[i] = Number(text.slice(at, end));
    at = end;
    if (i < 2) {
      if (text[at] !== '.') return undefined;
      at++;
    }
  }
  let pre: string | undefined;
  if (text[at] === '-') {
    const end = runEnd(text, at + 1, isIdentifierCode);
    if (end === at + 1) return undefined;
    pre = text.slice(at + 1, end);
    at = end;
  }
  if (text[at] === '+') {
    const end = runEnd(text, at + 1, isIdentifierCode);
    if (end === at + 1) return undefined;
    at = end;
  }
  if (at !== text.length) return undefined;
  const prerelease = pre === undefined ? [] : pre.split('.');
  if (prerelease.some((p) => p === '' || (isDigits(p) && p.length > 1 && p[0] === '0'))) return undefined;
  return { numbers, prerelease };
};

/** Negative when a < b, 0 when equal in precedence, positive when a > b. */
export const compareVersions = (a: Version, b: Version): number => {
  for (let i = 0; i < 3; i++) if (a.numbers[i] !== b.numbers[i]) return a.numbers[i] - b.numbers[i];
  const pa = a.prerelease;
  const pb = b.prerelease;
  if (!pa.length || !pb.length) return pb.length - pa.length; // a release ranks above its prereleases
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const nx = isDigits(x);
    const ny = isDigits(y);
    if (nx && ny) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1; // numeric identifiers rank below alphanumeric ones
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
};

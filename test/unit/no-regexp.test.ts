// The firmware's text checks are written without regular expressions, so the ESP8266 image can leave
// XS's engine out (docs/flash.md). Each one is compared here with the regular expression it replaced,
// on many generated strings built from the characters that matter to it, and on edge cases.
import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../src/provisioning/portal-page';
import { accessPointName } from '../../src/provisioning/types';
import { validateBrokerUrl } from '../../src/provisioning/validate';
import { ipv4Bytes } from '../../src/dns/message';
import { parseImageUrl, resolveLocation, type ImageUrl } from '../../src/http/url';
import { sharedFilterProblem, topicFilterProblem, topicNameProblem } from '../../src/mqtt/topic';
import { topicUnsafe } from '../../src/mqtt/topic';
import { parseVersion } from '../../src/ota/semver';
import { deviceIdProblem } from '../../src/device/device-id';
import { brokerSettings } from '../../src/device/wifi-setup';
import { replyTopicsProblem } from '../../src/device/reply-space';
import { isTopicLevel } from '../../src/device/topics';
import { asciiLower, asciiUpper, hasControl, isDigits, isSpaceCode, startsWithIgnoringCase } from '../../src/text/chars';

const COUNT = 4000;

/** Deterministic strings of up to `max` characters drawn from `alphabet` (pieces may be longer than one). */
function strings(alphabet: string[], max: number, seed = 1): string[] {
  let s = seed;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 8;
  };
  const out: string[] = [];
  for (let n = 0; n < COUNT; n++) {
    let text = '';
    const length = next() % (max + 1);
    for (let i = 0; i < length; i++) text += alphabet[next() % alphabet.length];
    out.push(text);
  }
  return out;
}

function outcome<T>(f: () => T): T | string {
  try {
    return f();
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}

const URL_PIECES = ['mqtt://', 'mqtts://', 'MQTT://', 'Mqtts://', 'http://', 'https://', 'HTTP://', 'a', 'Z', '0', '9', 'f', '-', '.', ':', '/', '?', '#', '@', '[', ']', ' ', '\u00a0', '\u2028', 'é', '1883', '65535', '99999', '123456', '::1', 'host'];

describe('checks without regular expressions match the expressions they replaced', () => {
  it('escapeHtml', () => {
    for (const t of strings(['&', '<', '>', '"', "'", 'a', ' ', 'é', '\ud83d'], 12)) {
      expect(escapeHtml(t)).toBe(t.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;')));
    }
  });

  it('accessPointName', () => {
    for (const t of strings(['a', 'F', '0', ':', '-', 'é', '_', ' '], 20)) {
      expect(accessPointName('p', t)).toBe(`p-${t.replace(/[^0-9A-Za-z]/g, '').slice(-6).toUpperCase()}`);
    }
  });

  it('validateBrokerUrl', () => {
    const hostPattern = /^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[[0-9A-Fa-f:.]+\]$/;
    const old = (url: string) => {
      if (new TextEncoder().encode(url).length > 63) return 'url'; // the stored value's limit, checked first
      const m = /^(mqtts?):\/\/([^/:?#@\s]+|\[[^\]]*\])(?::([0-9]{1,5}))?\/?$/i.exec(url);
      if (!m) return 'url';
      if (!hostPattern.test(m[2])) return `host ${m[2]}`;
      if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535)) return 'port';
      return 'ok';
    };
    const now = (url: string) => {
      const r = outcome(() => validateBrokerUrl(url));
      if (r === url) return 'ok';
      const host = /"(.*)" is not a valid host name/.exec(r);
      return host ? `host ${host[1]}` : r.includes('port must be') ? 'port' : 'url';
    };
    const long = `mqtt://${'a'.repeat(40)}-.b:1`;
    for (const t of [...strings(URL_PIECES, 8), ...strings(['mqtt://', 'a', '-', '.', '[', ']', ':', '1', '/'], 10, 7), long, 'mqtt://[::1]:1883', 'mqtt://[x]', 'mqtt://[::1', 'mqtt://a-.b', 'mqtt://a:0']) {
      expect(now(t), t).toBe(old(t));
    }
  });

  it('ipv4Bytes', () => {
    for (const t of strings(['1', '25', '256', '0', '.', 'a', '1000', ' '], 9)) {
      const parts = t.split('.');
      const valid = parts.length === 4 && parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
      expect(outcome(() => ipv4Bytes(t)) instanceof Uint8Array, t).toBe(valid);
    }
  });

  it('parseImageUrl and resolveLocation', () => {
    const PATTERN = /^(https?):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(\/[^\s#]*)?(?:#.*)?$/;
    const old = (text: string): ImageUrl | string => {
      const m = /^[\x21-\x7e]*$/.test(text) ? PATTERN.exec(text) : null;
      if (!m) return 'bad';
      const secure = m[1] === 'https';
      const port = m[3] === undefined ? (secure ? 443 : 80) : Number(m[3]);
      if (port < 1 || port > 65535) return 'port';
      const host = m[2].startsWith('[') ? m[2].slice(1, -1) : m[2];
      return { secure, host, port, path: m[4] || '/', authority: port === (secure ? 443 : 80) ? m[2] : `${m[2]}:${port}` };
    };
    const now = (text: string) => {
      const r = outcome(() => parseImageUrl(text));
      return typeof r !== 'string' ? r : r.includes('not in 1..65535') ? 'port' : 'bad';
    };
    for (const t of [...strings(URL_PIECES, 8, 3), ...strings(['https://', 'h', '[', ']', ':', '1', '/', '#', '.'], 9, 5), 'http://[::1]:8080/a#b', 'http://h:123456/']) {
      expect(now(t), t).toEqual(old(t));
    }
    const base = parseImageUrl('http://h/a/b');
    for (const t of strings(['http://', 'HTTPS://', 'hTtP:', '//', '/', 'x', 'ſ', 'K'], 4, 9)) {
      expect(resolveLocation(base, t) === t, t).toBe(/^https?:\/\//i.test(t));
    }
  });

  it('topic names, filters and shared subscriptions', () => {
    const pieces = ['+', '#', '/', 'a', '\u0000', '\ufffd', '$share/', 'é'];
    for (const t of strings(pieces, 8, 11)) {
      expect(topicNameProblem(t) !== '', t).toBe(!t || /[+#\u0000]/.test(t));
      expect(topicFilterProblem(t) !== '', t).toBe(!t || /[^/][+#]|\+[^/]|#.|\u0000/.test(t));
      expect(sharedFilterProblem(t) !== '', t).toBe(/^\$share\/(?![^/+#]+\/.)/.test(t));
      expect(topicUnsafe(t), t).toBe(/[+#\u0000]/.test(t));
      expect(isTopicLevel(t), t).toBe(t.length > 0 && t.length <= 64 && !/[+#/\u0000]/.test(t));
    }
  });

  it('a filter with anything after "#" is refused, a line break too', () => {
    // the expression's "#." let a line terminator after the '#' through
    expect(topicFilterProblem('a/#\n')).not.toBe('');
    expect(topicFilterProblem('a/#')).toBe('');
  });

  it('parseVersion', () => {
    const PATTERN = /^v?(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;
    const old = (text: string) => {
      const m = PATTERN.exec(text);
      if (!m) return undefined;
      const prerelease = m[4] === undefined ? [] : m[4].split('.');
      if (prerelease.some((p) => p === '' || (/^\d+$/.test(p) && p.length > 1 && p[0] === '0'))) return undefined;
      return { numbers: [Number(m[1]), Number(m[2]), Number(m[3])], prerelease };
    };
    for (const t of [...strings(['v', '0', '1', '12', '.', '-', '+', 'a', 'rc', '01', '123456789', '1234567890'], 9, 13), '1.2.3-rc.1+b.5', 'v0.0.0', '1.2.3-', '1.2.3+']) {
      expect(parseVersion(t), t).toEqual(old(t));
    }
  });

  it('deviceIdProblem, brokerSettings, replyTopicsProblem', () => {
    for (const t of strings(['a', 'Z', '9', '_', '-', '/', ' ', 'é'], 10, 17)) {
      expect(deviceIdProblem(t).startsWith('only'), t).toBe(!!t && t.length <= 32 && !/^[0-9A-Za-z_-]+$/.test(t));
    }
    const oldBroker = (url: string) => {
      const m = /^(mqtts?):\/\/([^/:?#\s]+|\[[0-9a-fA-F:.]+\])(?::(\d{1,5}))?\/?$/.exec(url.trim());
      if (!m) return 'bad';
      const tls = m[1] === 'mqtts';
      const port = m[3] ? Number(m[3]) : tls ? 8883 : 1883;
      if (port < 1 || port > 65535) return 'port';
      return { brokerHost: m[2].replace(/^\[|\]$/g, ''), brokerPort: port, brokerTls: tls };
    };
    const nowBroker = (url: string) => {
      const r = outcome(() => brokerSettings(url));
      return typeof r !== 'string' ? r : r.includes('must be 1-65535') ? 'port' : 'bad';
    };
    for (const t of [...strings(URL_PIECES, 8, 19), ' mqtt://[::1]:1 ', 'mqtt://a@b']) expect(nowBroker(t), t).toEqual(oldBroker(t));
    for (const t of strings(['{prefix}', '{id}', '{', '}', 'prefix', 'a', '/', '#', '+', ','], 6, 23)) {
      const old = (() => {
        if (!t.trim()) return undefined;
        for (const raw of t.split(',')) {
          const sample = raw.trim().replace(/\{(prefix|id)\}/g, 'x');
          if (/[{}]/.test(sample)) return 'placeholder';
          if (topicFilterProblem(sample)) return 'filter';
          if (sample[0] === '$') return 'broker';
        }
        return undefined;
      })();
      const now = replyTopicsProblem(t);
      expect(now === undefined ? undefined : now.includes('placeholders') ? 'placeholder' : now.includes('belong to the broker') ? 'broker' : 'filter', t).toBe(old);
    }
  });

  it('the character helpers', () => {
    for (let c = 0; c < 0x3100; c++) expect(isSpaceCode(c), c.toString(16)).toBe(/\s/.test(String.fromCharCode(c)));
    expect(isSpaceCode(0xfeff)).toBe(true);
    for (const t of strings(['0', '9', 'a', '\u0000', '\u001f', '\u007f', ' ', '٣'], 6, 29)) {
      expect(isDigits(t), t).toBe(/^\d+$/.test(t));
      expect(hasControl(t), t).toBe(/[\u0000-\u001f\u007f]/.test(t));
      expect(startsWithIgnoringCase(t, '0a'), t).toBe(/^0a/i.test(t));
    }
    for (const t of strings(['A', 'z', 'Q', 'm', '@', '[', '`', '{', 'É', 'é', 'İ', 'K', 'ſ', '-'], 8, 31)) {
      // ASCII letters as toLowerCase/toUpperCase change them, everything else as it was
      const ascii = (f: (c: string) => string) => [...t].map((c) => (c.charCodeAt(0) < 0x80 ? f(c) : c)).join('');
      expect(asciiLower(t), t).toBe(ascii((c) => c.toLowerCase()));
      expect(asciiUpper(t), t).toBe(ascii((c) => c.toUpperCase()));
    }
  });
});

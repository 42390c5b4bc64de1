// Topic names and filters (3.1.1 section 4.7).
import { MqttClientError } from './errors';

/** A topic name for PUBLISH: non-empty, no wildcards, at most 65535 bytes. Returns an error text or ''. */
export function topicNameProblem(topic: string): string {
  if (topic.length === 0) return 'a topic name must not be empty';
  if (topic.length > 65535) return 'a topic name must be at most 65535 bytes';
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === 0x23 || c === 0x2b) return `topic name "${topic}" must not contain the wildcards + or #`;
    if (c === 0) return 'a topic name must not contain U+0000';
  }
  return '';
}

/** A filter for SUBSCRIBE: '+' fills a whole level, '#' only as the whole last level. */
export function topicFilterProblem(filter: string): string {
  if (filter.length === 0) return 'a topic filter must not be empty';
  if (filter.length > 65535) return 'a topic filter must be at most 65535 bytes';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.indexOf('\u0000') >= 0) return 'a topic filter must not contain U+0000';
    if (level.length > 1 && (level.indexOf('+') >= 0 || level.indexOf('#') >= 0)) {
      return `topic filter "${filter}": a wildcard must fill a whole level`;
    }
    if (level === '#' && i !== levels.length - 1) return `topic filter "${filter}": # must be the last level`;
  }
  return '';
}

export function checkTopicName(topic: string): void {
  const problem = topicNameProblem(topic);
  if (problem) throw new MqttClientError('invalid-argument', problem);
}

export function checkTopicFilter(filter: string): void {
  const problem = topicFilterProblem(filter);
  if (problem) throw new MqttClientError('invalid-argument', problem);
}

/** True when `topic` matches `filter`. Wildcards at the first level never match topics starting with '$'. */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true;
  if (topic.charCodeAt(0) === 0x24 && (filter.charCodeAt(0) === 0x2b || filter.charCodeAt(0) === 0x23)) return false;
  let f = 0;
  let t = 0;
  const fl = filter.length;
  const tl = topic.length;
  while (f < fl) {
    const c = filter.charCodeAt(f);
    if (c === 0x23) return true; // '#' matches the parent level and everything below
    if (c === 0x2b) {
      while (t < tl && topic.charCodeAt(t) !== 0x2f) t++;
      f++;
    } else {
      // literal level: compare up to the next '/'
      while (f < fl && t < tl) {
        const fc = filter.charCodeAt(f);
        if (fc === 0x2f) break;
        if (fc !== topic.charCodeAt(t)) return false;
        f++;
        t++;
      }
      if (f < fl && filter.charCodeAt(f) !== 0x2f) return false;
      if (t < tl && topic.charCodeAt(t) !== 0x2f) return false;
    }
    // both at a '/' or at the end
    if (f === fl) return t === tl;
    if (t === tl) {
      // "a/#" matches "a": filter must continue with exactly "/#"
      return f + 2 === fl && filter.charCodeAt(f + 1) === 0x23;
    }
    f++;
    t++;
  }
  return t === tl;
}

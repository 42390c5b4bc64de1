// Topic names and filters (3.1.1 section 4.7). Native indexOf calls, each a single call, where a
// loop over characters costs XS a wrapper object per charCodeAt; no regular expressions (the ESP8266
// image leaves XS's engine out: docs/flash.md).
import { invalid } from './errors';

const SHARE_PREFIX = '$share/';

/** String.prototype.indexOf, called on a topic without XS making a String object for it per call. */
export const indexOf = String.prototype.indexOf;

/** Whether a topic name has a wildcard or U+0000. */
export const topicUnsafe = (topic: string): boolean => {
  return indexOf.call(topic, '+') >= 0 || indexOf.call(topic, '#') >= 0 || indexOf.call(topic, '\u0000') >= 0;
};

/** A filter with a wildcard that does not fill its level, '#' before the last level, or U+0000. */
const filterBad = (filter: string): boolean => {
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i];
    // a level of more than one character holds no wildcard; '#' alone only as the last level
    if (l.length > 1 ? topicUnsafe(l) : l === '\u0000' || (l === '#' && i < levels.length - 1)) return true;
  }
  return false;
};

const shareBad = (filter: string): boolean => {
  if (!filter.startsWith(SHARE_PREFIX)) return false;
  const slash = filter.indexOf('/', SHARE_PREFIX.length);
  if (slash <= SHARE_PREFIX.length || slash + 1 >= filter.length) return true;
  const name = filter.slice(SHARE_PREFIX.length, slash);
  return name.indexOf('+') >= 0 || name.indexOf('#') >= 0;
};

/** A topic name for PUBLISH: not empty, no wildcards, no U+0000. Returns an error text or ''. */
export const topicNameProblem = (topic: string): string => {
  return !topic ? 'empty topic name' : topicUnsafe(topic) ? `topic name "${topic}" has + # or U+0000` : '';
};

/** A filter for SUBSCRIBE: '+' fills a whole level, '#' only as the whole last level. */
export const topicFilterProblem = (filter: string): string => {
  return !filter
    ? 'empty topic filter'
    : filterBad(filter)
      ? `topic filter "${filter}": + and # must fill a level, # be last, no U+0000`
      : '';
};

/**
 * MQTT 5 (section 4.8.2): a shared subscription is $share/<share name>/<filter>, the share name
 * without + # or /. (MQTT 3.1.1 has none: there, $share/... is an ordinary filter to the client.)
 */
export const sharedFilterProblem = (filter: string): string => {
  return shareBad(filter) ? `shared subscription "${filter}": write $share/<share name>/<filter>, the share name without + # /` : '';
};

export const checkTopicName = (topic: string): void => {
  const problem = topicNameProblem(topic);
  if (problem) invalid(problem);
};

export const checkTopicFilter = (filter: string): void => {
  const problem = topicFilterProblem(filter);
  if (problem) invalid(problem);
};

/**
 * True when `topic` matches `filter`. Wildcards at the first level never match topics starting with '$'.
 * A shared subscription's filter ($share/<group>/<filter>) matches as the filter after the group.
 */
export const topicMatches = (filter: string, topic: string): boolean => {
  if (filter === topic) return true;
  let f = filter.split('/');
  // a shared subscription matches as its filter: $share/<group>/<filter>
  if (f[0] === '$share' && f.length > 2) f = f.slice(2);
  const t = topic.split('/');
  if (topic[0] === '$' && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    // '#' also matches the parent level: "a/#" matches "a"
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
};

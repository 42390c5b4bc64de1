// Topic names and filters (3.1.1 section 4.7). One regular expression each: a single native call,
// where a loop over characters costs XS a wrapper object per charCodeAt.
import { invalid } from './errors';

/** A wildcard or U+0000: not allowed in a topic name. */
const NAME_BAD = /[+#\u0000]/;
/** A wildcard sharing its level with other characters, '#' before the last level, or U+0000. */
const FILTER_BAD = /[^/][+#]|\+[^/]|#.|\u0000/;
/** A shared subscription (MQTT 5 section 4.8.2) without a share name (no + # /) and a filter after it. */
const SHARE_BAD = /^\$share\/(?![^/+#]+\/.)/;

/** A topic name for PUBLISH: not empty, no wildcards, no U+0000. Returns an error text or ''. */
export function topicNameProblem(topic: string): string {
  return !topic ? 'empty topic name' : NAME_BAD.test(topic) ? `topic name "${topic}" has + # or U+0000` : '';
}

/** A filter for SUBSCRIBE: '+' fills a whole level, '#' only as the whole last level. */
export function topicFilterProblem(filter: string): string {
  return !filter
    ? 'empty topic filter'
    : FILTER_BAD.test(filter)
      ? `topic filter "${filter}": + and # must fill a level, # be last, no U+0000`
      : '';
}

/**
 * MQTT 5 (section 4.8.2): a shared subscription is $share/<share name>/<filter>, the share name
 * without + # or /. (MQTT 3.1.1 has none: there, $share/... is an ordinary filter to the client.)
 */
export function sharedFilterProblem(filter: string): string {
  return SHARE_BAD.test(filter) ? `shared subscription "${filter}": write $share/<share name>/<filter>, the share name without + # /` : '';
}

export function checkTopicName(topic: string): void {
  const problem = topicNameProblem(topic);
  if (problem) invalid(problem);
}

export function checkTopicFilter(filter: string): void {
  const problem = topicFilterProblem(filter);
  if (problem) invalid(problem);
}

/**
 * True when `topic` matches `filter`. Wildcards at the first level never match topics starting with '$'.
 * A shared subscription's filter ($share/<group>/<filter>) matches as the filter after the group.
 */
export function topicMatches(filter: string, topic: string): boolean {
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
}

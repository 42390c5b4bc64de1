// Where a command reply may go when the request names a response topic. A requester must not be
// able to make the device publish where its words mean something else: on a command topic (of any
// device, this one's included) a reply would be obeyed as a request, on the discovery prefix it
// would be read as a Home Assistant config, on a status, heartbeat, OTA or telemetry topic it would
// be taken for the device's own data. So a response topic must match one of the filters of the
// `replyTopics` setting (by default this device's topics and `<prefix>/reply/`) and never be one of
// those. Anything else is answered with an error on the usual result topic.
import { topicFilterProblem, topicMatches } from '../mqtt/topic';
import type { Topics } from './topics';

/** The `replyTopics` default: `{prefix}` and `{id}` stand for the topic prefix and the device id. */
export const DEFAULT_REPLY_TOPICS = '{prefix}/{id}/#,{prefix}/reply/#';
/** Levels after `<prefix>/<id>/` that carry the device's own messages (see topics.ts). */
const DEVICE_LEVELS = ['status', 'heartbeat', 'ota', 'telemetry'];
/** `<prefix>/group/<group>/ota/job`: OTA jobs for groups of devices. */
const GROUP_LEVEL = 'group';
const COMMAND_LEVEL = 'cmd';
const RESULT_LEVEL = 'result';
const HOME_ASSISTANT = 'homeassistant';
const PREFIX_PLACEHOLDER = '{prefix}';
const ID_PLACEHOLDER = '{id}';

/** `filter` with each {prefix} and {id} replaced, left to right. */
const fillPlaceholders = (filter: string, prefix: string, id: string): string => {
  let out = '';
  let from = 0;
  for (let at = filter.indexOf('{'); at >= 0; at = filter.indexOf('{', from)) {
    const placeholder = filter.startsWith(PREFIX_PLACEHOLDER, at) ? PREFIX_PLACEHOLDER : filter.startsWith(ID_PLACEHOLDER, at) ? ID_PLACEHOLDER : '';
    if (placeholder) out += filter.slice(from, at) + (placeholder === ID_PLACEHOLDER ? id : prefix);
    else out += filter.slice(from, at + 1);
    from = at + (placeholder.length || 1);
  }
  return out + filter.slice(from);
};

/** Config check for `replyTopics`: comma-separated topic filters, or '' for "only the result topic". */
export const replyTopicsProblem = (value: string): string | undefined => {
  if (!value.trim()) return undefined;
  for (const raw of value.split(',')) {
    const filter = raw.trim();
    const sample = fillPlaceholders(filter, 'x', 'x');
    if (sample.indexOf('{') >= 0 || sample.indexOf('}') >= 0) return `has "${filter}": the only placeholders are {prefix} and {id}`;
    const problem = topicFilterProblem(sample);
    if (problem) return `has "${filter}": must be topic filters separated by commas (${problem})`;
    if (sample[0] === '$') return `has "${filter}": topics starting with $ belong to the broker`;
  }
  return undefined;
};

/** The filters of a `replyTopics` value, placeholders filled in. */
export const replyFilters = (value: string, topics: Topics): string[] => {
  const out: string[] = [];
  for (const raw of value.split(',')) {
    const filter = raw.trim();
    if (filter) out.push(fillPlaceholders(filter, topics.prefix, topics.deviceId));
  }
  return out;
};

/** Why a reply must not go to `topic` (a sentence for the requester), or '' when it may. */
export const replyTopicProblem = (topic: string, topics: Topics, replyTopics: string): string => {
  const reserved = reservedFor(topic, topics);
  if (reserved) return `is ${reserved}; replies never go there`;
  const filters = replyFilters(replyTopics, topics);
  for (const filter of filters) if (topicMatches(filter, topic)) return '';
  return filters.length
    ? `is outside the reply topics (${filters.join(', ')}); the replyTopics setting lists where replies may go`
    : 'is not allowed: the replyTopics setting is empty, so replies go only to the result topic';
};

/** What `topic` is used for when it is one of the reserved kinds, or ''. */
const reservedFor = (topic: string, topics: Topics): string => {
  if (topic[0] === '$') return 'a broker topic';
  const levels = topic.split('/');
  if (levels[0] === topics.discoveryPrefix || levels[0] === HOME_ASSISTANT) return 'Home Assistant discovery';
  for (let i = 0; i < levels.length - 1; i++) {
    // <anything>/cmd/<name> is a request; only <anything>/cmd/<name>/result is a reply
    const isResult = i === levels.length - 3 && levels[i + 2] === RESULT_LEVEL;
    if (levels[i] === COMMAND_LEVEL && !isResult) return 'a command topic';
  }
  const head = `${topics.prefix}/`;
  if (topic.startsWith(head)) {
    const rest = topic.slice(head.length).split('/');
    if (rest[0] === GROUP_LEVEL && rest.length > 1) return 'a group OTA topic';
    if (rest.length > 1 && DEVICE_LEVELS.indexOf(rest[1]) >= 0) return `a device's ${rest[1]} topic`;
  }
  return '';
};

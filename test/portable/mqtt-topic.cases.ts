// Topic matching examples from the MQTT 3.1.1 spec, section 4.7.
import { topicFilterProblem, topicMatches, topicNameProblem } from '../../src/mqtt/topic';
import { equal, ok, suite } from '../../hosts/xs/harness';

const matches: [string, string, boolean][] = [
  ['sport/tennis/player1/#', 'sport/tennis/player1', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
  ['sport/#', 'sport', true],
  ['#', 'sport/tennis', true],
  ['sport/tennis/+', 'sport/tennis/player1', true],
  ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
  ['sport/+', 'sport', false],
  ['sport/+', 'sport/', true],
  ['+/+', '/finance', true],
  ['/+', '/finance', true],
  ['+', '/finance', false],
  ['+/tennis/#', 'sport/tennis/player1', true],
  ['#', '$SYS/broker/load', false],
  ['+/monitor/Clients', '$SYS/monitor/Clients', false],
  ['$SYS/#', '$SYS/monitor/Clients', true],
  ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
  ['a/b', 'a/b', true],
  ['a/b', 'a/bc', false],
  ['a/bc', 'a/b', false],
  ['a/b', 'a', false],
  ['a/+/c', 'a/x/c', true],
  ['a/+/c', 'a/x/d', false],
  ['a/+/c', 'a//c', true],
  ['A/b', 'a/b', false],
];

export default suite('mqtt topics', (test) => {
  for (const [filter, topic, expected] of matches) {
    test(`"${filter}" ${expected ? 'matches' : 'does not match'} "${topic}"`, () => equal(topicMatches(filter, topic), expected));
  }
  test('invalid filters are named', () => {
    for (const f of ['sport/tennis#', 'sport/tennis/#/ranking', 'sport+', '', 'a/b+/c']) ok(topicFilterProblem(f), `filter "${f}" should be invalid`);
    for (const f of ['#', '+', 'sport/+/player1', '/', '+/+', 'a/#']) equal(topicFilterProblem(f), '', `filter "${f}"`);
  });
  test('topic names may not hold wildcards or be empty', () => {
    for (const t of ['a/+', 'a/#', '']) ok(topicNameProblem(t), `topic "${t}" should be invalid`);
    equal(topicNameProblem('a/b c/$d'), '');
  });
});

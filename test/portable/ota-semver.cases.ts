// Version order of the downgrade check: the precedence examples of semver.org 2.0.0 section 11.
import { equal, ok, suite } from '../../hosts/xs/harness';
import { compareVersions, parseVersion } from '../../src/ota/semver';

function cmp(a: string, b: string): number {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  ok(va && vb, `${a} and ${b} parse`);
  return Math.sign(compareVersions(va!, vb!));
}

export default suite('ota semver', (test) => {
  test('numeric fields compare as numbers (1.0.0 < 2.0.0 < 2.1.0 < 2.1.1, 1.9.0 < 1.10.0)', () => {
    const order = ['1.0.0', '1.9.0', '1.10.0', '2.0.0', '2.1.0', '2.1.1'];
    for (let i = 0; i + 1 < order.length; i++) {
      equal(cmp(order[i], order[i + 1]), -1, `${order[i]} < ${order[i + 1]}`);
      equal(cmp(order[i + 1], order[i]), 1);
    }
  });

  test('prerelease precedence: 1.0.0-alpha < -alpha.1 < -alpha.beta < -beta < -beta.2 < -beta.11 < -rc.1 < 1.0.0', () => {
    const order = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0'];
    for (let i = 0; i + 1 < order.length; i++) equal(cmp(order[i], order[i + 1]), -1, `${order[i]} < ${order[i + 1]}`);
  });

  test('build metadata and a leading v do not change precedence', () => {
    equal(cmp('1.2.3+build.7', '1.2.3'), 0);
    equal(cmp('v1.2.3', '1.2.3'), 0);
  });

  test('not semantic versions', () => {
    for (const text of ['1', '1.2', '1.2.3.4', '01.2.3', '1.2.3-', '1.2.3-01', '1.2.3-a..b', 'latest', '', ' 1.2.3']) {
      equal(parseVersion(text), undefined, JSON.stringify(text));
    }
  });
});

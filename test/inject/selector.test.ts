import t from 'tap';
import { describeSelector, matchesSelector } from '../../src/inject/selector.ts';

t.test('label selectors match as the API server matches them', (t) => {
  const labels = { app: 'web', tier: 'front' };
  const cases: [string, Parameters<typeof matchesSelector>[0], boolean][] = [
    ['empty selector matches everything', {}, true],
    ['matchLabels hit', { matchLabels: { app: 'web' } }, true],
    ['matchLabels miss', { matchLabels: { app: 'db' } }, false],
    [
      'In hit',
      { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'x'] }] },
      true,
    ],
    [
      'In on a missing key',
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
      false,
    ],
    [
      'NotIn hit',
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] },
      false,
    ],
    [
      'NotIn on a missing key matches',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    [
      'all requirements must hold',
      { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'x', operator: 'Exists' }] },
      false,
    ],
  ];
  for (const [name, selector, want] of cases)
    t.equal(matchesSelector(selector, labels), want, name);
  t.end();
});

t.test('selectors print the way kubectl prints them', (t) => {
  t.equal(
    describeSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['a', 'b'] },
        { key: 'z', operator: 'NotIn', values: ['c'] },
        { key: 'e', operator: 'Exists' },
        { key: 'd', operator: 'DoesNotExist' },
      ],
    }),
    'app=web,tier in (a,b),z notin (c),e,!d',
  );
  t.equal(describeSelector({}), '(everything)');
  t.end();
});

import t from 'tap';
import { parseInjectAnnotation, selectPolicies, type Candidates } from '../../src/inject/select.ts';
import { EMPTY_STATUS } from '../../src/inject/status.ts';
import { context, policySet } from '../fixtures/policies.ts';

/** automatic is a policy with `selector` (YAML flow style) that adds one container. */
function automatic(name: string, selector: string): string {
  return `apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: ${name}}
spec:
  pattern: sidecar
  selector: ${selector}
  containers: [{name: ${name}, image: 'registry.example/${name}:1'}]
`;
}

const POLICIES = policySet(
  [
    automatic('d-web', '{matchLabels: {app: web}}'),
    automatic('a-web-prod', '{matchLabels: {app: web, tier: prod}}'),
    automatic('c-prod', '{matchLabels: {tier: prod}}'),
    automatic('b-any-team', '{matchExpressions: [{key: team, operator: Exists}]}'),
    automatic('e-everything', '{}'),
    automatic('f-db', '{matchLabels: {app: db}}'),
  ].join('---\n'),
);

function select(labels: Record<string, string>, candidates: Candidates) {
  return selectPolicies(
    { request: parseInjectAnnotation(undefined), labels, status: EMPTY_STATUS },
    POLICIES,
    context(),
    candidates,
  );
}

function selected(labels: Record<string, string>, candidates: Candidates): string[] {
  const { chosen } = select(labels, candidates);
  return chosen.ok ? chosen.value.map((s) => s.policy.name) : [];
}

t.test('the label index picks the same automatic policies, in name order, as trying all', (t) => {
  const pods: Record<string, string>[] = [
    {},
    { app: 'web' },
    { app: 'web', tier: 'prod' },
    { tier: 'prod', team: 'x' },
    { app: 'db', tier: 'dev' },
    { app: 'other' },
  ];
  for (const labels of pods) {
    t.strictSame(selected(labels, 'indexed'), selected(labels, 'all'), JSON.stringify(labels));
  }
  t.strictSame(selected({ app: 'web', tier: 'prod', team: 'x' }, 'indexed'), [
    'a-web-prod',
    'b-any-team',
    'c-prod',
    'd-web',
    'e-everything',
  ]);
  t.end();
});

t.test('a pod whose labels name no indexed pair is tried only against unindexed policies', (t) => {
  // Every policy selection tries gets a decision: the webhook's name only the two whose
  // selectors have no matchLabels, while explain, trying all six, names every one.
  const tried = (candidates: Candidates) =>
    select({ app: 'other' }, candidates).decisions.map((d) => [d.policy, d.decision]);
  t.strictSame(tried('indexed'), [
    ['b-any-team', 'skip'],
    ['e-everything', 'inject'],
  ]);
  t.strictSame(
    tried('all').map(([name]) => name),
    ['a-web-prod', 'b-any-team', 'c-prod', 'd-web', 'e-everything', 'f-db'],
  );
  t.end();
});

import t from 'tap';
import { automaticCandidates, selectPolicies } from '../../src/inject/select.ts';
import { parseStatus } from '../../src/inject/status.ts';
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

const STATUS = (() => {
  const parsed = parseStatus(undefined);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.status;
})();

function selected(labels: Record<string, string>, explainAll: boolean): string[] {
  const selection = selectPolicies(
    { annotations: {}, labels, status: STATUS },
    POLICIES,
    context(),
    explainAll,
  );
  return selection.outcome === 'selected' ? selection.selected.map((s) => s.policy.name) : [];
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
    t.same(selected(labels, false), selected(labels, true), JSON.stringify(labels));
  }
  t.same(selected({ app: 'web', tier: 'prod', team: 'x' }, false), [
    'a-web-prod',
    'b-any-team',
    'c-prod',
    'd-web',
    'e-everything',
  ]);
  t.end();
});

t.test('a pod whose labels name no indexed pair is tried only against unindexed policies', (t) => {
  t.same(
    automaticCandidates(POLICIES, { app: 'other' }).map((p) => p.name),
    ['b-any-team', 'e-everything'],
  );
  t.end();
});

import t from 'tap';
import { explainPod, injectPod } from '../../src/inject/engine.ts';
import type { InjectContext, InjectResult } from '../../src/inject/types.ts';
import { applyPatch } from '../fixtures/check-pod.ts';
import { appPod } from '../fixtures/pods.ts';
import { MESH_POLICIES } from '../fixtures/mesh-policies.ts';
import { context, policySet } from '../fixtures/policies.ts';

// Namespace-level injection (issue 12 item 1): a namespace labelled
// tandem.dev/injection=enabled turns on every policy with namespaceInjection: true for
// its pods; a pod opts out with the tandem.dev/inject annotation or label.
const policies = policySet(MESH_POLICIES);

function inNamespace(name: string, labels: Record<string, string> = {}): InjectContext {
  return context({
    namespace: name,
    namespaceLabels: { 'kubernetes.io/metadata.name': name, ...labels },
  });
}

const ENABLED = inNamespace('mesh', { 'tandem.dev/injection': 'enabled' });

function injected(result: InjectResult): string[] {
  return result.outcome === 'patched' ? result.injected.map((p) => `${p.name}:${p.reason}`) : [];
}

t.test('a namespace labelled tandem.dev/injection=enabled gets its namespace policies', (t) => {
  t.strictSame(injected(injectPod(appPod(), policies, ENABLED)), ['mesh-proxy:namespace']);
  t.end();
});

t.test('an unlabelled namespace, or one labelled otherwise, gets none of them', (t) => {
  for (const value of [undefined, 'disabled', 'Enabled', 'true']) {
    const labels: Record<string, string> =
      value === undefined ? {} : { 'tandem.dev/injection': value };
    t.strictSame(injectPod(appPod(), policies, inNamespace('plain', labels)), {
      outcome: 'unchanged',
      warnings: [],
    });
  }
  t.end();
});

t.test('a pod opts out of namespace injection with the annotation or the label', (t) => {
  const optedOut = [
    appPod({ 'tandem.dev/inject': 'false' }),
    appPod({ 'tandem.dev/inject': ' None ' }),
    appPod({}, { 'tandem.dev/inject': 'false' }),
    appPod({}, { 'tandem.dev/inject': 'none' }),
  ];
  for (const pod of optedOut) {
    t.strictSame(injectPod(pod, policies, ENABLED), { outcome: 'unchanged', warnings: [] });
  }
  // Label values compare exactly, as the webhook's objectSelector does.
  t.strictSame(
    injected(injectPod(appPod({}, { 'tandem.dev/inject': 'False' }), policies, ENABLED)),
    ['mesh-proxy:namespace'],
  );
  t.end();
});

t.test('the opt-out label leaves requested policies alone, as the annotation does', (t) => {
  const pod = appPod({ 'tandem.dev/inject': 'on-request' }, { 'tandem.dev/inject': 'false' });
  t.strictSame(injected(injectPod(pod, policies, ENABLED)), ['on-request:annotation']);
  t.end();
});

t.test('namespace injection with a selector takes only the pods it matches', (t) => {
  const pod = appPod({}, { debug: 'true' });
  t.strictSame(injected(injectPod(pod, policies, ENABLED)), [
    'debug-shell:namespace',
    'mesh-proxy:namespace',
  ]);
  t.strictSame(injectPod(pod, policies, inNamespace('plain')), {
    outcome: 'unchanged',
    warnings: [],
  });
  t.end();
});

t.test('explain says which namespace label turned a policy on, or why not', (t) => {
  const on = explainPod(appPod(), policies, ENABLED).decisions;
  t.strictSame(
    on.find((d) => d.policy === 'mesh-proxy'),
    {
      policy: 'mesh-proxy',
      decision: 'inject',
      reason: 'namespace "mesh" is labelled tandem.dev/injection=enabled',
    },
  );
  const off = explainPod(appPod(), policies, inNamespace('plain')).decisions;
  t.strictSame(
    off.find((d) => d.policy === 'mesh-proxy'),
    {
      policy: 'mesh-proxy',
      decision: 'skip',
      reason: 'namespace "plain" is not labelled tandem.dev/injection=enabled',
    },
  );
  const label = explainPod(appPod({}, { 'tandem.dev/inject': 'false' }), policies, ENABLED);
  t.strictSame(
    label.decisions.find((d) => d.policy === 'mesh-proxy'),
    {
      policy: 'mesh-proxy',
      decision: 'skip',
      reason: 'the pod opts out with label tandem.dev/inject=false',
    },
  );
  t.end();
});

t.test('the status records namespace injection, and a second run adds nothing', (t) => {
  const pod = appPod();
  const first = injectPod(pod, policies, ENABLED);
  if (first.outcome !== 'patched') throw new Error('expected a patch');
  const status = first.patch.find((op) => op.path.endsWith('tandem.dev~1status'));
  const value = status !== undefined && 'value' in status ? String(status.value) : '';
  t.match(value, '"reason":"namespace"');
  t.strictSame(injectPod(applyPatch(pod, first.patch), policies, ENABLED), {
    outcome: 'unchanged',
    warnings: [],
  });
  t.end();
});

t.test('a namespaceSelector with In and no values is a load error, as for selector', (t) => {
  const broken = MESH_POLICIES.replace(
    'namespaceSelector: {matchLabels: {team: payments}}',
    'namespaceSelector: {matchExpressions: [{key: team, operator: In}]}',
  );
  t.throws(() => policySet(broken), /spec\.namespaceSelector\.matchExpressions\[0\]\.values/);
  t.end();
});

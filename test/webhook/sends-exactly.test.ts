import t from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import { injectPod } from '../../src/inject/engine.ts';
import { buildPolicySet, type PolicySet } from '../../src/policy/compile.ts';
import { DEFAULT_EXCLUDED_NAMESPACES, deriveWebhooks } from '../../src/webhook/derive.ts';
import { parseWebhooks } from '../../src/webhook/config-file.ts';
import { evaluateCondition, whoSends, type WebhookView } from '../../src/webhook/evaluate.ts';
import { applyPatch } from '../fixtures/check-pod.ts';
import { MESH_POLICIES } from '../fixtures/mesh-policies.ts';
import { context, policySet } from '../fixtures/policies.ts';
import { TEST_POLICIES } from '../fixtures/test-policies.ts';
import { OLD_WEBHOOK } from '../fixtures/old-webhook.ts';

// Issue 12 item 2: the webhook configuration derived from the policies sends the API
// server's pods to tandem exactly when tandem would do something with them (inject or
// deny), in every namespace tandem may touch. The conditions are evaluated by a real CEL
// evaluator (@bufbuild/cel) with the variables the API server binds, and the selectors
// with the API server's label-selector semantics.

const mesh = policySet(MESH_POLICIES);
const both = buildPolicySet([...mesh.byName.values(), ...policySet(TEST_POLICIES).byName.values()]);

const NAMESPACES: Record<string, Record<string, string>> = {
  default: {},
  mesh: { 'tandem.dev/injection': 'enabled' },
  'mesh-typo': { 'tandem.dev/injection': 'Enabled' },
  payments: { team: 'payments' },
  'payments-mesh': { team: 'payments', 'tandem.dev/injection': 'enabled' },
  off: { 'tandem.dev/injection': 'disabled', team: 'payments' },
  'kube-system': {},
  'tandem-system': { 'tandem.dev/injection': 'enabled' },
};

interface PodCase {
  readonly name: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly hostNetwork?: boolean;
}

const PODS: readonly PodCase[] = [
  { name: 'no labels or annotations' },
  { name: 'app=web', labels: { app: 'web' } },
  { name: 'app=api', labels: { app: 'api' } },
  { name: 'tier=frontend', labels: { tier: 'frontend' } },
  { name: 'tier=db', labels: { tier: 'db' } },
  { name: 'debug=true', labels: { debug: 'true' } },
  { name: 'debug=true on hostNetwork', labels: { debug: 'true' }, hostNetwork: true },
  { name: 'app=web on hostNetwork', labels: { app: 'web' }, hostNetwork: true },
  { name: 'plain on hostNetwork', hostNetwork: true },
  { name: 'mesh=enabled (TEST_POLICIES selector)', labels: { mesh: 'enabled' } },
  { name: 'requests on-request', annotations: { 'tandem.dev/inject': 'on-request' } },
  { name: 'requests a missing policy', annotations: { 'tandem.dev/inject': 'nope' } },
  { name: 'requests with spaces', annotations: { 'tandem.dev/inject': ' , on-request ,' } },
  { name: 'annotation of only commas', annotations: { 'tandem.dev/inject': ' , ,' } },
  { name: 'annotation empty', annotations: { 'tandem.dev/inject': '' } },
  { name: 'annotation false', annotations: { 'tandem.dev/inject': 'false' } },
  { name: 'annotation " None "', annotations: { 'tandem.dev/inject': ' None ' } },
  {
    name: 'annotation FALSE, app=web',
    labels: { app: 'web' },
    annotations: { 'tandem.dev/inject': 'FALSE' },
  },
  { name: 'label false, app=web', labels: { app: 'web', 'tandem.dev/inject': 'false' } },
  { name: 'label none', labels: { 'tandem.dev/inject': 'none' } },
  { name: 'label False (not an opt-out)', labels: { 'tandem.dev/inject': 'False' } },
  {
    name: 'label false, requests on-request',
    labels: { 'tandem.dev/inject': 'false' },
    annotations: { 'tandem.dev/inject': 'on-request' },
  },
  {
    name: 'requests on-request, tier=backend',
    labels: { tier: 'backend' },
    annotations: { 'tandem.dev/inject': 'on-request' },
  },
  { name: 'other annotations only', annotations: { 'example.com/x': 'y' } },
  { name: 'a label under tandem.dev/ only', labels: { 'tandem.dev/team': 'a' } },
];

function podOf(c: PodCase, namespace: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'app-',
      namespace,
      ...(c.labels === undefined ? {} : { labels: c.labels }),
      ...(c.annotations === undefined ? {} : { annotations: c.annotations }),
    },
    spec: {
      ...(c.hostNetwork === undefined ? {} : { hostNetwork: c.hostNetwork }),
      containers: [{ name: 'app', image: 'registry.example/app:1.0' }],
    },
  };
}

/** mismatches lists the table's pods whose sending differs from what tandem does with them. */
function mismatches(webhooks: readonly WebhookView[], policies: PolicySet): string[] {
  const found: string[] = [];
  for (const [namespace, extra] of Object.entries(NAMESPACES)) {
    const namespaceLabels = { 'kubernetes.io/metadata.name': namespace, ...extra };
    // The namespaces no webhook may send: the cluster's, tandem's, and those opted out.
    const excluded =
      DEFAULT_EXCLUDED_NAMESPACES.includes(namespace) ||
      extra['tandem.dev/injection'] === 'disabled';
    for (const c of PODS) {
      const pod = podOf(c, namespace);
      const result = injectPod(pod, policies, context({ namespace, namespaceLabels }));
      const acts = result.outcome !== 'unchanged' && !excluded;
      const create = { pod, labels: c.labels ?? {}, namespace, namespaceLabels };
      const sent = whoSends(webhooks, create).sent;
      if (sent !== acts)
        found.push(`${c.name} in ${namespace}: sent ${sent}, tandem ${result.outcome}`);
    }
  }
  return found;
}

for (const [setName, policies] of [
  ['the mesh policies', mesh],
  ['the mesh and test policies together', both],
] as const) {
  t.test(`the derived webhooks send exactly the pods tandem acts on: ${setName}`, (t) => {
    const webhooks = deriveWebhooks(policies, { excludeNamespaces: DEFAULT_EXCLUDED_NAMESPACES });
    t.strictSame(mismatches(webhooks, policies), []);
    t.end();
  });
}

t.test('the table catches a configuration that misses pods: the one before issue 12', (t) => {
  const old = parseWebhooks(OLD_WEBHOOK, 'the old deploy/webhook.yaml');
  const missed = mismatches(old, mesh);
  t.ok(missed.includes('app=web in default: sent false, tandem patched'), missed.join('\n'));
  t.ok(missed.includes('no labels or annotations in mesh: sent false, tandem patched'));
  t.ok(missed.includes('annotation false in default: sent true, tandem unchanged'));
  t.end();
});

t.test('a pod that two webhooks send is injected once: the second call adds nothing', (t) => {
  // Webhooks for different namespace conditions can overlap (a namespace both labelled
  // for injection and matching a namespaceSelector); the status annotation makes the
  // second call a no-op, as a reinvocation is.
  const webhooks = deriveWebhooks(both, { excludeNamespaces: DEFAULT_EXCLUDED_NAMESPACES });
  let twice = 0;
  for (const [namespace, extra] of Object.entries(NAMESPACES)) {
    const namespaceLabels = { 'kubernetes.io/metadata.name': namespace, ...extra };
    for (const c of PODS) {
      const pod = podOf(c, namespace);
      const create = { pod, labels: c.labels ?? {}, namespace, namespaceLabels };
      const senders = webhooks.filter((w) => whoSends([w], create).sent);
      if (senders.length < 2) continue;
      twice += 1;
      const ctx = context({ namespace, namespaceLabels });
      const first = injectPod(pod, both, ctx);
      if (first.outcome !== 'patched') {
        t.fail(`${c.name} in ${namespace}: ${first.outcome}`);
        continue;
      }
      t.strictSame(injectPod(applyPatch(pod, first.patch), both, ctx), {
        outcome: 'unchanged',
        warnings: [],
      });
    }
  }
  t.ok(twice > 0, 'the table has such pods');
  t.end();
});

t.test('no derived condition errs on any pod, which under failurePolicy Fail refuses it', (t) => {
  const webhooks = deriveWebhooks(both, { excludeNamespaces: DEFAULT_EXCLUDED_NAMESPACES });
  const bare = { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { containers: [] } };
  const pods = [bare, ...PODS.map((c) => podOf(c, 'default'))];
  const results = new Set<string>();
  for (const pod of pods) {
    for (const condition of webhooks.flatMap((w) => w.matchConditions)) {
      const create = { pod, labels: {}, namespace: 'default', namespaceLabels: {} };
      results.add(typeof evaluateCondition(condition.expression, create));
    }
  }
  t.strictSame([...results].sort(), ['boolean']);
  t.end();
});

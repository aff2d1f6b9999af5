import t from 'tap';
import fc from 'fast-check';
import type { V1Pod } from '@kubernetes/client-node';
import { injectPod } from '../../src/inject/engine.ts';
import type { InjectContext } from '../../src/inject/types.ts';
import { uninjectPod } from '../../src/inject/uninject.ts';
import type { PolicySet } from '../../src/policy/compile.ts';
import { applyPatch } from '../fixtures/check-pod.ts';
import { arbitraryPod } from '../fixtures/arbitrary-pod.ts';
import { context, policySet } from '../fixtures/policies.ts';
import { TEST_POLICIES } from '../fixtures/test-policies.ts';

const policies = policySet(TEST_POLICIES);
const pods = arbitraryPod({
  policies: ['shipper', 'proxy'],
  annotations: { 'shipper.tandem.dev/dest': 'logs.example:24224' },
});
const modes = fc.constantFrom('native' as const, 'classic' as const);

/** injected is `pod` after injection; it throws on a denial. */
function injected(pod: V1Pod, set: PolicySet = policies, ctx: InjectContext = context()): V1Pod {
  const result = injectPod(pod, set, ctx);
  if (result.outcome === 'denied') throw new Error(result.reason);
  return result.outcome === 'patched' ? applyPatch(pod, result.patch) : pod;
}

/** uninjected is `pod` after uninject, with its warnings; it throws on a refusal. */
function uninjected(pod: V1Pod): { pod: V1Pod; warnings: readonly string[] } {
  const result = uninjectPod(pod);
  if (result.outcome === 'refused') throw new Error(result.reason);
  if (result.outcome === 'unchanged') return { pod, warnings: [] };
  return { pod: applyPatch(pod, result.patch), warnings: result.warnings };
}

/**
 * variant gives a generated pod the shapes the generator leaves out: lists written as
 * null (`volumes:` with nothing after it), no env or mounts lists at all, and
 * pod-level resources that injection raises.
 */
const variants = fc.record({
  nullLists: fc.boolean(),
  podResources: fc.constantFrom('none', 'requests', 'both'),
});
function variant(pod: V1Pod, v: typeof variants extends fc.Arbitrary<infer V> ? V : never): V1Pod {
  const copy = structuredClone(pod);
  const spec = copy.spec;
  if (spec === undefined) return copy;
  if (v.nullLists) {
    const nulls = spec as unknown as Record<string, unknown>;
    nulls.volumes ??= null;
    nulls.initContainers ??= null;
    for (const c of spec.containers as unknown as Record<string, unknown>[]) {
      c.env ??= null;
      c.volumeMounts ??= null;
    }
  }
  if (v.podResources !== 'none') {
    spec.resources = { requests: { cpu: '2', memory: '1Gi' } };
    if (v.podResources === 'both') spec.resources.limits = { cpu: 4, memory: '2Gi' } as never;
  }
  return copy;
}

t.test('for any pod: uninject after inject gives back the pod tandem was given', (t) => {
  let patched = 0;
  fc.assert(
    fc.property(pods, modes, variants, (generated, sidecarMode, v) => {
      const pod = variant(generated, v);
      const ctx = context({ sidecarMode });
      const out = injected(structuredClone(pod), policies, ctx);
      if (out !== pod && JSON.stringify(out) !== JSON.stringify(pod)) patched += 1;
      const back = uninjected(out);
      t.strictSame(back.pod, pod);
      t.strictSame(back.warnings, []);
    }),
    { numRuns: 400 },
  );
  t.ok(patched > 200, `most generated pods were injected (${patched} of 400)`);
  t.end();
});

t.test(
  'for any pod injected twice (a policy requested later): uninject takes out both injections',
  (t) => {
    fc.assert(
      fc.property(pods, modes, variants, (generated, sidecarMode, v) => {
        const pod = variant(generated, v);
        const ctx = context({ sidecarMode });
        const annotations = pod.metadata?.annotations ?? {};
        const first = { ...pod, metadata: { ...pod.metadata, annotations: { ...annotations } } };
        first.metadata.annotations['tandem.dev/inject'] = 'shipper';
        const once = injected(first, policies, ctx);
        const later = structuredClone(once);
        const asked = 'shipper, proxy';
        if (later.metadata?.annotations) later.metadata.annotations['tandem.dev/inject'] = asked;
        const twice = injected(later, policies, ctx);
        const expected = structuredClone(first);
        expected.metadata.annotations['tandem.dev/inject'] = asked;
        t.strictSame(uninjected(twice).pod, expected);
      }),
      { numRuns: 150 },
    );
    t.end();
  },
);

const appPod = (annotations: Record<string, string>): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', annotations },
  spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
});
const SHIPPER = {
  'tandem.dev/inject': 'shipper',
  'shipper.tandem.dev/dest': 'logs.example:24224',
};

t.test('a pod tandem did not inject is left unchanged', (t) => {
  t.strictSame(uninjectPod(appPod(SHIPPER)), { outcome: 'unchanged' });
  t.strictSame(uninjectPod({ spec: { containers: [] } }), { outcome: 'unchanged' });
  t.end();
});

t.test(
  'a pod without metadata, injected by a policy that selects every pod, gets none back',
  (t) => {
    const everyPod = policySet(`
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: everywhere}
spec:
  pattern: sidecar
  selector: {}
  containers: [{name: agent, image: registry.example/agent:1}]
`);
    const bare: V1Pod = { spec: { containers: [{ name: 'app', image: 'nginx' }] } };
    const out = injected(structuredClone(bare), everyPod);
    t.ok(out.metadata?.annotations?.['tandem.dev/status'], 'injected');
    t.strictSame(uninjected(out).pod, bare);
    const nullAnnotations = { metadata: { name: 'x', annotations: null }, spec: bare.spec };
    const back = uninjected(
      injected(structuredClone(nullAnnotations) as unknown as V1Pod, everyPod),
    );
    t.strictSame(back.pod, nullAnnotations, 'annotations: null comes back as null');
    t.end();
  },
);

t.test('the status records what uninject needs, and only what is not empty', (t) => {
  const out = injected(appPod(SHIPPER));
  const status = JSON.parse(out.metadata?.annotations?.['tandem.dev/status'] ?? '') as unknown;
  t.strictSame(status, {
    policies: [
      { name: 'shipper', hash: policies.byName.get('shipper')?.hash, reason: 'annotation' },
    ],
    containers: ['shipper'],
    volumes: ['shipper-logs'],
    undo: {
      made: { volumes: 'absent', initContainers: 'absent' },
      annotations: [
        'example.com/shipped-by',
        'example.com/level',
        'kubectl.kubernetes.io/default-container',
      ],
      app: [
        {
          containers: ['app'],
          env: ['LOG_DIR'],
          mounts: ['/var/log/app'],
          made: { env: 'absent', volumeMounts: 'absent' },
        },
      ],
    },
  });
  t.end();
});

t.test(
  'uninject refuses a status written before the undo record, saying why and what to do',
  (t) => {
    const old = '{"policies":[],"containers":["shipper"],"volumes":[]}';
    const result = uninjectPod(appPod({ ...SHIPPER, 'tandem.dev/status': old }));
    t.equal(result.outcome, 'refused');
    t.match(
      result.outcome === 'refused' ? result.reason : '',
      /^annotation tandem\.dev\/status was written by a tandem older than uninject: .*cannot be taken out exactly; inject the original manifest with this tandem, or remove them by hand$/,
    );
    t.end();
  },
);

t.test('inject still reads a status written before the undo record', (t) => {
  // A pod injected by the previous tandem: no undo record. A new policy is added after
  // its sidecar, and the status written keeps no undo record either, since uninject
  // could not undo the earlier injection from it.
  const before = injected(appPod(SHIPPER));
  const annotations = before.metadata?.annotations ?? {};
  const status = JSON.parse(annotations['tandem.dev/status'] ?? '') as Record<string, unknown>;
  delete status.undo;
  annotations['tandem.dev/status'] = JSON.stringify(status);
  annotations['tandem.dev/inject'] = 'shipper, proxy';
  const after = injectPod(before, policies, context());
  t.equal(after.outcome, 'patched');
  const out = after.outcome === 'patched' ? applyPatch(before, after.patch) : before;
  const written = JSON.parse(out.metadata?.annotations?.['tandem.dev/status'] ?? '') as object;
  t.notOk('undo' in written, 'no undo record claims what it cannot undo');
  t.strictSame(
    (written as { policies: { name: string }[] }).policies.map((p) => p.name),
    ['shipper', 'proxy'],
  );
  t.equal(uninjectPod(out).outcome, 'refused');
  t.end();
});

t.test('uninject refuses a status that is not tandem JSON, as inject does', (t) => {
  for (const [status, message] of [
    ['nope', /not valid JSON/],
    [
      '{"policies":[],"containers":[],"volumes":[],"undo":{"made":{"spec":"x"}}}',
      /not one tandem wrote/,
    ],
    [
      '{"policies":[],"containers":[],"volumes":[],"undo":{"app":[{"containers":["a"],"env":[1]}]}}',
      /not one tandem wrote/,
    ],
    [`{${'x'.repeat(70_000)}`, /is 70001 bytes; tandem reads and writes at most 64 KiB/],
  ] as const) {
    const result = uninjectPod(appPod({ 'tandem.dev/status': status }));
    t.match(result, { outcome: 'refused', reason: message }, status.slice(0, 40));
  }
  t.end();
});

t.test("a sidecar edited after injection is still removed: its name is tandem's", (t) => {
  const out = injected(appPod(SHIPPER));
  const sidecar = out.spec?.initContainers?.[0];
  if (sidecar === undefined) throw new Error('no sidecar');
  sidecar.image = 'registry.example/shipper:9.9';
  sidecar.args = ['--edited'];
  t.strictSame(uninjected(out), { pod: appPod(SHIPPER), warnings: [] });
  t.end();
});

t.test('what the author added after injection stays, in the lists tandem created too', (t) => {
  const out = injected(appPod(SHIPPER));
  const spec = out.spec;
  const app = spec?.containers[0];
  if (spec === undefined || app === undefined) throw new Error('no app');
  app.env?.push({ name: 'MINE', value: '1' });
  spec.volumes?.push({ name: 'cache', emptyDir: {} });
  spec.initContainers?.push({ name: 'migrate', image: 'migrate:1' });
  const back = uninjected(out).pod;
  t.strictSame(back.spec, {
    containers: [{ name: 'app', image: 'nginx:1.27', env: [{ name: 'MINE', value: '1' }] }],
    volumes: [{ name: 'cache', emptyDir: {} }],
    initContainers: [{ name: 'migrate', image: 'migrate:1' }],
  });
  t.end();
});

t.test('something tandem added that is gone already is a warning, not a failure', (t) => {
  const out = injected(appPod(SHIPPER));
  const spec = out.spec;
  if (spec === undefined) throw new Error('no spec');
  spec.initContainers = [];
  delete spec.containers[0]?.env;
  const back = uninjected(out);
  t.strictSame(back.warnings, [
    'tandem.dev/status records env variable "LOG_DIR" in container "app" that tandem added, but the pod no longer has it: nothing to remove',
    'tandem.dev/status records container "shipper" that tandem added, but the pod no longer has it: nothing to remove',
  ]);
  t.strictSame(back.pod.spec, {
    containers: [{ name: 'app', image: 'nginx:1.27' }],
    initContainers: [],
  });
  t.end();
});

t.test(
  'a pod-level figure tandem raised goes back, unless someone changed it since: then it stays, with a warning',
  (t) => {
    const pod = appPod(SHIPPER);
    if (pod.spec) pod.spec.resources = { requests: { cpu: '1', memory: '256Mi' } };
    const out = injected(structuredClone(pod));
    t.strictSame(out.spec?.resources, { requests: { cpu: '1010m', memory: '272Mi' } });
    t.strictSame(uninjected(structuredClone(out)).pod, pod);
    const requests = out.spec?.resources?.requests;
    if (requests) requests.cpu = '3';
    const back = uninjected(out);
    t.strictSame(back.pod.spec?.resources, { requests: { cpu: '3', memory: '256Mi' } });
    t.strictSame(back.warnings, [
      'spec.resources.requests.cpu is "3", not the "1010m" tandem set: kept as it is, rather than set back to "1"',
    ]);
    t.end();
  },
);

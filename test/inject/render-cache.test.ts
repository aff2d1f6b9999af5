import t from 'tap';
import fc from 'fast-check';
import type { V1Pod } from '@kubernetes/client-node';
import { injectPod } from '../../src/inject/engine.ts';
import { createRenderCache, renderKey } from '../../src/inject/render-cache.ts';
import type { LoadedPolicy } from '../../src/policy/compile.ts';
import type { TemplateScope } from '../../src/policy/template.ts';
import { context, policySet } from '../fixtures/policies.ts';

// Every kind of reference a template can make, each in a value that reaches the patch.
const REFERENCING = `
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: echo}
spec:
  pattern: sidecar
  params:
    a: {default: "x", pattern: '[a-z0-9",:]{0,4}'}
    b: {default: "", pattern: '[a-z0-9",:]{0,4}'}
    c: {default: "off", pattern: 'on|off'}
  containers:
    - name: echo
      image: registry.example/echo:1
      args:
        - '{{ params.a }}{{ params.b }}'
        - '{{ pod.namespace }}/{{ pod.name }}'
        - $if: {param: c, equals: "on"}
          $then: [--c]
      env:
        - {name: APP, value: "{{ pod.labels['app'] }}"}
        - {name: TEAM, value: "{{ pod.annotations['example.com/team'] }}"}
  podAnnotations:
    example.com/echo: "{{ params.b }}"
`;

const shared = policySet(REFERENCING);

// Few distinct values, so that generated pods often share inputs (cache hits) and often
// differ in one of them; separators and the empty string included.
const value = fc.constantFrom('', 'a', 'b', 'ab', '"', ':', 'a"', '",');
const optional = fc.option(value, { nil: undefined });

interface Inputs {
  readonly a: string | undefined;
  readonly b: string | undefined;
  readonly c: string | undefined;
  readonly name: string;
  readonly namespace: string;
  readonly app: string | undefined;
  readonly team: string | undefined;
  readonly other: string | undefined;
}

const inputs: fc.Arbitrary<Inputs> = fc.record({
  a: optional,
  b: optional,
  c: fc.option(fc.constantFrom('on', 'off'), { nil: undefined }),
  name: fc.constantFrom('web-1', 'web-2'),
  namespace: fc.constantFrom('default', 'shop'),
  app: optional,
  team: optional,
  // a label no template references: it must not change what is rendered
  other: optional,
});

function set(map: Record<string, string>, key: string, given: string | undefined): void {
  if (given !== undefined) map[key] = given;
}

function podFor(given: Inputs): V1Pod {
  const annotations: Record<string, string> = { 'tandem.dev/inject': 'echo' };
  set(annotations, 'echo.tandem.dev/a', given.a);
  set(annotations, 'echo.tandem.dev/b', given.b);
  set(annotations, 'echo.tandem.dev/c', given.c);
  set(annotations, 'example.com/team', given.team);
  const labels: Record<string, string> = {};
  set(labels, 'app', given.app);
  set(labels, 'unrelated', given.other);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: given.name, namespace: given.namespace, annotations, labels },
    spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] },
  };
}

function answer(pod: V1Pod, given: Inputs, fresh: boolean): unknown {
  const policies = fresh ? policySet(REFERENCING) : shared;
  // JSON: what reaches the apiserver, and independent of object identity.
  return JSON.parse(
    JSON.stringify(injectPod(pod, policies, context({ namespace: given.namespace }))),
  ) as unknown;
}

t.test(
  "the render cache never serves one pod's additions to a pod whose referenced inputs differ",
  (t) => {
    fc.assert(
      fc.property(fc.array(inputs, { minLength: 2, maxLength: 6 }), (sequence) => {
        for (const given of sequence) {
          const pod = podFor(given);
          // A freshly compiled policy set is never in the cache: its answer is rendered anew.
          t.strictSame(answer(pod, given, false), answer(pod, given, true));
        }
      }),
      { numRuns: 150 },
    );
    t.end();
  },
);

function only(text: string): LoadedPolicy {
  const policy = policySet(text).byName.get('echo');
  if (policy === undefined) throw new Error('no echo policy');
  return policy;
}

function scope(params: Record<string, string>, labels: Record<string, string> = {}): TemplateScope {
  return {
    params: new Map(Object.entries(params)),
    namespace: 'default',
    podName: 'web-1',
    labels,
    annotations: {},
  };
}

t.test('the render cache key holds only what the template references', (t) => {
  const policy = only(REFERENCING);
  t.strictSame(
    renderKey(policy, 'native', scope({ a: 'x', b: '' }, { app: 'shop', unrelated: '1' })),
    renderKey(policy, 'native', scope({ a: 'x', b: '' }, { app: 'shop', unrelated: '2' })),
    'a label no template references does not split the key',
  );
  t.not(
    renderKey(policy, 'native', scope({ a: 'x', b: '' })),
    renderKey(policy, 'classic', scope({ a: 'x', b: '' })),
    'the sidecar mode is part of the key',
  );
  t.not(
    renderKey(policy, 'native', scope({ a: 'x","', b: '' })),
    renderKey(policy, 'native', scope({ a: 'x', b: '' })),
    'values holding separators stay apart',
  );
  t.not(
    renderKey(policy, 'native', scope({ a: 'x' }, { app: '' })),
    renderKey(policy, 'native', scope({ a: 'x' }, {})),
    'an empty label and no label stay apart',
  );
  t.not(
    renderKey(policy, 'native', scope({ a: 'x', c: 'on' })),
    renderKey(policy, 'native', scope({ a: 'x', c: 'off' })),
    "a conditional's param is part of the key",
  );
  t.not(
    renderKey(policy, 'native', scope({ a: 'x' })),
    renderKey(only(REFERENCING), 'native', scope({ a: 'x' })),
    'a reloaded policy (a new object) never meets its old renderings',
  );
  t.end();
});

t.test('the render cache holds at most its bound, dropping the oldest entry', (t) => {
  const policy = only(REFERENCING);
  const cache = createRenderCache(2);
  const built: string[] = [];
  const render = (a: string): { a: string } =>
    cache.rendered(policy, 'native', scope({ a }), () => {
      built.push(a);
      return { a };
    });
  render('a');
  render('b');
  render('a');
  render('c');
  render('b');
  render('a');
  t.strictSame(built, ['a', 'b', 'c', 'a'], '"a" was the oldest when "c" came');
  t.strictSame(cache.size, 2);
  t.end();
});

t.test('render cache entries are frozen: a step that edits one throws', (t) => {
  const policy = only(REFERENCING);
  const cache = createRenderCache();
  const entry = cache.rendered(policy, 'native', scope({ a: 'x' }), () => ({
    containers: [{ name: 'echo', env: [{ name: 'A', value: 'x' }] }],
  }));
  t.throws(() => {
    const container = entry.containers[0];
    if (container !== undefined) container.name = 'other';
  }, TypeError);
  t.throws(() => {
    entry.containers[0]?.env.push({ name: 'B', value: 'y' });
  }, TypeError);
  t.end();
});

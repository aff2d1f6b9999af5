/**
 * Where a param's value comes from (issue 11 "set once, by the admin", issue 12 item 4):
 * the pod's annotation, then its namespace's annotation, then the admin's PolicyValues,
 * then the policy's default, each as far as the param's `setBy` allows.
 */
import t, { type Test } from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import { explainPod, injectPod } from '../../src/inject/engine.ts';
import type { ParamSource } from '../../src/inject/params.ts';
import type { InjectResult } from '../../src/inject/types.ts';
import { buildPolicyDirectory } from '../../src/policy/load.ts';
import type { PolicySet } from '../../src/policy/compile.ts';
import { applyPatch, checkPod } from '../fixtures/check-pod.ts';
import { appPod } from '../fixtures/pods.ts';
import { context } from '../fixtures/policies.ts';

// host: anyone may set it (setBy defaults to pod); tag: the admin or a namespace;
// key: the admin alone.
const POLICY = `apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: shipper}
spec:
  pattern: sidecar
  params:
    host: {required: true, pattern: '[a-z.]+', description: A host name., example: logs.example}
    tag: {default: app, pattern: '[a-z]+', setBy: namespace}
    key: {default: none, pattern: '[a-z]+', setBy: cluster}
  containers:
    - name: shipper
      image: registry.example/shipper:1
      env:
        - {name: HOST, value: '{{ params.host }}'}
        - {name: TAG, value: '{{ params.tag }}'}
        - {name: KEY, value: '{{ params.key }}'}
      resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 100m, memory: 64Mi}}
`;

const VALUES = `apiVersion: tandem.dev/v1alpha1
kind: PolicyValues
metadata: {name: cluster}
spec:
  shipper:
    host: cluster.example
    tag: cluster
    key: secret
`;

/** load builds the set as the webhook does, from the policy file and a values file. */
function load(values?: string): PolicySet {
  const files = [{ file: 'shipper.yaml', text: POLICY }];
  if (values !== undefined) files.push({ file: 'values.yaml', text: values });
  const result = buildPolicyDirectory(files);
  if (result.issues.length > 0) throw new Error(JSON.stringify(result.issues));
  return result.set;
}

const WITH_VALUES = load(VALUES);
const WITHOUT_VALUES = load();

function shop(annotations: Record<string, string> = {}) {
  return context({ namespace: 'shop', namespaceAnnotations: annotations });
}

function pod(annotations: Record<string, string> = {}): V1Pod {
  return appPod({ 'tandem.dev/inject': 'shipper', ...annotations });
}

/** env gives the injected container's env as a map: what the values rendered to. */
function env(t: Test, p: V1Pod, result: InjectResult): Record<string, string> {
  if (result.outcome !== 'patched') {
    t.fail(`expected a patch, got ${JSON.stringify(result)}`);
    return {};
  }
  const out = applyPatch(p, result.patch);
  t.strictSame(checkPod(out), [], 'the injected pod passes API server validation');
  const shipper = out.spec?.initContainers?.find((c) => c.name === 'shipper');
  return Object.fromEntries((shipper?.env ?? []).map((e) => [e.name, e.value ?? '']));
}

function denial(result: InjectResult): string {
  return result.outcome === 'denied' ? result.reason : `not denied: ${result.outcome}`;
}

t.test('cluster values fill params the pod does not set, so a pod need only ask', (t) => {
  const p = pod();
  const result = injectPod(p, WITH_VALUES, shop());
  t.strictSame(env(t, p, result), { HOST: 'cluster.example', TAG: 'cluster', KEY: 'secret' });
  t.strictSame(result.warnings, [], 'an admin value is chosen, not a default: no warning');
  t.end();
});

t.test('a required param the cluster values set no longer needs the pod', (t) => {
  t.match(
    denial(injectPod(pod(), WITHOUT_VALUES, shop())),
    /policy "shipper" requires annotation shipper\.tandem\.dev\/host, which the pod does not set/,
  );
  t.equal(injectPod(pod(), WITH_VALUES, shop()).outcome, 'patched');
  t.end();
});

t.test('precedence: pod annotation over namespace annotation over cluster value', (t) => {
  const namespace = shop({
    'shipper.tandem.dev/host': 'ns.example',
    'shipper.tandem.dev/tag': 'ns',
  });
  const fromNamespace = pod();
  t.strictSame(env(t, fromNamespace, injectPod(fromNamespace, WITH_VALUES, namespace)), {
    HOST: 'ns.example',
    TAG: 'ns',
    KEY: 'secret',
  });
  const fromPod = pod({ 'shipper.tandem.dev/host': 'pod.example' });
  t.strictSame(env(t, fromPod, injectPod(fromPod, WITH_VALUES, namespace)), {
    HOST: 'pod.example',
    TAG: 'ns',
    KEY: 'secret',
  });
  t.end();
});

t.test('precedence: a namespace annotation wins over the policy default too', (t) => {
  const p = pod({ 'shipper.tandem.dev/host': 'pod.example' });
  const result = injectPod(p, WITHOUT_VALUES, shop({ 'shipper.tandem.dev/tag': 'ns' }));
  t.strictSame(env(t, p, result), { HOST: 'pod.example', TAG: 'ns', KEY: 'none' });
  t.strictSame(result.warnings, [
    'policy "shipper" uses defaults for params the pod does not set: key=none',
  ]);
  t.end();
});

t.test('setBy namespace: a pod may not set the param, and is denied naming it', (t) => {
  t.strictSame(
    denial(injectPod(pod({ 'shipper.tandem.dev/tag': 'mine' }), WITH_VALUES, shop())),
    'annotation shipper.tandem.dev/tag sets param "tag" of policy "shipper", which only the cluster admin or a namespace annotation may set (setBy: namespace); remove it from the pod',
  );
  t.end();
});

t.test('setBy cluster: neither a pod nor a namespace may set the param', (t) => {
  t.strictSame(
    denial(injectPod(pod({ 'shipper.tandem.dev/key': 'mine' }), WITH_VALUES, shop())),
    'annotation shipper.tandem.dev/key sets param "key" of policy "shipper", which only the cluster admin may set (setBy: cluster); remove it from the pod',
  );
  t.strictSame(
    denial(injectPod(pod(), WITH_VALUES, shop({ 'shipper.tandem.dev/key': 'mine' }))),
    'annotation shipper.tandem.dev/key of namespace "shop" sets param "key" of policy "shipper", which only the cluster admin may set (setBy: cluster); remove it from the namespace',
  );
  t.end();
});

t.test('a namespace value is checked like a pod value, naming the namespace', (t) => {
  t.strictSame(
    denial(injectPod(pod(), WITH_VALUES, shop({ 'shipper.tandem.dev/host': 'Not A Host' }))),
    'annotation shipper.tandem.dev/host of namespace "shop" has value "Not A Host", which policy "shipper" does not accept: it has a space at character 4. Wanted: A host name. Example: logs.example',
  );
  t.end();
});

t.test('namespace annotations apply only to pods of that namespace (the context)', (t) => {
  const p = pod({ 'shipper.tandem.dev/host': 'pod.example' });
  t.strictSame(env(t, p, injectPod(p, WITHOUT_VALUES, context())), {
    HOST: 'pod.example',
    TAG: 'app',
    KEY: 'none',
  });
  t.end();
});

t.test('explain says where each value came from', (t) => {
  const p = pod({ 'shipper.tandem.dev/host': 'pod.example' });
  const explained = explainPod(p, WITH_VALUES, shop({ 'shipper.tandem.dev/tag': 'ns' }));
  const expected: ParamSource[] = [
    {
      name: 'host',
      value: 'pod.example',
      origin: 'pod',
      where: 'annotation shipper.tandem.dev/host',
    },
    {
      name: 'tag',
      value: 'ns',
      origin: 'namespace',
      where: 'annotation shipper.tandem.dev/tag of namespace "shop"',
    },
    { name: 'key', value: 'secret', origin: 'cluster', where: 'cluster values, values.yaml:8' },
  ];
  t.strictSame(explained.params?.get('shipper'), expected);
  const defaults = explainPod(p, WITHOUT_VALUES, shop());
  t.strictSame(
    defaults.params?.get('shipper')?.map((s) => `${s.name}:${s.origin}`),
    ['host:pod', 'tag:default', 'key:default'],
  );
  t.end();
});

t.test(
  'a required param with setBy cluster that the values do not set names where to set it',
  (t) => {
    const policy = POLICY.replace(
      "host: {required: true, pattern: '[a-z.]+',",
      "host: {required: true, setBy: cluster, pattern: '[a-z.]+',",
    );
    const result = buildPolicyDirectory([{ file: 'shipper.yaml', text: policy }]);
    t.strictSame(result.issues, []);
    t.strictSame(
      denial(injectPod(pod(), result.set, shop())),
      'policy "shipper" requires param "host", which the cluster values do not set (a PolicyValues document beside the policies)',
    );
    t.end();
  },
);

import t, { type Test } from 'tap';
import type { V1Pod, V1ResourceRequirements } from '@kubernetes/client-node';
import { injectPod } from '../../src/inject/engine.ts';
import type { InjectResult } from '../../src/inject/types.ts';
import { applyPatch, checkPod } from '../fixtures/check-pod.ts';
import { appPod } from '../fixtures/pods.ts';
import { context, policySet } from '../fixtures/policies.ts';

const policies = policySet(`
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: side}
spec:
  pattern: sidecar
  containers:
    - name: side
      image: registry.example/side:1
      resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 100m, memory: 64Mi}}
---
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: prepared}
spec:
  pattern: ambassador
  initContainers:
    - name: prep
      image: registry.example/prep:1
      resources: {requests: {cpu: 300m}, limits: {cpu: 300m}}
  containers:
    - name: proxy
      image: registry.example/proxy:1
      resources: {limits: {cpu: 50m, memory: 1Gi}}
`);

function podWith(
  inject: string,
  pod: V1ResourceRequirements,
  app: V1ResourceRequirements = { requests: { cpu: '400m', memory: '200Mi' } },
): V1Pod {
  const out = appPod({ 'tandem.dev/inject': inject });
  if (out.spec?.containers[0]) {
    out.spec.resources = pod;
    out.spec.containers[0].resources = app;
  }
  return out;
}

function injected(t: Test, pod: V1Pod, mode: 'native' | 'classic' = 'native') {
  const result: InjectResult = injectPod(pod, policies, context({ sidecarMode: mode }));
  if (result.outcome !== 'patched') {
    t.fail(`expected a patch, got ${JSON.stringify(result)}`);
    return { pod, warnings: [] as readonly string[] };
  }
  const out = applyPatch(pod, result.patch);
  t.strictSame(checkPod(out), [], 'the API server accepts the pod');
  t.strictSame(injectPod(out, policies, context({ sidecarMode: mode })).outcome, 'unchanged');
  return { pod: out, warnings: result.warnings };
}

t.test(
  'pod-level resources are raised by exactly what tandem adds, so the API server accepts the pod',
  (t) => {
    for (const mode of ['native', 'classic'] as const) {
      const pod = podWith('side', {
        requests: { cpu: '500m', memory: '256Mi' },
        limits: { cpu: '1', memory: '512Mi' },
      });
      const out = injected(t, pod, mode);
      t.strictSame(
        out.pod.spec?.resources,
        { requests: { cpu: '510m', memory: '272Mi' }, limits: { cpu: '1100m', memory: '576Mi' } },
        mode,
      );
      t.strictSame(out.warnings, [
        'pod-level resources (spec.resources) raised by what tandem adds: requests cpu 500m to 510m, limits cpu 1 to 1100m, requests memory 256Mi to 272Mi, limits memory 512Mi to 576Mi',
      ]);
    }
    t.end();
  },
);

t.test(
  'an injected init container counts as the API server counts it: alone, beside the sidecars before it',
  (t) => {
    // Before: the app's 400m. After: the proxy runs beside the app (450m); prep runs alone
    // before the proxy starts (300m). The pod needs 50m more, not 350m.
    const out = injected(t, podWith('prepared', { requests: { cpu: '500m' } }));
    t.strictSame(out.pod.spec?.resources, { requests: { cpu: '550m' } });
    t.end();
  },
);

t.test(
  'a sidecar with only limits counts its limits as requests, as the API server defaults them',
  (t) => {
    const out = injected(
      t,
      podWith('prepared', { requests: { memory: '1Gi' }, limits: { memory: '2Gi' } }, {}),
    );
    t.strictSame(out.pod.spec?.resources, {
      requests: { memory: '2Gi' },
      limits: { memory: '3Gi' },
    });
    t.end();
  },
);

t.test('a pod with only limits keeps room for the requests the API server will default', (t) => {
  // The API server defaults the pod-level request to the containers' aggregate (400m +
  // 10m); the limit grows by the sidecar's limit and stays above it.
  for (const mode of ['native', 'classic'] as const) {
    const out = injected(t, podWith('side', { limits: { cpu: '405m', memory: '512Mi' } }), mode);
    t.strictSame(out.pod.spec?.resources, { limits: { cpu: '505m', memory: '576Mi' } }, mode);
  }
  t.end();
});

t.test(
  'a resource the pod does not budget is left alone, and a pod without a budget gets none',
  (t) => {
    const cpuOnly = injected(t, podWith('side', { requests: { cpu: '2' } }));
    t.strictSame(cpuOnly.pod.spec?.resources, { requests: { cpu: '2010m' } });
    const plain = appPod({ 'tandem.dev/inject': 'side' });
    const out = injected(t, plain);
    t.strictSame(out.pod.spec?.resources, undefined);
    t.strictSame(out.warnings, []);
    t.end();
  },
);

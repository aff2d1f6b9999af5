import type { V1Pod } from '@kubernetes/client-node';
import fastJsonPatch from 'fast-json-patch';
import t from 'tap';
import { injectPod } from '../../src/inject/engine.ts';
import { parsePolicyText } from '../../src/policy/load.ts';
import { appPod } from '../fixtures/pods.ts';
import { context, policySet } from '../fixtures/policies.ts';

const POLICY = `
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: shipper}
spec:
  pattern: sidecar
  containers:
    - name: shipper
      image: busybox:1.37.0
      volumeMounts: [{name: logs, mountPath: /logs, readOnly: true}]
  volumes:
    - {name: logs, emptyDir: {}}
  appContainer:
    volumeMounts:
      - {name: logs, mountPath: /var/log/app, subPath: '{{ container.name }}'}
    env:
      - {name: LOG_SOURCE, value: '{{ pod.namespace }}/{{ container.name }}'}
`;

function twoContainerPod(): V1Pod {
  const pod = appPod({ 'tandem.dev/inject': 'shipper' });
  pod.spec?.containers.push({ name: 'worker', image: 'registry.example/worker:1.0' });
  return pod;
}

t.test('container.name renders appContainer once for each target container', (t) => {
  const pod = twoContainerPod();
  const result = injectPod(pod, policySet(POLICY), context());
  if (result.outcome !== 'patched') throw new Error(`not patched: ${JSON.stringify(result)}`);
  const patched = fastJsonPatch.applyPatch(pod, result.patch, true, false).newDocument;
  const app = patched.spec?.containers.map((c) => ({ mounts: c.volumeMounts, env: c.env }));
  t.strictSame(app, [
    {
      mounts: [{ name: 'logs', mountPath: '/var/log/app', subPath: 'app' }],
      env: [{ name: 'LOG_SOURCE', value: 'default/app' }],
    },
    {
      mounts: [{ name: 'logs', mountPath: '/var/log/app', subPath: 'worker' }],
      env: [{ name: 'LOG_SOURCE', value: 'default/worker' }],
    },
  ]);
  t.end();
});

t.test('container.name outside appContainer is a load error naming the field', (t) => {
  const text = POLICY.replace('image: busybox:1.37.0', "image: 'busybox:{{ container.name }}'");
  const issues = parsePolicyText('shipper.yaml', text).issues.map(
    (issue) => `${issue.line} ${issue.fieldPath}: ${issue.message}`,
  );
  t.strictSame(issues, [
    '9 spec.containers[0].image: container.name is the target app container, known only in appContainer (rendered for each one)',
  ]);
  t.end();
});

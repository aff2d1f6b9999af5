/**
 * Issue 10 case 1: `tandem.dev/status` is text the pod's author can write. A policy counts
 * as already injected only when what it adds is really in the pod; any other claim is not
 * trusted, and the answer says so in a warning.
 */
import t, { type Test } from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import { explainPod, injectPod } from '../../src/inject/engine.ts';
import type { InjectResult } from '../../src/inject/types.ts';
import { applyPatch, checkPod } from '../fixtures/check-pod.ts';
import { appPod } from '../fixtures/pods.ts';
import { context, policySet } from '../fixtures/policies.ts';
import { TEST_POLICIES } from '../fixtures/test-policies.ts';

const policies = policySet(TEST_POLICIES);
const SHIPPER = {
  'tandem.dev/inject': 'shipper',
  'shipper.tandem.dev/dest': 'logs.example:24224',
  'shipper.tandem.dev/level': 'info',
};
const HASH = policies.byName.get('shipper')?.hash ?? '';

function run(pod: V1Pod): InjectResult {
  return injectPod(pod, policies, context());
}

function patched(t: Test, result: InjectResult, pod: V1Pod): V1Pod {
  if (result.outcome !== 'patched') {
    t.fail(`expected a patch, got ${JSON.stringify(result)}`);
    return pod;
  }
  const out = applyPatch(pod, result.patch);
  t.strictSame(checkPod(out), [], 'the injected pod passes API server validation');
  return out;
}

function status(policy: string, hash: string, containers: string[], volumes: string[]): string {
  return JSON.stringify({
    policies: [{ name: policy, hash, reason: 'annotation' }],
    containers,
    volumes,
  });
}

/** injected returns a pod that tandem really injected with shipper. */
function injected(t: Test): V1Pod {
  const pod = appPod(SHIPPER);
  return patched(t, run(pod), pod);
}

t.test(
  'a status claiming a policy whose containers the pod lacks does not skip it: the policy is injected, with a warning',
  (t) => {
    for (const hash of [HASH, 'not-the-hash']) {
      const pod = appPod({ ...SHIPPER, 'tandem.dev/status': status('shipper', hash, [], []) });
      const result = run(pod);
      const out = patched(t, result, pod);
      t.strictSame(
        out.spec?.initContainers?.map((c) => c.name),
        ['shipper'],
        `hash ${hash}`,
      );
      t.strictSame(
        result.warnings,
        [
          'annotation tandem.dev/status says policy "shipper" was injected, but the pod has no container "shipper": not trusted',
        ],
        'and never that the policy "changed since this pod was injected"',
      );
      t.strictSame(
        JSON.parse(out.metadata?.annotations?.['tandem.dev/status'] ?? ''),
        {
          policies: [{ name: 'shipper', hash: HASH, reason: 'annotation' }],
          containers: ['shipper'],
          volumes: ['shipper-logs'],
          // Nothing of the forged status is kept, so the record of this injection is whole.
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
        },
        'the status is rewritten to what is in the pod',
      );
    }
    t.end();
  },
);

t.test(
  "a status that lists one of the author's containers does not strip it of the app-side env",
  (t) => {
    const pod = appPod({
      ...SHIPPER,
      'tandem.dev/status': JSON.stringify({ policies: [], containers: ['app'], volumes: [] }),
    });
    const result = run(pod);
    const out = patched(t, result, pod);
    t.strictSame(out.spec?.containers[0]?.env, [{ name: 'LOG_DIR', value: '/var/log/app' }]);
    t.strictSame(out.spec?.containers[0]?.volumeMounts, [
      { name: 'shipper-logs', mountPath: '/var/log/app' },
    ]);
    t.strictSame(result.warnings, [
      'annotation tandem.dev/status claims container "app" for tandem, but no policy it lists adds it: counted as the pod\'s own',
    ]);
    t.end();
  },
);

t.test(
  'a status is trusted for a policy whose containers and volumes are in the pod with their images',
  (t) => {
    const out = injected(t);
    t.strictSame(run(out), { outcome: 'unchanged', warnings: [] });
    t.strictSame(
      explainPod(out, policies, context()).decisions[0],
      {
        policy: 'shipper',
        decision: 'already-injected',
        reason: 'tandem.dev/status lists it already',
      },
      'explain says it is already injected',
    );
    t.end();
  },
);

t.test(
  'while the policy is the version the status records, its container must run the same image',
  (t) => {
    const out = injected(t);
    const sidecar = out.spec?.initContainers?.[0];
    if (sidecar) sidecar.image = 'registry.example/evil:1';
    const result = run(out);
    t.strictSame(result, {
      outcome: 'denied',
      code: 'NameClash',
      policy: 'shipper',
      reason:
        'policy "shipper" adds container "shipper", but a container of that name exists (the pod\'s author wrote it)',
      warnings: [
        'annotation tandem.dev/status says policy "shipper" was injected, but container "shipper" runs image "registry.example/evil:1", not "registry.example/shipper:2.1": not trusted',
        'annotation tandem.dev/status claims container "shipper", volume "shipper-logs" for tandem, but no policy it lists adds them: counted as the pod\'s own',
      ],
    });
    t.end();
  },
);

t.test(
  'a policy that changed since injection is judged by names: the pod keeps its version, with a warning',
  (t) => {
    const out = injected(t);
    const annotations = out.metadata?.annotations ?? {};
    annotations['tandem.dev/status'] = status(
      'shipper',
      'an-older-hash',
      ['shipper'],
      ['shipper-logs'],
    );
    const sidecar = out.spec?.initContainers?.[0];
    if (sidecar) sidecar.image = 'registry.example/shipper:2.0';
    t.strictSame(run(out), {
      outcome: 'unchanged',
      warnings: [
        'policy "shipper" changed since this pod was injected; the pod keeps the version it has',
      ],
    });
    t.end();
  },
);

t.test(
  'a status must list the containers and volumes it says a policy added, and the pod must have them',
  (t) => {
    const cases: [string[], string[], string][] = [
      [[], ['shipper-logs'], 'it does not list container "shipper"'],
      [['shipper'], [], 'it does not list volume "shipper-logs"'],
    ];
    for (const [containers, volumes, why] of cases) {
      const out = injected(t);
      const annotations = out.metadata?.annotations ?? {};
      annotations['tandem.dev/status'] = status('shipper', HASH, containers, volumes);
      t.match(
        run(out).warnings[0],
        `annotation tandem.dev/status says policy "shipper" was injected, but ${why}: not trusted`,
      );
    }
    const noVolume = injected(t);
    if (noVolume.spec) noVolume.spec.volumes = [];
    t.match(run(noVolume).warnings[0], 'but the pod has no volume "shipper-logs": not trusted');
    t.end();
  },
);

t.test(
  "a status naming a policy that is not loaded is not trusted: its containers count as the author's",
  (t) => {
    const pod = appPod({
      ...SHIPPER,
      'tandem.dev/status': status('ghost', 'x', ['app'], []),
    });
    const result = run(pod);
    const out = patched(t, result, pod);
    t.strictSame(out.spec?.containers[0]?.env, [{ name: 'LOG_DIR', value: '/var/log/app' }]);
    t.strictSame(result.warnings, [
      'annotation tandem.dev/status says policy "ghost" was injected, but no such policy is loaded, so what it added cannot be checked: not trusted',
      'annotation tandem.dev/status claims container "app" for tandem, but no policy it lists adds it: counted as the pod\'s own',
    ]);
    t.end();
  },
);

t.test(
  "a status that is not tandem's shape still denies the pod: nothing in it can be read",
  (t) => {
    t.match(run(appPod({ ...SHIPPER, 'tandem.dev/status': '{"policies":"all"}' })), {
      outcome: 'denied',
      code: 'StatusInvalid',
      reason: /tandem\.dev\/status is not one tandem wrote/,
    });
    t.end();
  },
);

t.test(
  "a policy with a templated image is checked against what it renders for the pod's params",
  (t) => {
    const versioned = policySet(`
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: agent}
spec:
  pattern: sidecar
  params:
    version: {required: true, pattern: '[0-9]+'}
  containers: [{name: agent, image: 'registry.example/agent:{{ params.version }}'}]
`);
    const ask = { 'tandem.dev/inject': 'agent', 'agent.tandem.dev/version': '1' };
    const pod = appPod(ask);
    const first = injectPod(pod, versioned, context());
    const out = patched(t, first, pod);
    t.strictSame(injectPod(out, versioned, context()), { outcome: 'unchanged', warnings: [] });

    const annotations = out.metadata?.annotations ?? {};
    annotations['agent.tandem.dev/version'] = '2';
    t.strictSame(
      injectPod(out, versioned, context()).warnings[0],
      'annotation tandem.dev/status says policy "agent" was injected, but container "agent" runs image "registry.example/agent:1", not "registry.example/agent:2": not trusted',
    );
    annotations['agent.tandem.dev/version'] = 'x';
    t.match(
      injectPod(out, versioned, context()).warnings[0],
      /^annotation tandem\.dev\/status says policy "agent" was injected, but annotation agent\.tandem\.dev\/version has value "x", which policy "agent" does not accept/,
    );
    t.end();
  },
);

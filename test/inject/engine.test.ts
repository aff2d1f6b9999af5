import t, { type Test } from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import { injectPod } from '../../src/inject/engine.ts';
import type { InjectContext, InjectResult } from '../../src/inject/types.ts';
import { applyPatch, checkPod } from '../fixtures/check-pod.ts';
import { appPod } from '../fixtures/pods.ts';
import { context, policySet } from '../fixtures/policies.ts';
import { TEST_POLICIES } from '../fixtures/test-policies.ts';

const policies = policySet(TEST_POLICIES);
const SHIPPER = { 'tandem.dev/inject': 'shipper', 'shipper.tandem.dev/dest': 'logs.example:24224' };

function patched(t: Test, result: InjectResult, pod: V1Pod): V1Pod {
  if (result.outcome !== 'patched') {
    t.fail(`expected a patch, got ${JSON.stringify(result)}`);
    return pod;
  }
  const out = applyPatch(pod, result.patch);
  t.strictSame(checkPod(out), [], 'the injected pod passes API server validation');
  return out;
}

function run(pod: V1Pod, overrides: Partial<InjectContext> = {}): InjectResult {
  return injectPod(pod, policies, context(overrides));
}

/** denial is `Code: message`, so a test decides by the stable code and reads the message. */
function denial(result: InjectResult): string {
  return result.outcome === 'denied'
    ? `${result.code}: ${result.reason}`
    : `not denied: ${result.outcome}`;
}

t.test('leaves a pod that asks for nothing and matches no selector unchanged', (t) => {
  t.strictSame(run(appPod()), { outcome: 'unchanged', warnings: [] });
  t.end();
});

t.test('injects requested policies in annotation order, then automatic ones by selector', (t) => {
  const pod = appPod({ ...SHIPPER, 'tandem.dev/inject': 'proxy, shipper' }, { mesh: 'enabled' });
  const result = run(pod);
  const out = patched(t, result, pod);
  t.strictSame(
    result.outcome === 'patched' ? result.injected.map((p) => `${p.name}:${p.reason}`) : [],
    ['proxy:annotation', 'shipper:annotation', 'mesh:selector'],
  );
  t.strictSame(
    out.spec?.initContainers?.map((c) => c.name),
    ['proxy-config', 'proxy', 'shipper', 'mesh-agent'],
  );
  t.end();
});

t.test('opting out with false or none turns off automatic policies', (t) => {
  for (const value of ['false', 'none', ' None ']) {
    t.strictSame(
      run(appPod({ 'tandem.dev/inject': value }, { mesh: 'enabled' })).outcome,
      'unchanged',
      value,
    );
  }
  t.end();
});

t.test(
  "native sidecars are init containers with restartPolicy Always, ahead of the pod's own",
  (t) => {
    const pod = appPod(SHIPPER);
    if (pod.spec === undefined) throw new Error('appPod has a spec');
    pod.spec.initContainers = [{ name: 'migrate', image: 'registry.example/migrate:1' }];
    const out = patched(t, run(pod), pod);
    t.strictSame(
      out.spec?.initContainers?.map((c) => [c.name, c.restartPolicy]),
      [
        ['shipper', 'Always'],
        ['migrate', undefined],
      ],
    );
    t.strictSame(
      out.spec?.containers.map((c) => c.name),
      ['app'],
    );
    t.end();
  },
);

t.test(
  'inserting before existing init containers is a single add at index 0, not a cascade',
  (t) => {
    const pod = appPod(SHIPPER);
    if (pod.spec)
      pod.spec.initContainers = [{ name: 'migrate', image: 'registry.example/migrate:1' }];
    const result = run(pod);
    const ops =
      result.outcome === 'patched'
        ? result.patch.filter((op) => op.path.startsWith('/spec/initContainers'))
        : [];
    t.strictSame(
      ops.map((op) => `${op.op} ${op.path}`),
      ['add /spec/initContainers/0'],
    );
    t.end();
  },
);

t.test(
  'classic mode appends sidecars to containers; so does a cluster without native sidecars',
  (t) => {
    for (const overrides of [
      { sidecarMode: 'classic' as const },
      { nativeSidecarsSupported: false },
    ]) {
      const pod = appPod(SHIPPER);
      const out = patched(t, run(pod, overrides), pod);
      t.strictSame(
        out.spec?.containers.map((c) => c.name),
        ['app', 'shipper'],
      );
      t.equal(out.spec?.containers[1]?.restartPolicy, undefined);
      t.strictSame(out.spec?.initContainers, undefined);
    }
    t.end();
  },
);

t.test("restricted defaults go under the policy's own securityContext", (t) => {
  const pod = appPod({ 'tandem.dev/inject': 'proxy' });
  const out = patched(t, run(pod), pod);
  const proxy = out.spec?.initContainers?.find((c) => c.name === 'proxy');
  t.strictSame(proxy?.securityContext, {
    allowPrivilegeEscalation: false,
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
    runAsUser: 1000,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  });
  t.end();
});

t.test(
  'params come from annotations, are substituted as data, and integer params render as numbers',
  (t) => {
    const pod = appPod({ 'tandem.dev/inject': 'proxy', 'proxy.tandem.dev/port': '7100' });
    const out = patched(t, run(pod), pod);
    const proxy = out.spec?.initContainers?.find((c) => c.name === 'proxy');
    t.strictSame(proxy?.ports, [{ name: 'proxy', containerPort: 7100 }]);
    t.strictSame(proxy?.startupProbe?.tcpSocket?.port, 7100);
    t.strictSame(
      proxy?.env,
      [{ name: 'PROXY_PORT', value: '7100' }],
      'but stay strings where Kubernetes wants one',
    );
    t.end();
  },
);

t.test('a param that falls back to its default is reported as a warning', (t) => {
  const result = run(appPod(SHIPPER));
  t.match(
    result.warnings.join('\n'),
    /policy "shipper" uses defaults for params the pod does not set: level=info/,
  );
  t.end();
});

t.test('pod fields in templates are rendered one string at a time', (t) => {
  const pod = appPod(SHIPPER, { app: 'x", "injected": "y' });
  const out = patched(t, run(pod), pod);
  const shipper = out.spec?.initContainers?.[0];
  t.strictSame(shipper?.env, [{ name: 'APP', value: 'x", "injected": "y' }]);
  t.strictSame(shipper?.args, ['--to=logs.example:24224', '--level=info', '--pod=default/web']);
  t.end();
});

t.test("app containers get the policy's mounts and env, creating absent arrays", (t) => {
  const pod = appPod(SHIPPER);
  const out = patched(t, run(pod), pod);
  t.strictSame(out.spec?.containers[0]?.volumeMounts, [
    { name: 'shipper-logs', mountPath: '/var/log/app' },
  ]);
  t.strictSame(out.spec?.containers[0]?.env, [{ name: 'LOG_DIR', value: '/var/log/app' }]);
  t.end();
});

t.test(
  'tandem.dev/target-containers limits the app-side mounts and env to the named containers',
  (t) => {
    const pod = appPod({ ...SHIPPER, 'tandem.dev/target-containers': 'worker' });
    pod.spec?.containers.push({
      name: 'worker',
      image: 'registry.example/worker:1',
      env: [{ name: 'A', value: '1' }],
    });
    const result = run(pod);
    const out = patched(t, result, pod);
    t.strictSame(out.spec?.containers[0]?.env, undefined);
    t.strictSame(out.spec?.containers[1]?.env, [
      { name: 'A', value: '1' },
      { name: 'LOG_DIR', value: '/var/log/app' },
    ]);
    const envOps =
      result.outcome === 'patched' ? result.patch.filter((op) => op.path.includes('/env')) : [];
    t.strictSame(
      envOps.map((op) => `${op.op} ${op.path}`),
      ['add /spec/containers/1/env/-'],
      'appends to an existing array',
    );
    t.end();
  },
);

t.test("an env var the author set keeps the author's value, with a warning", (t) => {
  const pod = appPod(SHIPPER);
  if (pod.spec?.containers[0]) pod.spec.containers[0].env = [{ name: 'LOG_DIR', value: '/mine' }];
  const result = run(pod);
  const out = patched(t, result, pod);
  t.strictSame(out.spec?.containers[0]?.env, [{ name: 'LOG_DIR', value: '/mine' }]);
  t.match(result.warnings.join('\n'), /keeps its own env LOG_DIR/);
  t.end();
});

t.test('escapes ~ and / in JSON Pointers and creates the annotations map when absent', (t) => {
  const pod = appPod(SHIPPER);
  const result = run(pod);
  const paths = result.outcome === 'patched' ? result.patch.map((op) => op.path) : [];
  t.ok(paths.includes('/metadata/annotations/tandem.dev~1status'));
  const bare: V1Pod = {
    metadata: { labels: { mesh: 'enabled' } },
    spec: { containers: [{ name: 'app', image: 'a:1' }] },
  };
  const again = run(bare);
  const first = again.outcome === 'patched' ? again.patch[0] : undefined;
  t.strictSame([first?.op, first?.path], ['add', '/metadata/annotations']);
  patched(t, again, bare);
  t.end();
});

t.test(
  "sets kubectl default-container to the app's first container when absent, never over the author's",
  (t) => {
    const out = patched(t, run(appPod(SHIPPER)), appPod(SHIPPER));
    t.equal(out.metadata?.annotations?.['kubectl.kubernetes.io/default-container'], 'app');
    const mine = appPod({ ...SHIPPER, 'kubectl.kubernetes.io/default-container': 'other' });
    const kept = patched(t, run(mine), mine);
    t.equal(kept.metadata?.annotations?.['kubectl.kubernetes.io/default-container'], 'other');
    t.end();
  },
);

t.test('is idempotent: a second run over the injected pod adds nothing', (t) => {
  for (const mode of ['native', 'classic'] as const) {
    const pod = appPod({ ...SHIPPER, 'tandem.dev/inject': 'shipper,proxy' }, { mesh: 'enabled' });
    const out = patched(t, run(pod, { sidecarMode: mode }), pod);
    t.strictSame(run(out, { sidecarMode: mode }), { outcome: 'unchanged', warnings: [] }, mode);
  }
  t.end();
});

t.test(
  'a policy added to the annotation later is injected after the earlier ones, into app containers only',
  (t) => {
    const pod = appPod({ 'tandem.dev/inject': 'proxy' });
    const first = patched(t, run(pod, { sidecarMode: 'classic' }), pod);
    if (first.metadata?.annotations)
      Object.assign(first.metadata.annotations, SHIPPER, { 'tandem.dev/inject': 'proxy,shipper' });
    const second = patched(t, run(first, { sidecarMode: 'classic' }), first);
    t.strictSame(
      second.spec?.initContainers?.map((c) => c.name),
      ['proxy-config'],
    );
    t.strictSame(
      second.spec?.containers.map((c) => c.name),
      ['app', 'proxy', 'shipper'],
    );
    t.strictSame(
      second.spec?.containers[1]?.env,
      [{ name: 'PROXY_PORT', value: '7000' }],
      'the earlier sidecar is not an app container: it gains no LOG_DIR',
    );
    const status = JSON.parse(second.metadata?.annotations?.['tandem.dev/status'] ?? '{}') as {
      policies: { name: string }[];
    };
    t.strictSame(
      status.policies.map((p) => p.name),
      ['proxy', 'shipper'],
    );
    t.end();
  },
);

t.test('denies a pod that requests an unknown policy, naming the annotation', (t) => {
  t.match(
    denial(run(appPod({ 'tandem.dev/inject': 'shipper,nope' }))),
    /^UnknownPolicy: tandem\.dev\/inject requests policy "nope", which does not exist/,
  );
  t.end();
});

t.test('denies a missing required param, naming the annotation to set', (t) => {
  t.match(
    denial(run(appPod({ 'tandem.dev/inject': 'shipper' }))),
    /^ParamMissing: .*requires annotation shipper\.tandem\.dev\/dest/,
  );
  t.end();
});

t.test('denies a param value that does not match its pattern, naming the annotation', (t) => {
  for (const value of ['$(rm -rf /):1', 'a:1\nb', 'logs.example:24224,evil:1']) {
    const reason = denial(run(appPod({ ...SHIPPER, 'shipper.tandem.dev/dest': value })));
    t.match(
      reason,
      /^ParamInvalid: annotation shipper\.tandem\.dev\/dest has value .* which policy "shipper" does not accept/,
      value,
    );
  }
  t.match(
    denial(run(appPod({ 'tandem.dev/inject': 'proxy', 'proxy.tandem.dev/port': '12a' }))),
    /^ParamInvalid: .*proxy\.tandem\.dev\/port/,
  );
  t.end();
});

t.test('warns about a param annotation the policy does not declare', (t) => {
  const result = run(appPod({ ...SHIPPER, 'shipper.tandem.dev/dset': 'x' }));
  t.match(
    result.warnings.join('\n'),
    /"shipper\.tandem\.dev\/dset" is not a param of policy "shipper"/,
  );
  t.end();
});

t.test('denies a name clash with a container or volume the author wrote', (t) => {
  const pod = appPod(SHIPPER);
  pod.spec?.containers.push({ name: 'shipper', image: 'mine:1' });
  t.match(
    denial(run(pod)),
    /^NameClash: .*adds container "shipper", but a container of that name exists \(the pod's author wrote it\)/,
  );
  const withVolume = appPod(SHIPPER);
  if (withVolume.spec) withVolume.spec.volumes = [{ name: 'shipper-logs', emptyDir: {} }];
  t.match(denial(run(withVolume)), /^NameClash: .*adds volume "shipper-logs"/);
  t.end();
});

t.test('denies a mount path the app container already uses', (t) => {
  const pod = appPod(SHIPPER);
  if (pod.spec?.containers[0])
    pod.spec.containers[0].volumeMounts = [{ name: 'x', mountPath: '/var/log/app' }];
  if (pod.spec) pod.spec.volumes = [{ name: 'x', emptyDir: {} }];
  t.match(
    denial(run(pod)),
    /^MountClash: .*mounts \/var\/log\/app in container "app", which already has a mount there/,
  );
  t.end();
});

t.test(
  'denies a requested policy the namespace may not use; an automatic one just does not apply',
  (t) => {
    t.match(
      denial(run(appPod({ 'tandem.dev/inject': 'prod-only' }))),
      /^NamespaceNotAllowed: .*namespace "default" may not use/,
    );
    const prod = { namespace: 'shop', namespaceLabels: { env: 'prod' } };
    const out = patched(
      t,
      run(appPod({ 'tandem.dev/inject': 'prod-only' }), prod),
      appPod({ 'tandem.dev/inject': 'prod-only' }),
    );
    t.ok(out.spec?.initContainers?.some((c) => c.name === 'prod-adapter'));
    t.end();
  },
);

t.test('denies unknown target containers and a forged status annotation', (t) => {
  t.match(
    denial(run(appPod({ ...SHIPPER, 'tandem.dev/target-containers': 'ghost' }))),
    /^TargetContainerUnknown: .*tandem\.dev\/target-containers names container "ghost"/,
  );
  t.match(
    denial(run(appPod({ ...SHIPPER, 'tandem.dev/status': '{"policies":"all"}' }))),
    /^StatusInvalid: .*tandem\.dev\/status is not one tandem wrote/,
  );
  t.match(
    denial(run(appPod({ ...SHIPPER, 'tandem.dev/status': 'nope' }))),
    /^StatusInvalid: .*not valid JSON/,
  );
  t.end();
});

t.test('a pod created by a controller has no name yet: pod.name renders its generateName', (t) => {
  const pod = appPod(SHIPPER);
  if (pod.metadata) {
    delete pod.metadata.name;
    pod.metadata.generateName = 'web-7d4b9c-';
  }
  const out = patched(t, run(pod), pod);
  t.strictSame(out.spec?.initContainers?.[0]?.args?.[2], '--pod=default/web-7d4b9c-');
  t.end();
});

t.test(
  'a status that names containers the pod lacks is not trusted: the policy is injected, with a warning',
  (t) => {
    const forged = JSON.stringify({
      policies: [{ name: 'shipper', hash: 'x', reason: 'annotation' }],
      containers: ['shipper'],
      volumes: ['shipper-logs'],
    });
    const pod = appPod({ ...SHIPPER, 'tandem.dev/status': forged });
    const result = run(pod);
    const out = patched(t, result, pod);
    t.strictSame(
      out.spec?.initContainers?.map((c) => c.name),
      ['shipper'],
    );
    t.strictSame(result.warnings.slice(0, 2), [
      'annotation tandem.dev/status says policy "shipper" was injected, but the pod has no container "shipper": not trusted',
      'annotation tandem.dev/status claims container "shipper", volume "shipper-logs" for tandem, but no policy it lists adds them: counted as the pod\'s own',
    ]);
    t.end();
  },
);

t.test('a Windows pod is denied a requested policy; automatic ones just do not apply', (t) => {
  const requested = appPod(SHIPPER);
  if (requested.spec) requested.spec.os = { name: 'windows' };
  t.match(denial(run(requested)), /^WindowsPod: .*Windows pod/);
  const labelled = appPod({}, { mesh: 'enabled' });
  if (labelled.spec) labelled.spec.os = { name: 'windows' };
  t.strictSame(run(labelled), { outcome: 'unchanged', warnings: [] });
  t.end();
});

t.test('denies a sidecar port the pod already uses, naming both containers', (t) => {
  const pod = appPod({ 'tandem.dev/inject': 'proxy', 'proxy.tandem.dev/port': '8080' });
  t.match(
    denial(run(pod)),
    /^PortClash: policy "proxy": port "proxy" of container "proxy" would listen on 8080\/TCP, where port "http" of container "app" of the pod already listens/,
  );
  t.end();
});

t.test('denies a rendered port outside 1-65535', (t) => {
  const pod = appPod({ 'tandem.dev/inject': 'proxy', 'proxy.tandem.dev/port': '70000' });
  t.match(denial(run(pod)), /^PortOutOfRange: .*would listen on port 70000, outside 1-65535/);
  t.end();
});

t.test('denies two mounts meeting at one path, and a mount of a volume nobody adds', (t) => {
  const clash = policySet(`
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: twice}
spec:
  pattern: sidecar
  volumes: [{name: one, emptyDir: {}}, {name: two, emptyDir: {}}]
  containers:
    - name: twice
      image: registry.example/x:1
      volumeMounts: [{name: one, mountPath: /a}, {name: two, mountPath: /a/}]
---
apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: orphan}
spec:
  pattern: sidecar
  containers:
    - name: orphan
      image: registry.example/x:1
      volumeMounts: [{name: nowhere, mountPath: /n}]
`);
  const result = injectPod(appPod({ 'tandem.dev/inject': 'twice' }), clash, context());
  t.match(denial(result), /^MountClash: policy "twice": container "twice" would mount \/a twice/);
  const apart = injectPod(appPod({ 'tandem.dev/inject': 'orphan' }), clash, context());
  t.match(
    denial(apart),
    /^VolumeMissing: .*container "orphan" mounts volume "nowhere", which neither the pod nor a policy adds/,
  );
  t.end();
});

t.test('null lists and maps in a manifest are treated as absent', (t) => {
  const pod = appPod(SHIPPER);
  if (pod.spec) Object.assign(pod.spec, { volumes: null, initContainers: null });
  if (pod.spec?.containers[0])
    Object.assign(pod.spec.containers[0], { env: null, volumeMounts: null });
  patched(t, run(pod), pod);
  const bare = appPod({}, { mesh: 'enabled' });
  if (bare.metadata) Object.assign(bare.metadata, { annotations: null });
  patched(t, run(bare), bare);
  t.end();
});

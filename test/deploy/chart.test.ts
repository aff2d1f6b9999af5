import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import type {
  V1ConfigMap,
  V1Deployment,
  V1MutatingWebhookConfiguration,
  V1NetworkPolicy,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import { REPO_ROOT, renderDeploy } from '../../scripts/render-deploy.ts';
import { CHART_DIR, lintChart, renderChart, type Values } from '../../scripts/render-chart.ts';
import { buildPolicyDirectory } from '../../src/policy/load.ts';
import { checkSchemas, objectId, parseObjects, type RenderedObject } from './manifests.ts';

// The Helm chart, rendered by the real helm 4 (from the same devDependency as kubectl),
// with the defaults and with every switch on, checked against the Kubernetes,
// cert-manager and Prometheus Operator schemas, and against kustomize's render of the
// same install.

const skip =
  process.platform === 'linux' && process.arch === 'x64'
    ? false
    : `helm from the Lambda layer runs on linux/x64 only, not ${process.platform}/${process.arch}`;

const HELLO_POLICY = `apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata:
  name: hello-sidecar
spec:
  pattern: sidecar
  containers:
    - name: hello
      image: busybox:1.37.0
      command: [sh, -c, 'while true; do echo hello; sleep 60; done']
`;

/** EVERY_SWITCH turns on every optional object and sets every value off its default. */
const EVERY_SWITCH: Values = {
  replicas: 3,
  image: { digest: `sha256:${'a'.repeat(64)}` },
  imagePullSecrets: [{ name: 'registry' }],
  port: 443,
  extraArgs: ['--log-level=debug'],
  webhook: {
    failurePolicy: 'Ignore',
    timeoutSeconds: 10,
    excludeNamespaces: ['kube-system', 'monitoring'],
  },
  policies: { extra: { 'hello-sidecar.yaml': HELLO_POLICY } },
  podAnnotations: { 'example.com/team': 'platform' },
  podLabels: { 'example.com/tier': 'control-plane' },
  priorityClassName: 'system-cluster-critical',
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'platform', effect: 'NoSchedule' }],
  topologySpread: { enabled: true },
  networkPolicy: { enabled: true, ingressFrom: [{ ipBlock: { cidr: '10.0.0.0/8' } }] },
  metrics: {
    serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
    podMonitor: { enabled: true },
    prometheusRule: { enabled: true, labels: { release: 'prometheus' } },
    grafanaDashboard: { enabled: true, namespace: 'monitoring' },
  },
};

const SELF_SIGNED: Values = { ...EVERY_SWITCH, tls: { certManager: false } };

// Labels Helm's conventions add and kustomize has no source for; nothing selects on them.
const HELM_LABELS = [
  'helm.sh/chart',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
];

async function chartObjects(values: Values = {}): Promise<RenderedObject[]> {
  return parseObjects(await renderChart(values));
}

function byKind<T>(objects: RenderedObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, rendered ${found.length}`);
  return found[0] as T;
}

/**
 * comparable keys objects by `Kind/name`, without Helm's labels and with the policies
 * ConfigMap's content hash (kustomize's and Helm's differ in how they hash) as HASH.
 */
function comparable(objects: RenderedObject[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const object of objects) {
    const copy = JSON.parse(
      JSON.stringify(object).replace(/tandem-policies-[a-z0-9]{10}\b/g, 'tandem-policies-HASH'),
    ) as { metadata?: { labels?: Record<string, string> } };
    for (const label of HELM_LABELS) delete copy.metadata?.labels?.[label];
    out[objectId(copy as RenderedObject)] = copy;
  }
  return out;
}

function annotationsOf(o: { metadata?: object }): Record<string, string> {
  return (o.metadata as { annotations?: Record<string, string> } | undefined)?.annotations ?? {};
}

t.test(
  'helm lint --strict passes with the defaults, with every switch on, and without cert-manager',
  { skip },
  async (t) => {
    for (const [name, values] of Object.entries({ defaults: {}, EVERY_SWITCH, SELF_SIGNED })) {
      const out = await lintChart(values);
      t.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/, name);
    }
  },
);

t.test(
  'every object the chart renders passes its Kubernetes, cert-manager or Prometheus Operator schema',
  { skip },
  async (t) => {
    for (const [name, values] of Object.entries({ defaults: {}, EVERY_SWITCH, SELF_SIGNED })) {
      const objects = await chartObjects(values);
      const { unknownKinds, validations } = checkSchemas(objects);
      t.strictSame(unknownKinds, [], `${name}: every rendered kind has a schema to check`);
      for (const { id, error } of validations) t.equal(error, undefined, `${name}: ${id}`);
    }
    const all = (await chartObjects(EVERY_SWITCH))
      .map(objectId)
      .map((id) => id.replace(/^(ConfigMap\/tandem-policies)-[a-z0-9]{10}$/, '$1'));
    t.strictSame(all.sort(), [
      'Certificate/tandem-ca',
      'Certificate/tandem-serving',
      'ClusterRole/tandem',
      'ClusterRoleBinding/tandem',
      'ConfigMap/tandem-dashboard',
      'ConfigMap/tandem-policies',
      'Deployment/tandem',
      'Issuer/tandem-ca',
      'Issuer/tandem-selfsigned',
      'MutatingWebhookConfiguration/tandem',
      'NetworkPolicy/tandem',
      'PodDisruptionBudget/tandem',
      'PodMonitor/tandem',
      'PrometheusRule/tandem',
      'Service/tandem',
      'ServiceAccount/tandem',
      'ServiceMonitor/tandem',
    ]);
  },
);

t.test(
  'with the defaults the chart renders what kustomize renders, less the Namespace and Helm’s labels',
  { skip },
  async (t) => {
    const fromKustomize = parseObjects(await renderDeploy()).filter((o) => o.kind !== 'Namespace');
    const fromHelm = await chartObjects();
    t.strictSame(comparable(fromHelm), comparable(fromKustomize));
  },
);

t.test(
  'the chart’s built-in policies are policies/, file for file, each on by default',
  { skip },
  async (t) => {
    const files = (await readdir(join(REPO_ROOT, 'policies'))).sort();
    t.strictSame((await readdir(join(CHART_DIR, 'policies'))).sort(), files, 'the same files');
    for (const file of files) {
      const copy = await readFile(join(CHART_DIR, 'policies', file), 'utf8');
      t.equal(
        copy,
        await readFile(join(REPO_ROOT, 'policies', file), 'utf8'),
        `${file}: cp policies/*.yaml charts/tandem/policies/`,
      );
    }
    const policies = byKind<V1ConfigMap>(await chartObjects(), 'ConfigMap');
    t.strictSame(Object.keys(policies.data ?? {}).sort(), files);
  },
);

t.test(
  'an admin’s policy joins the built-ins, a built-in can be turned off, and a new set rolls the Deployment',
  { skip },
  async (t) => {
    const before = await chartObjects();
    const after = await chartObjects({
      policies: {
        builtin: { 'metrics-adapter': false },
        extra: { 'hello-sidecar.yaml': HELLO_POLICY },
      },
    });
    const policies = byKind<V1ConfigMap>(after, 'ConfigMap');
    t.strictSame(Object.keys(policies.data ?? {}).sort(), [
      'hello-sidecar.yaml',
      'log-forwarder.yaml',
      'redis-ambassador.yaml',
    ]);
    t.equal(policies.data?.['hello-sidecar.yaml'], HELLO_POLICY);
    // The name carries the content's hash, and the pod template names it: a changed set is a
    // new pod template, so `helm upgrade` and `helm rollback` both roll the pods.
    const name = (objects: RenderedObject[]): string | undefined =>
      byKind<V1Deployment>(objects, 'Deployment').spec?.template.spec?.volumes?.find(
        (v) => v.name === 'policies',
      )?.configMap?.name;
    t.equal(name(after), policies.metadata?.name);
    t.not(name(after), name(before));
    await t.rejects(
      renderChart({ policies: { extra: { 'log-forwarder.yaml': HELLO_POLICY } } }),
      /has the name of a built-in policy's file/,
    );
    await t.rejects(
      renderChart({ policies: { extra: { '../x.yaml': HELLO_POLICY } } }),
      /is not a file name/,
    );
    await t.rejects(
      renderChart({ policies: { builtin: { nope: true } } }),
      /no built-in policy of that name/,
    );
  },
);

t.test(
  'without cert-manager the webhook trusts the CA that signed the serving certificate tandem mounts',
  { skip },
  async (t) => {
    const objects = await chartObjects(SELF_SIGNED);
    t.strictSame(
      objects.filter((o) => o.apiVersion.startsWith('cert-manager.io/')).map(objectId),
      [],
    );
    const secret = byKind<V1Secret>(objects, 'Secret');
    const pem = (key: string): string =>
      Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');
    const ca = new X509Certificate(pem('ca.crt'));
    const serving = new X509Certificate(pem('tls.crt'));
    t.equal(ca.ca, true, 'ca.crt is a CA');
    t.equal(serving.verify(ca.publicKey), true, 'the CA signed tls.crt');
    t.equal(serving.checkPrivateKey(createPrivateKey(pem('tls.key'))), true, 'tls.key is its key');
    t.strictSame(serving.subjectAltName?.split(', '), [
      'DNS:tandem.tandem-system.svc',
      'DNS:tandem.tandem-system.svc.cluster.local',
    ]);

    const webhook = byKind<V1MutatingWebhookConfiguration>(objects, 'MutatingWebhookConfiguration');
    const caBundle = Buffer.from(
      webhook.webhooks?.[0]?.clientConfig.caBundle ?? '',
      'base64',
    ).toString('utf8');
    t.equal(new X509Certificate(caBundle).fingerprint256, ca.fingerprint256, 'caBundle is the CA');
    t.strictSame(annotationsOf(webhook), {}, 'no cainjector annotation');
    const deployment = byKind<V1Deployment>(objects, 'Deployment');
    const tls = deployment.spec?.template.spec?.volumes?.find((v) => v.name === 'tls');
    t.equal(tls?.secret?.secretName, secret.metadata?.name, 'the pods mount that Secret');
  },
);

t.test('every value reaches the object it names', { skip }, async (t) => {
  const objects = await chartObjects(EVERY_SWITCH);
  const deployment = byKind<V1Deployment>(objects, 'Deployment');
  const pod = deployment.spec?.template;
  const container = pod?.spec?.containers[0];
  t.equal(deployment.spec?.replicas, 3);
  t.equal(container?.image, `ghcr.io/tandem-dev/tandem@sha256:${'a'.repeat(64)}`);
  t.strictSame(pod?.spec?.imagePullSecrets, [{ name: 'registry' }]);
  t.strictSame(container?.args?.at(-1), '--log-level=debug');
  t.strictSame(pod?.metadata?.annotations, { 'example.com/team': 'platform' });
  t.strictSame(pod?.metadata?.labels, {
    'example.com/tier': 'control-plane',
    'app.kubernetes.io/name': 'tandem',
  });
  t.equal(pod?.spec?.priorityClassName, 'system-cluster-critical');
  t.strictSame(pod?.spec?.nodeSelector, { 'kubernetes.io/os': 'linux' });
  t.strictSame(pod?.spec?.tolerations, [
    { key: 'dedicated', operator: 'Equal', value: 'platform', effect: 'NoSchedule' },
  ]);
  t.strictSame(pod?.spec?.topologySpreadConstraints, [
    {
      topologyKey: 'topology.kubernetes.io/zone',
      maxSkew: 1,
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'tandem' } },
    },
  ]);
  // Port 443: the same as kustomize's deploy/port-443 component.
  t.strictSame(container?.env, [{ name: 'TANDEM_PORT', value: '443' }]);
  t.strictSame(container?.ports, [{ name: 'https', containerPort: 443, protocol: 'TCP' }]);
  t.strictSame(pod?.spec?.securityContext?.sysctls, [
    { name: 'net.ipv4.ip_unprivileged_port_start', value: '443' },
  ]);
  const service = byKind<V1Service>(objects, 'Service');
  t.strictSame(service.spec?.ports, [
    { name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' },
  ]);

  const hook = byKind<V1MutatingWebhookConfiguration>(objects, 'MutatingWebhookConfiguration')
    .webhooks?.[0];
  t.equal(hook?.failurePolicy, 'Ignore');
  t.equal(hook?.timeoutSeconds, 10);
  t.strictSame(hook?.namespaceSelector?.matchExpressions?.[0], {
    key: 'kubernetes.io/metadata.name',
    operator: 'NotIn',
    values: ['kube-system', 'monitoring', 'tandem-system'],
  });
});

t.test('the release namespace is always left out of the webhook', { skip }, async (t) => {
  const objects = parseObjects(
    await renderChart({ webhook: { excludeNamespaces: [] } }, 'platform'),
  );
  const hook = byKind<V1MutatingWebhookConfiguration>(objects, 'MutatingWebhookConfiguration')
    .webhooks?.[0];
  t.strictSame(hook?.namespaceSelector?.matchExpressions?.[0]?.values, ['platform']);
  t.strictSame(hook?.clientConfig.service, {
    name: 'tandem',
    namespace: 'platform',
    path: '/mutate',
    port: 443,
  });
});

t.test(
  'the monitors scrape the serving port over TLS, trusting the CA in the serving Secret',
  { skip },
  async (t) => {
    const objects = await chartObjects(EVERY_SWITCH);
    const deployment = byKind<V1Deployment>(objects, 'Deployment');
    const service = byKind<V1Service>(objects, 'Service');
    const secretName = deployment.spec?.template.spec?.volumes?.find((v) => v.name === 'tls')
      ?.secret?.secretName;
    const tlsConfig = {
      serverName: 'tandem.tandem-system.svc',
      ca: { secret: { name: secretName, key: 'ca.crt' } },
    };
    const endpoint = {
      port: 'https',
      path: '/metrics',
      scheme: 'https',
      interval: '30s',
      tlsConfig,
    };
    const selector = { matchLabels: deployment.spec?.selector.matchLabels };
    const namespaceSelector = { matchNames: ['tandem-system'] };

    const serviceMonitor = byKind<{ metadata: { labels: Record<string, string> }; spec: unknown }>(
      objects,
      'ServiceMonitor',
    );
    t.strictSame(serviceMonitor.spec, { selector, namespaceSelector, endpoints: [endpoint] });
    t.equal(
      serviceMonitor.metadata.labels.release,
      'prometheus',
      'the labels Prometheus selects on',
    );
    t.match(service.metadata?.labels, selector.matchLabels, 'it selects the Service');
    t.ok(
      service.spec?.ports?.some((p) => p.name === endpoint.port),
      'a Service port of that name',
    );

    const podMonitor = byKind<{ spec: unknown }>(objects, 'PodMonitor');
    t.strictSame(podMonitor.spec, { selector, namespaceSelector, podMetricsEndpoints: [endpoint] });
    const ports = deployment.spec?.template.spec?.containers[0]?.ports ?? [];
    t.ok(
      ports.some((p) => p.name === endpoint.port),
      'a container port of that name',
    );
  },
);

t.test(
  'the NetworkPolicy lets in only the serving port and lets out only the Kubernetes API',
  { skip },
  async (t) => {
    const policy = byKind<V1NetworkPolicy>(await chartObjects(EVERY_SWITCH), 'NetworkPolicy');
    t.strictSame(policy.spec, {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'tandem' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          ports: [{ port: 'https', protocol: 'TCP' }],
          from: [{ ipBlock: { cidr: '10.0.0.0/8' } }],
        },
      ],
      egress: [
        {
          ports: [
            { port: 443, protocol: 'TCP' },
            { port: 6443, protocol: 'TCP' },
          ],
        },
      ],
    });
  },
);

t.test(
  'webhook.enabled=false removes the webhook configuration and nothing else (the emergency switch)',
  { skip },
  async (t) => {
    for (const values of [{}, SELF_SIGNED]) {
      const on = comparable(await chartObjects(values));
      const webhookValues = (values as { webhook?: object }).webhook ?? {};
      const off = comparable(
        await chartObjects({ ...values, webhook: { ...webhookValues, enabled: false } }),
      );
      const { ['MutatingWebhookConfiguration/tandem']: webhook, ...rest } = on;
      t.ok(webhook, 'on: the webhook is rendered');
      // Without cert-manager the certificate is made anew at each render outside a cluster.
      const { ['Secret/tandem-serving-tls']: _onSecret, ...restOn } = rest;
      const { ['Secret/tandem-serving-tls']: offSecret, ...restOff } = off;
      t.strictSame(restOff, restOn, 'off: the same objects, less the webhook');
      t.equal(offSecret !== undefined, _onSecret !== undefined, 'the serving Secret stays');
    }
  },
);

t.test(
  'the chart has no hooks and keeps nothing behind, so uninstall and rollback are plain',
  { skip },
  async (t) => {
    for (const values of [{}, EVERY_SWITCH, SELF_SIGNED]) {
      for (const object of await chartObjects(values)) {
        const helmAnnotations = Object.keys(annotationsOf(object)).filter((k) =>
          k.startsWith('helm.sh/'),
        );
        t.strictSame(helmAnnotations, [], objectId(object));
      }
    }
  },
);

t.test(
  'policies.params becomes a PolicyValues document that tandem loads with the policies',
  { skip },
  async (t) => {
    const params = { 'log-forwarder': { host: 'fluentd.logging.svc.cluster.local', port: 24225 } };
    const objects = await chartObjects({ policies: { params } });
    for (const { id, error } of checkSchemas(objects).validations) t.equal(error, undefined, id);
    const policies = byKind<V1ConfigMap>(objects, 'ConfigMap');
    const files = Object.entries(policies.data ?? {}).map(([file, text]) => ({ file, text }));
    const loaded = buildPolicyDirectory(files);
    t.strictSame(loaded.issues, []);
    const values = [...(loaded.set.clusterValues.get('log-forwarder')?.entries() ?? [])];
    t.strictSame(
      values.map(([param, value]) => [param, value.value]),
      [
        ['host', 'fluentd.logging.svc.cluster.local'],
        ['port', '24225'],
      ],
    );
    const defaults = byKind<V1ConfigMap>(await chartObjects(), 'ConfigMap');
    t.equal(defaults.data?.['cluster-values.yaml'], undefined, 'no params, no values document');
    t.not(policies.metadata?.name, defaults.metadata?.name, 'new values roll the Deployment');
  },
);

t.test('a bad value fails the render, naming it', { skip }, async (t) => {
  await t.rejects(renderChart({ webhook: { failurePolicy: 'ignore' } }), /failurePolicy/);
  await t.rejects(renderChart({ webhook: { timeoutSeconds: 31 } }), /timeoutSeconds/);
  await t.rejects(renderChart({ port: 0 }), /port/);
  await t.rejects(
    renderChart({ policies: { params: { 'log-forwarder': { host: ['a'] } } } }),
    /params/,
  );
  await t.rejects(
    renderChart({ policies: { params: { 'log-forwarder': 'a' }, extra: {} } }),
    /params/,
  );
});

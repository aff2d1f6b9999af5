/**
 * Issue 10 case 4: every port an injected container listens on is declared by its policy,
 * so admission and lint can refuse a clash, naming both sides; and no param decides where
 * a volume lands inside an injected container.
 */
import path from 'node:path';
import t from 'tap';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { injectPod } from '../../src/inject/engine.ts';
import type { InjectResult } from '../../src/inject/types.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { lintPolicies } from '../../src/policy/lint.ts';
import { buildPolicyDirectory, loadPolicies } from '../../src/policy/load.ts';
import type { SidecarPolicy } from '../../src/policy/schema.ts';
import { applyPatch, checkPod } from '../fixtures/check-pod.ts';
import { REPO_ROOT } from '../fixtures/corpus.ts';
import { appPod } from '../fixtures/pods.ts';
import { context } from '../fixtures/policies.ts';
import { findContainer, loadBuiltinPolicy, renderPolicy } from '../fixtures/real/policies.ts';
import { readFileSync } from 'node:fs';

const builtins = await loadPolicies(path.join(REPO_ROOT, 'policies'));
const UPSTREAMS = 'redis-0.cache:6379';

function run(pod: V1Pod): InjectResult {
  return injectPod(pod, builtins, context());
}

/** reason is `Code: message`: the stable code and what the pod's author reads. */
function reason(result: InjectResult): string {
  return result.outcome === 'denied'
    ? `${result.code}: ${result.reason}`
    : `not denied: ${result.outcome}`;
}

function declaredPorts(container: V1Container): number[] {
  return (container.ports ?? []).map((p) => p.containerPort).sort((a, b) => a - b);
}

/** flag returns the value of `--name=value` in a container's args. */
function flag(container: V1Container, name: string): string | undefined {
  const prefix = `--${name}=`;
  return container.args?.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

t.test(
  'a sidecar port named like a port of the app is denied, naming both: a port name is unique in the pod',
  (t) => {
    const pod = appPod({ 'tandem.dev/inject': 'metrics-adapter' });
    const app = pod.spec?.containers[0];
    if (app !== undefined) app.ports = [{ name: 'metrics', containerPort: 8080 }];
    t.strictSame(
      reason(run(pod)),
      'PortClash: policy "metrics-adapter": port "metrics" of container "tandem-redis-exporter" has the name of port "metrics" of container "app" of the pod: a port name must be unique in the pod',
    );
    t.end();
  },
);

t.test('a sidecar port on the number of an app port of another protocol is no clash', (t) => {
  const pod = appPod({ 'tandem.dev/inject': 'metrics-adapter' });
  const app = pod.spec?.containers[0];
  if (app !== undefined) app.ports = [{ name: 'dns', containerPort: 9121, protocol: 'UDP' }];
  t.strictSame(run(pod).outcome, 'patched');
  t.end();
});

t.test(
  'every port a built-in container listens on, as its command line says, is one of its declared containerPorts',
  (t) => {
    // Ports away from the defaults, so a declaration that ignores the param shows.
    const ambassador = renderPolicy(loadBuiltinPolicy('redis-ambassador.yaml'), {
      upstreams: UPSTREAMS,
      listenPort: '7001',
      statsPort: '7002',
    });
    const config = findContainer(ambassador, 'tandem-nutcracker-config');
    const proxy = findContainer(ambassador, 'tandem-nutcracker');
    const listen = config.env?.find((e) => e.name === 'LISTEN_ADDRESS')?.value ?? '';
    const proxyListeners = [Number(listen.split(':')[1]), Number(flag(proxy, 'stats-port'))];
    t.strictSame(proxyListeners, [7001, 7002], 'nutcracker listens on listenPort and statsPort');
    t.strictSame(declaredPorts(proxy), proxyListeners, 'and declares both');

    const adapter = renderPolicy(loadBuiltinPolicy('metrics-adapter.yaml'), { port: '7003' });
    const exporter = findContainer(adapter, 'tandem-redis-exporter');
    t.strictSame(flag(exporter, 'web.listen-address'), ':7003');
    t.strictSame(declaredPorts(exporter), [7003], 'redis_exporter declares its listen port');
    t.strictSame(adapter.podAnnotations['prometheus.io/port'], '7003', 'still a string here');

    const forwarder = renderPolicy(loadBuiltinPolicy('log-forwarder.yaml'), {
      host: 'fluentd.logging.svc',
    });
    const fluentBit = findContainer(forwarder, 'tandem-fluent-bit');
    t.notOk(
      fluentBit.args?.some((arg) => /^-H$|^--http|http_server/i.test(arg)),
      "Fluent Bit's HTTP server stays off: it listens on nothing",
    );
    t.strictSame(declaredPorts(fluentBit), []);
    t.end();
  },
);

t.test('redis-ambassador with statsPort equal to listenPort is denied, naming both ports', (t) => {
  const pod = appPod({
    'tandem.dev/inject': 'redis-ambassador',
    'redis-ambassador.tandem.dev/upstreams': UPSTREAMS,
    'redis-ambassador.tandem.dev/statsPort': '6379',
  });
  t.strictSame(
    reason(run(pod)),
    'PortClash: policy "redis-ambassador": port "proxy-stats" of container "tandem-nutcracker" would listen on 6379/TCP, where port "redis-proxy" of container "tandem-nutcracker" of policy "redis-ambassador" already listens',
  );
  t.end();
});

t.test('the exporter on 6379 beside the ambassador is denied, naming both policies', (t) => {
  const pod = appPod({
    'tandem.dev/inject': 'redis-ambassador, metrics-adapter',
    'redis-ambassador.tandem.dev/upstreams': UPSTREAMS,
    'metrics-adapter.tandem.dev/port': '6379',
  });
  t.strictSame(
    reason(run(pod)),
    'PortClash: policy "metrics-adapter": port "metrics" of container "tandem-redis-exporter" would listen on 6379/TCP, where port "redis-proxy" of container "tandem-nutcracker" of policy "redis-ambassador" already listens',
  );
  t.end();
});

t.test('the exporter on a port the app declares is denied, naming the app container', (t) => {
  const pod = appPod({
    'tandem.dev/inject': 'metrics-adapter',
    'metrics-adapter.tandem.dev/port': '8080',
  });
  t.strictSame(
    reason(run(pod)),
    'PortClash: policy "metrics-adapter": port "metrics" of container "tandem-redis-exporter" would listen on 8080/TCP, where port "http" of container "app" of the pod already listens',
  );
  t.end();
});

t.test(
  "logDir=/fluent-bit/bin reaches only the app: the sidecar's mounts are fixed paths of its own",
  (t) => {
    const pod = appPod({
      'tandem.dev/inject': 'log-forwarder',
      'log-forwarder.tandem.dev/host': 'fluentd.logging.svc',
      'log-forwarder.tandem.dev/logDir': '/fluent-bit/bin',
    });
    const result = run(pod);
    if (result.outcome !== 'patched') {
      t.fail(JSON.stringify(result));
      return t.end();
    }
    const out = applyPatch(pod, result.patch);
    t.strictSame(checkPod(out), []);
    t.strictSame(
      out.spec?.initContainers?.[0]?.volumeMounts?.map((m) => m.mountPath),
      [
        '/var/log/tandem-app',
        '/var/lib/tandem-fluent-bit',
        '/var/run/secrets/tandem.dev/log-forwarder',
      ],
    );
    t.strictSame(out.spec?.containers[0]?.volumeMounts, [
      { name: 'tandem-app-logs', mountPath: '/fluent-bit/bin', subPath: 'app' },
    ]);
    t.end();
  },
);

t.test(
  "a template in an injected container's mount path is a load error; the app side may use one",
  (t) => {
    for (const template of ['{{ params.dir }}', "/data/{{ pod.labels['app'] }}"]) {
      const document = {
        apiVersion: 'tandem.dev/v1alpha1',
        kind: 'SidecarPolicy',
        metadata: { name: 'p' },
        spec: {
          pattern: 'sidecar',
          params: { dir: { default: '/data', pattern: '/[a-z]+' } },
          volumes: [{ name: 'v', emptyDir: {} }],
          initContainers: [
            { name: 'c', image: 'x:1', volumeMounts: [{ name: 'v', mountPath: template }] },
          ],
          appContainer: { volumeMounts: [{ name: 'v', mountPath: '{{ params.dir }}' }] },
        },
      } as unknown as SidecarPolicy;
      const result = compilePolicy(document, { file: 'p.yaml', line: 1 });
      t.strictSame(
        result.ok ? [] : result.problems,
        [
          {
            fieldPath: 'spec.initContainers[0].volumeMounts[0].mountPath',
            message:
              "an injected container's mount path must be fixed, not a template: a pod's value could land a volume on the container's own files",
          },
        ],
        template,
      );
    }
    t.end();
  },
);

t.test('lint reports a built-in whose listeners clash at their defaults', (t) => {
  const file = path.join(REPO_ROOT, 'policies', 'redis-ambassador.yaml');
  const text = readFileSync(file, 'utf8').replace("default: '22222'", "default: '6379'");
  const issues = lintPolicies(buildPolicyDirectory([{ file: 'redis-ambassador.yaml', text }]));
  t.strictSame(
    issues.map((i) => `${i.fieldPath}: ${i.message.replace(/\(line \d+\)/, '(line N)')}`),
    [
      'spec.containers[0].ports[1].containerPort: port 6379/TCP is also added earlier in this policy (line N)',
    ],
  );
  t.end();
});

/**
 * The rules every built-in policy keeps, checked file by file: what a cluster admin can
 * rely on without reading the YAML (pinned images, bounded resources, non-root numeric
 * users, documented params) and what keeps a pod author's annotation values plain data.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import t from 'tap';
import type { V1Container } from '@kubernetes/client-node';
import type { LoadedPolicy } from '../../src/policy/compile.ts';
import {
  POLICIES_DIR,
  listBuiltinPolicyFiles,
  loadBuiltinPolicy,
  renderPolicy,
  type RenderedPolicy,
} from '../fixtures/real/policies.ts';

/** SAMPLES gives a valid value for each required param, so every policy can render. */
const SAMPLES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'log-forwarder': { host: 'fluentd.logging.svc' },
  'redis-ambassador': { upstreams: 'redis-0.cache:6379,redis-1.cache:6379' },
  'metrics-adapter': {},
};

/** HOSTILE_SUFFIXES turn a valid value into one carrying shell, YAML or config syntax. */
const HOSTILE_SUFFIXES = [
  ';id',
  '$(id)',
  '${IFS}',
  '`id`',
  '\nkey: value',
  '\r\n',
  ' x',
  '\tx',
  '"',
  "'",
  '#x',
  '{x}',
  '[x]',
  '|x',
  '&x',
  '>x',
  '<x',
  '\\x',
  '%x',
  ',-x',
  '=x',
  '\u0000',
];

/**
 * UNPINNED_IMAGES are the images no digest could be found for from a source (docs/policies.md,
 * "Images"), each named so that the list cannot grow unseen; every other image is pinned by
 * digest (issue 11).
 */
const UNPINNED_IMAGES = new Set([
  'quay.io/3scale/twemproxy:v0.5.0',
  'cr.fluentbit.io/fluent/fluent-bit:4.2.8',
]);

const files = listBuiltinPolicyFiles();

t.strictSame(
  files,
  ['log-forwarder.yaml', 'metrics-adapter.yaml', 'redis-ambassador.yaml'],
  'the three built-in policies ship, one per file',
);

function allContainers(rendered: RenderedPolicy): V1Container[] {
  return [...rendered.initContainers, ...rendered.containers];
}

function sampleValue(policy: LoadedPolicy, name: string): string {
  const value = SAMPLES[policy.name]?.[name] ?? policy.params.get(name)?.defaultValue;
  if (value === undefined) throw new Error(`no sample value for ${policy.name}.${name}`);
  return value;
}

/** imageTag returns the tag of an image reference, or undefined when it has none. */
function imageTag(image: string): string | undefined {
  const name = image.split('@')[0] ?? '';
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > lastSlash ? name.slice(colon + 1) : undefined;
}

for (const file of files) {
  const policy = loadBuiltinPolicy(file);
  const rendered = renderPolicy(policy, SAMPLES[policy.name] ?? {});

  t.test(`${file}: is named after its file, described, and requested only by annotation`, (t) => {
    t.equal(policy.name, basename(file, '.yaml'));
    t.ok((policy.spec.description ?? '').length > 20, 'has a description');
    for (const [name, declaration] of Object.entries(policy.spec.params ?? {})) {
      t.ok((declaration.description ?? '').length > 10, `param ${name} has a description`);
      // A refused value is answered with the description and the example (issue 10).
      t.ok(declaration.example !== undefined, `param ${name} has an example`);
      t.ok(declaration.pattern !== undefined, `param ${name} has a pattern`);
    }
    t.equal(policy.spec.selector, undefined, 'no selector: built-ins are never automatic');
    t.equal(policy.spec.namespaceSelector, undefined, 'no namespaceSelector');
    t.end();
  });

  t.test(`${file}: every container has CPU and memory requests and limits`, (t) => {
    for (const container of allContainers(rendered)) {
      const { requests, limits } = container.resources ?? {};
      for (const resource of ['cpu', 'memory']) {
        t.ok(requests?.[resource], `${container.name} requests ${resource}`);
        t.ok(limits?.[resource], `${container.name} limits ${resource}`);
      }
    }
    t.end();
  });

  t.test(`${file}: every image is pinned to a version tag, never latest`, (t) => {
    for (const container of allContainers(rendered)) {
      const tag = imageTag(container.image ?? '');
      t.ok(tag !== undefined, `${container.image} has a tag`);
      t.not(tag, 'latest', `${container.image} is not latest`);
      t.match(tag, /^v?\d+\.\d+(\.\d+)?$/, `${container.image} names an exact version`);
    }
    t.end();
  });

  t.test(`${file}: every image is pinned by digest as well as tag`, (t) => {
    for (const container of allContainers(rendered)) {
      const image = container.image ?? '';
      if (UNPINNED_IMAGES.has(image)) continue;
      t.match(image, /^[^@]+:[^@/]+@sha256:[0-9a-f]{64}$/, `${image} names tag and digest`);
    }
    t.end();
  });

  t.test(
    `${file}: containers run as numeric non-root users on a read-only root filesystem`,
    (t) => {
      for (const container of allContainers(rendered)) {
        const security = container.securityContext ?? {};
        for (const field of ['runAsUser', 'runAsGroup'] as const) {
          const id = security[field];
          if (id !== undefined) {
            t.ok(
              Number.isInteger(id) && id > 0,
              `${container.name} ${field} ${id} is a non-root id`,
            );
          }
        }
        t.ok(security.runAsUser !== undefined, `${container.name} names its user`);
        t.equal(security.readOnlyRootFilesystem, true, `${container.name} root is read-only`);
        t.not(security.privileged, true, `${container.name} is not privileged`);
        t.not(security.allowPrivilegeEscalation, true, `${container.name} cannot escalate`);
        t.equal(security.capabilities?.add, undefined, `${container.name} adds no capability`);
      }
      t.end();
    },
  );

  t.test(`${file}: renders to values of the type Kubernetes wants at each place`, (t) => {
    const volumes = new Set(rendered.volumes.map((v) => v.name));
    const mounts = [
      ...allContainers(rendered).flatMap((c) => c.volumeMounts ?? []),
      ...(rendered.appContainer.volumeMounts ?? []),
    ];
    for (const mount of mounts) {
      t.ok(volumes.has(mount.name), `mount ${mount.mountPath} names a volume of the policy`);
    }
    for (const [key, value] of Object.entries(rendered.podAnnotations)) {
      t.type(value, 'string', `annotation ${key} is a string`);
    }
    const env = [
      ...allContainers(rendered).flatMap((c) => c.env ?? []),
      ...(rendered.appContainer.env ?? []),
    ];
    for (const entry of env) {
      // A value the kubelet fills in (downward API, a Secret's key) has no value of its own.
      const from = entry.valueFrom;
      if (from === undefined) t.type(entry.value, 'string', `env ${entry.name} is a string`);
      else t.ok(from.fieldRef ?? from.secretKeyRef, `env ${entry.name} is a field or Secret key`);
    }
    for (const container of allContainers(rendered)) {
      for (const arg of [...(container.command ?? []), ...(container.args ?? [])]) {
        t.type(arg, 'string', `${container.name} command line holds strings only`);
      }
      for (const port of container.ports ?? []) {
        t.ok(Number.isInteger(port.containerPort), `${container.name} containerPort is a number`);
      }
      const probes = [container.startupProbe, container.livenessProbe, container.readinessProbe];
      for (const probe of probes) {
        const port = probe?.tcpSocket?.port ?? probe?.httpGet?.port;
        if (port !== undefined)
          t.ok(Number.isInteger(port), `${container.name} probe port is a number`);
      }
    }
    t.end();
  });

  t.test(`${file}: no param accepts a value carrying shell, YAML or config syntax`, (t) => {
    for (const param of policy.params.values()) {
      const valid = sampleValue(policy, param.name);
      t.ok(param.pattern?.test(valid), `${param.name} accepts ${JSON.stringify(valid)}`);
      for (const suffix of HOSTILE_SUFFIXES) {
        const value = `${valid}${suffix}`;
        t.notOk(param.pattern?.test(value), `${param.name} refuses ${JSON.stringify(value)}`);
      }
      t.notOk(param.pattern?.test(`-${valid}`), `${param.name} refuses a leading dash`);
      t.notOk(param.pattern?.test(''), `${param.name} refuses the empty string`);
    }
    t.end();
  });

  // Speed is not asserted here: a wall-clock bound fails on a loaded machine and says
  // nothing a quiet one does not. Matching time is linear by construction (RE2, see
  // param-pattern.ts); param-patterns.test.ts holds that with a pattern that backtracks.
  t.test(`${file}: every param pattern refuses a 64 KiB near-miss`, (t) => {
    for (const param of policy.params.values()) {
      const valid = sampleValue(policy, param.name);
      const candidates = [
        `${valid.repeat(Math.ceil(65536 / valid.length))}!`,
        `${'a'.repeat(65536)}!`,
        `${'a-'.repeat(32768)}:1!`,
      ];
      for (const value of candidates) {
        t.notOk(param.pattern?.test(value), `${param.name} refuses the long value`);
      }
    }
    t.end();
  });
}

t.test('log-forwarder: logDir refuses relative paths and dot segments', (t) => {
  const pattern = loadBuiltinPolicy('log-forwarder.yaml').params.get('logDir')?.pattern;
  for (const value of ['var/log', '/var/log/', '/var/../etc', '/..', '/var/./log', '//x']) {
    t.notOk(pattern?.test(value), `refuses ${JSON.stringify(value)}`);
  }
  for (const value of ['/var/log/app', '/data/logs', '/srv/app.d/log_1']) {
    t.ok(pattern?.test(value), `accepts ${JSON.stringify(value)}`);
  }
  t.end();
});

t.test('redis-ambassador: upstreams takes one to sixteen HOST:PORT entries', (t) => {
  const pattern = loadBuiltinPolicy('redis-ambassador.yaml').params.get('upstreams')?.pattern;
  const sixteen = Array.from({ length: 16 }, (_, i) => `redis-${i}.cache:6379`).join(',');
  for (const value of ['10.0.0.1:6379', 'redis:1', 'redis:65535', sixteen]) {
    t.ok(pattern?.test(value), `accepts ${JSON.stringify(value)}`);
  }
  for (const value of [
    `${sixteen},redis-16.cache:6379`,
    'redis',
    'redis:0',
    'redis:65536',
    'redis:06379',
    'redis:6379,',
    ',redis:6379',
    'redis..cache:6379',
    'Redis:6379',
    'redis:6379:1',
    'user@redis:6379',
  ]) {
    t.notOk(pattern?.test(value), `refuses ${JSON.stringify(value)}`);
  }
  t.end();
});

t.test('metrics-adapter: redisAddr carries no credentials and only redis:// or rediss://', (t) => {
  const pattern = loadBuiltinPolicy('metrics-adapter.yaml').params.get('redisAddr')?.pattern;
  for (const value of ['redis://localhost:6379', 'rediss://cache.prod.svc:6380']) {
    t.ok(pattern?.test(value), `accepts ${JSON.stringify(value)}`);
  }
  for (const value of [
    'redis://user:secret@localhost:6379',
    'redis://:secret@localhost:6379',
    'http://localhost:6379',
    'redis://localhost',
    'redis://localhost:6379/0',
    'unix:///var/run/redis.sock',
  ]) {
    t.notOk(pattern?.test(value), `refuses ${JSON.stringify(value)}`);
  }
  t.end();
});

/**
 * imagesWithoutDigestNote lists the `image:` lines of a policy file that have no digest
 * and whose comment block just above does not say NO DIGEST.
 */
function imagesWithoutDigestNote(text: string): string[] {
  const lines = text.split('\n');
  const unsaid: string[] = [];
  lines.forEach((line, i) => {
    const image = /^\s*image:\s*(\S+)/.exec(line)?.[1];
    if (image === undefined || image.includes('@sha256:')) return;
    let j = i - 1;
    const comment: string[] = [];
    while (j >= 0 && /^\s*#/.test(lines[j] ?? '')) comment.push(lines[j--] ?? '');
    if (!comment.join(' ').includes('NO DIGEST')) unsaid.push(image);
  });
  return unsaid;
}

t.test('an image without a digest says NO DIGEST beside it, in policies and the example', (t) => {
  const files = [
    ...listBuiltinPolicyFiles().map((file) => join(POLICIES_DIR, file)),
    join(POLICIES_DIR, '..', 'examples', 'policies', 'nginx-metrics-adapter.yaml'),
  ];
  for (const file of files) {
    t.strictSame(imagesWithoutDigestNote(readFileSync(file, 'utf8')), [], basename(file));
  }
  t.strictSame(imagesWithoutDigestNote('      image: a:1\n'), ['a:1'], 'the check sees a bare tag');
  t.end();
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { namespaceInfo } from '../../src/kube/namespaces.ts';
import { readNamespaceLabelsFile, staticNamespaces } from '../../src/kube/static-namespaces.ts';

t.test('a static directory is synced and adds the name label the apiserver would', (t) => {
  const directory = staticNamespaces({
    shop: { 'pod-security.kubernetes.io/enforce': 'baseline' },
  });
  t.equal(directory.synced, true);
  t.strictSame(directory.lookup('shop'), {
    labels: {
      'pod-security.kubernetes.io/enforce': 'baseline',
      'kubernetes.io/metadata.name': 'shop',
    },
    annotations: {},
    podSecurityLevel: 'baseline',
  });
  t.end();
});

t.test(
  'a static directory keeps only the param annotations of a namespace, from either table',
  (t) => {
    const directory = staticNamespaces(
      { shop: { team: 'payments' } },
      {
        shop: { 'greeter.tandem.dev/greeting': 'hej', owner: 'payments@example.com' },
        batch: { 'greeter.tandem.dev/greeting': 'moin' },
      },
    );
    t.strictSame(directory.lookup('shop'), {
      labels: { team: 'payments', 'kubernetes.io/metadata.name': 'shop' },
      annotations: { 'greeter.tandem.dev/greeting': 'hej' },
      podSecurityLevel: undefined,
    });
    t.strictSame(directory.lookup('batch'), {
      labels: { 'kubernetes.io/metadata.name': 'batch' },
      annotations: { 'greeter.tandem.dev/greeting': 'moin' },
      podSecurityLevel: undefined,
    });
    t.end();
  },
);

t.test('a namespace the static table lacks is unknown (undefined)', (t) => {
  t.equal(staticNamespaces({}).lookup('default'), undefined);
  t.end();
});

t.test(
  'an enforce label that is not a level counts as restricted, as Pod Security reads it',
  (t) => {
    t.equal(
      namespaceInfo({ 'pod-security.kubernetes.io/enforce': 'strict' }).podSecurityLevel,
      'restricted',
    );
    t.equal(namespaceInfo({}).podSecurityLevel, undefined);
    t.end();
  },
);

async function file(t: { teardown(fn: () => Promise<void>): void }, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-ns-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'namespaces.yaml');
  await writeFile(path, text);
  return path;
}

t.test('reads a YAML map of namespace to labels; a bare namespace has none', async (t) => {
  const path = await file(t, 'shop:\n  team: payments\nbatch: ~\nempty: {}\n');
  t.strictSame(await readNamespaceLabelsFile(path), {
    shop: { team: 'payments' },
    batch: {},
    empty: {},
  });
  t.strictSame(
    await readNamespaceLabelsFile(await file(t, '')),
    {},
    'an empty file is an empty table',
  );
});

t.test('labels that are not strings are a config error naming file and namespace', async (t) => {
  const path = await file(t, 'shop:\n  replicas: 3\n');
  await t.rejects(readNamespaceLabelsFile(path), {
    code: 'TANDEM_ERR_CONFIG',
    message: `${path}: the labels of namespace "shop" must be a map of strings`,
  });
  await t.rejects(readNamespaceLabelsFile(await file(t, '- shop\n')), {
    code: 'TANDEM_ERR_CONFIG',
    message: /expected a map of namespace to labels/,
  });
  await t.rejects(readNamespaceLabelsFile('/nonexistent/ns.yaml'), { code: 'TANDEM_ERR_CONFIG' });
});

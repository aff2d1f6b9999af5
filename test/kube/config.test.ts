import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import t from 'tap';
import { loadClusterConfig } from '../../src/kube/config.ts';

const SERVICE_ACCOUNT = 'var/run/secrets/kubernetes.io/serviceaccount';

function kubeconfig(server: string, context = 'ctx'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: c-${context}, cluster: {server: '${server}'}}]`,
    `users: [{name: u-${context}, user: {token: t}}]`,
    `contexts: [{name: ${context}, context: {cluster: c-${context}, user: u-${context}}}]`,
    `current-context: ${context}`,
    '',
  ].join('\n');
}

/** A scratch root holding a home, a service account and kubeconfig files. */
async function scratch(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'tandem-kubeconfig-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'home', '.kube'), { recursive: true });
  await mkdir(join(root, SERVICE_ACCOUNT), { recursive: true });
  return root;
}

async function withServiceAccount(root: string): Promise<void> {
  await writeFile(join(root, SERVICE_ACCOUNT, 'token'), 'sa-token');
  await writeFile(join(root, SERVICE_ACCOUNT, 'ca.crt'), '');
  await writeFile(join(root, SERVICE_ACCOUNT, 'namespace'), 'tandem-system');
}

const IN_CLUSTER_ENV = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

t.test('an explicit KUBECONFIG wins, and its first file picks the context', async (t) => {
  const root = await scratch(t);
  await withServiceAccount(root);
  await writeFile(join(root, 'a'), kubeconfig('https://a.example:6443', 'a'));
  await writeFile(join(root, 'b'), kubeconfig('https://b.example:6443', 'b'));
  const found = loadClusterConfig({
    env: { ...IN_CLUSTER_ENV, KUBECONFIG: [join(root, 'a'), join(root, 'b')].join(delimiter) },
    home: join(root, 'home'),
    root,
  });
  t.match(found, { source: 'kubeconfig-env', server: 'https://a.example:6443' });
  t.equal(found.kubeConfig.getContexts().length, 2, 'both files are merged');
});

t.test("in a pod, the service account is used, not a home directory's kubeconfig", async (t) => {
  const root = await scratch(t);
  await withServiceAccount(root);
  await writeFile(join(root, 'home', '.kube', 'config'), kubeconfig('https://home.example'));
  const found = loadClusterConfig({ env: IN_CLUSTER_ENV, home: join(root, 'home'), root });
  t.match(found, { source: 'in-cluster', server: 'https://10.96.0.1:443' });
  t.match(
    found.kubeConfig.getCurrentUser(),
    { authProvider: { config: { tokenFile: join(root, SERVICE_ACCOUNT, 'token') } } },
    'the token is read from its file, which the kubelet rotates',
  );
});

t.test('an IPv6 service host is bracketed in the URL', async (t) => {
  const root = await scratch(t);
  await withServiceAccount(root);
  const env = { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' };
  t.match(loadClusterConfig({ env, home: root, root }), { server: 'https://[fd00::1]:443' });
});

t.test('outside a pod, ~/.kube/config is used', async (t) => {
  const root = await scratch(t);
  await writeFile(join(root, 'home', '.kube', 'config'), kubeconfig('https://home.example'));
  const found = loadClusterConfig({ env: {}, home: join(root, 'home'), root });
  t.match(found, { source: 'kubeconfig-home', server: 'https://home.example' });
});

t.test(
  'finding no cluster is an error that names what was tried, never localhost:8080',
  async (t) => {
    const root = await scratch(t);
    // The host variable alone is not a pod: the token file is missing.
    t.throws(() => loadClusterConfig({ env: IN_CLUSTER_ENV, home: join(root, 'home'), root }), {
      code: 'TANDEM_ERR_CLUSTER',
      message: /KUBECONFIG is unset.*--no-cluster/,
    });
  },
);

t.test('an unreadable KUBECONFIG file is a TANDEM_ERR_CLUSTER error with its cause', async (t) => {
  const root = await scratch(t);
  t.throws(
    () => loadClusterConfig({ env: { KUBECONFIG: join(root, 'missing') }, home: root, root }),
    { code: 'TANDEM_ERR_CLUSTER', cause: Error },
  );
});

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { startFakeApiServer } from '../fixtures/kube/fake-apiserver.ts';
import { REPO_POLICIES, send, sendReview } from '../fixtures/reviews/harness.ts';
import { redisPod, reviewFor } from '../fixtures/reviews/reviews.ts';

// `tandem serve` in cluster mode, end to end: a real child process finds a (fake, local)
// apiserver through KUBECONFIG as kubectl would, asks its version, fills its namespace
// cache through the real client-node, and only then reports ready.
const BIN = new URL('../../bin/tandem.js', import.meta.url).pathname;

const PRIVILEGED_POLICY = `apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: debug-tools}
spec:
  pattern: sidecar
  containers:
    - name: debug-tools
      image: registry.example/debug:1.0
      securityContext: {privileged: true}
`;

async function waitFor(read: () => string, pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
  for (let waited = 0; waited < ms; waited += 25) {
    const match = pattern.exec(read());
    if (match !== null) return match;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${String(pattern)} in:\n${read()}`);
}

async function startServe(t: Test, versionFile: string) {
  const fake = await startFakeApiServer();
  t.teardown(() => fake.close());
  fake.script('version', { json: versionFile });
  fake.script('list', { json: 'namespace-list.json' });
  fake.script('watch', { events: 'watch-none.ndjson', then: 'hold' });
  const root = await mkdtemp(join(tmpdir(), 'tandem-cluster-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const kubeconfig = join(root, 'kubeconfig');
  await writeFile(kubeconfig, fake.kubeConfig().exportConfig());
  const policies = join(root, 'policies');
  await cp(REPO_POLICIES, policies, { recursive: true });
  await writeFile(join(policies, 'debug-tools.yaml'), PRIVILEGED_POLICY);
  const child = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--grace-period',
      '0',
      '--policies',
      policies,
    ],
    {
      env: { ...process.env, KUBECONFIG: kubeconfig, HOME: root, XDG_RUNTIME_DIR: root },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit');
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  const port = Number((await waitFor(() => stdout + stderr, /"port":(\d+)/, 60_000))[1]);
  const certFile = (await waitFor(() => stderr, /certificate: (\S+)/, 30_000))[1] ?? '';
  const ca = [await readFile(certFile, 'utf8')];
  await waitFor(() => stdout, /namespace cache synced/, 30_000);
  return { port, ca, fake, log: () => stdout };
}

t.test('cluster mode: ready after the namespace list, native sidecars on 1.35', async (t) => {
  const { port, ca, fake, log } = await startServe(t, 'version-kind-1.35.json');
  t.equal((await send({ port, ca, path: '/readyz' })).status, 200);
  t.match(log(), /"source":"kubeconfig-env"/);
  t.ok(fake.seen.some((r) => r.route === 'list' && r.authorization === 'Bearer test-token'));
  const reply = await sendReview({ port, ca }, reviewFor(redisPod(), { namespace: 'default' }));
  const response = (JSON.parse(reply.text) as { response: { allowed: boolean; patch: string } })
    .response;
  t.equal(response.allowed, true);
  const patch = JSON.parse(Buffer.from(response.patch, 'base64').toString()) as { path: string }[];
  t.ok(
    patch.some((op) => op.path.startsWith('/spec/initContainers')),
    'native sidecars',
  );
});

t.test(
  "cluster mode: a policy that breaks the namespace's Pod Security level is denied by name",
  async (t) => {
    const { port, ca } = await startServe(t, 'version-kind-1.35.json');
    const pod = {
      ...redisPod(),
      metadata: { name: 'dbg', annotations: { 'tandem.dev/inject': 'debug-tools' } },
    };
    const reply = await sendReview({ port, ca }, reviewFor(pod, { namespace: 'shop' }));
    const response = (
      JSON.parse(reply.text) as { response: { allowed: boolean; status: { message: string } } }
    ).response;
    t.equal(response.allowed, false);
    t.match(
      response.status.message,
      /policy "debug-tools" would break namespace "shop"'s Pod Security level "restricted"/,
    );
    t.match(response.status.message, /privileged/);
  },
);

t.test('cluster mode: a 1.28 cluster gets classic sidecars, and the log says why', async (t) => {
  const { port, ca, log } = await startServe(t, 'version-eks-1.28.json');
  t.match(log(), /native sidecars need 1\.29 or later/);
  const reply = await sendReview({ port, ca }, reviewFor(redisPod(), { namespace: 'default' }));
  const response = (JSON.parse(reply.text) as { response: { patch: string } }).response;
  const patch = JSON.parse(Buffer.from(response.patch, 'base64').toString()) as { path: string }[];
  t.ok(
    patch.some((op) => op.path === '/spec/containers/-'),
    'the proxy is a classic container',
  );
  t.notOk(
    patch.some(
      (op) =>
        op.path.startsWith('/spec/initContainers') &&
        JSON.stringify(op).includes('"restartPolicy":"Always"'),
    ),
    'no native sidecar',
  );
});

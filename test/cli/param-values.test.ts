/**
 * Param values through the real command line: the PolicyValues document that `lint`,
 * `inject` and `explain` load from the policies directory, and `--namespace-annotations`,
 * the offline stand-in for a namespace's annotations.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parse } from 'yaml';
import { GREETER_VALUES, greeterPolicy } from '../fixtures/greeter.ts';
import { REPO_POLICIES } from '../fixtures/reviews/harness.ts';
import { runTandem } from '../fixtures/tandem-cli.ts';

const GREETER = greeterPolicy({ audienceSetBy: 'namespace', accent: true });

const VALUES = GREETER_VALUES;

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  annotations:
    tandem.dev/inject: greeter
    greeter.tandem.dev/accent: posh
spec:
  containers: [{name: web, image: registry.example/web:1}]
`;

async function workdir(t: Test, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-values-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await Promise.all(Object.entries(files).map(([name, text]) => writeFile(join(dir, name), text)));
  return dir;
}

t.test('explain shows every value and where it came from', async (t) => {
  const dir = await workdir(t, { 'greeter.yaml': GREETER, 'values.yaml': VALUES });
  const annotations = join(dir, 'namespaces.txt');
  await writeFile(annotations, 'shop: {greeter.tandem.dev/audience: shoppers}\n');
  const explained = runTandem(
    ['explain', '-f', '-', '--policies', dir, '--namespace-annotations', annotations],
    POD,
  );
  t.equal(explained.code, 0, explained.stderr);
  t.equal(
    explained.stdout,
    [
      'Pod/web (namespace shop):',
      '  + greeter: inject (requested in tandem.dev/inject)',
      `      greeting="hello" (cluster values, ${join(dir, 'values.yaml')}:6)`,
      '      audience="shoppers" (annotation greeter.tandem.dev/audience of namespace "shop")',
      '      accent="posh" (pod annotation greeter.tandem.dev/accent)',
      '  result: inject greeter',
      '',
    ].join('\n'),
  );
  t.end();
});

t.test('inject renders the values by precedence; without the flag the cluster value', async (t) => {
  const dir = await workdir(t, { 'greeter.yaml': GREETER, 'values.yaml': VALUES });
  const annotations = join(dir, 'namespaces.txt');
  await writeFile(annotations, 'shop: {greeter.tandem.dev/audience: shoppers}\n');
  const env = (args: string[]): Record<string, string> => {
    const out = runTandem(['inject', '-f', '-', '--policies', dir, ...args], POD);
    t.equal(out.code, 0, out.stderr);
    const pod = parse(out.stdout) as {
      spec: { initContainers: { name: string; env: { name: string; value: string }[] }[] };
    };
    const greeter = pod.spec.initContainers.find((c) => c.name === 'greeter');
    return Object.fromEntries((greeter?.env ?? []).map((e) => [e.name, e.value]));
  };
  t.strictSame(env(['--namespace-annotations', annotations]), {
    GREETING: 'hello',
    AUDIENCE: 'shoppers',
    ACCENT: 'posh',
  });
  t.strictSame(env([]), { GREETING: 'hello', AUDIENCE: 'everyone', ACCENT: 'posh' });
  t.end();
});

t.test(
  'a pod may not set a param whose setBy is namespace: inject exits 1 naming it',
  async (t) => {
    const dir = await workdir(t, { 'greeter.yaml': GREETER, 'values.yaml': VALUES });
    const pod = POD.replace('greeter.tandem.dev/accent: posh', 'greeter.tandem.dev/audience: me');
    const out = runTandem(['inject', '-f', '-', '--policies', dir], pod);
    t.equal(out.code, 1);
    t.equal(out.stdout, '');
    t.match(
      out.stderr,
      'denied: annotation greeter.tandem.dev/audience sets param "audience" of policy "greeter", which only the cluster admin or a namespace annotation may set (setBy: namespace); remove it from the pod',
    );
    t.end();
  },
);

t.test('lint counts the cluster values, and names a value that does not fit', async (t) => {
  const dir = await workdir(t, { 'greeter.yaml': GREETER, 'values.yaml': VALUES });
  const ok = runTandem(['lint', dir]);
  t.strictSame(
    { code: ok.code, stdout: ok.stdout },
    {
      code: 0,
      stdout: '1 policy OK (2 cluster values)\n',
    },
  );
  await writeFile(join(dir, 'values.yaml'), VALUES.replace('greeting: hello', 'greeting: Hello'));
  const bad = runTandem(['lint', dir]);
  t.equal(bad.code, 1);
  t.equal(
    bad.stdout,
    `${join(dir, 'values.yaml')}:6:15: spec.greeter.greeting: the value of param "greeting" has value "Hello", which policy "greeter" does not accept. Wanted: a value matching "[a-z]{1,16}"\n`,
  );
  t.end();
});

t.test(
  'a --namespace-annotations file that is not a map of maps is a configuration error (exit 2)',
  async (t) => {
    const dir = await workdir(t, { 'greeter.yaml': GREETER });
    const annotations = join(dir, 'namespaces.txt');
    await writeFile(annotations, 'shop: [a]\n');
    const out = runTandem(
      ['explain', '-f', '-', '--policies', dir, '--namespace-annotations', annotations],
      POD,
    );
    t.equal(out.code, 2);
    t.match(out.stderr, 'the annotations of namespace "shop" must be a map of strings');
    t.end();
  },
);

t.test(
  'log-forwarder under automatic injection: the admin sets host once, pods need no param',
  async (t) => {
    const dir = await workdir(t, {
      'values.yaml': `apiVersion: tandem.dev/v1alpha1
kind: PolicyValues
metadata: {name: cluster}
spec:
  log-forwarder: {host: fluentd.logging.svc.cluster.local}
`,
    });
    await cp(REPO_POLICIES, dir, { recursive: true });
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, annotations: {tandem.dev/inject: log-forwarder}}
spec:
  containers: [{name: web, image: registry.example/web:1}]
`;
    const without = runTandem(['explain', '-f', '-'], pod);
    t.equal(without.code, 1, 'without values, the pod would have to name the host');
    t.match(without.stdout, /requires annotation log-forwarder\.tandem\.dev\/host/);
    const out = runTandem(['explain', '-f', '-', '--policies', dir], pod);
    t.equal(out.code, 0, out.stdout);
    t.match(
      out.stdout,
      `      host="fluentd.logging.svc.cluster.local" (cluster values, ${join(dir, 'values.yaml')}:5)`,
    );
    // The admin's automatic copy: pods carry only the label, and nothing else.
    const builtin = await readFile(join(REPO_POLICIES, 'log-forwarder.yaml'), 'utf8');
    await writeFile(
      join(dir, 'log-forwarder.yaml'),
      builtin.replace(
        /^spec:\n/m,
        'spec:\n  selector: {matchLabels: {tandem.dev/logs: enabled}}\n',
      ),
    );
    const labelled = `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {tandem.dev/logs: enabled}}
spec:
  containers: [{name: web, image: registry.example/web:1}]
`;
    const automatic = runTandem(['explain', '-f', '-', '--policies', dir], labelled);
    t.equal(automatic.code, 0, automatic.stdout);
    t.match(automatic.stdout, /\+ log-forwarder: inject \(/);
    t.match(automatic.stdout, /result: inject log-forwarder\n/);
    t.end();
  },
);

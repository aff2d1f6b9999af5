import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runTandem } from '../fixtures/tandem-cli.ts';

// One rule for YAML aliases in every file tandem reads: any number of aliases, as long
// as the document stays under a million nodes once they are expanded. A bomb is refused
// with one line that names the file, by `inject`, `explain` and `lint` alike.

/** billionLaughs is nine levels of nine aliases: 9^9 nodes once expanded. */
function billionLaughs(head: string): string {
  const lines = [head, 'laughs:', '  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 0; i < 8; i++) {
    const name = String.fromCharCode(98 + i);
    const prev = `*${String.fromCharCode(97 + i)}`;
    lines.push(`  ${name}: &${name} [${Array.from({ length: 9 }, () => prev).join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}

/** manyAliases is a pod whose 101 containers share one resources block. */
const manyAliases = `apiVersion: v1
kind: Pod
metadata:
  name: many
  annotations: {tandem.dev/inject: log-forwarder, log-forwarder.tandem.dev/host: fluentd}
spec:
  containers:
${Array.from({ length: 101 }, (_, i) =>
  i === 0
    ? '    - {name: c0, image: app:1, resources: &r {limits: {cpu: 100m}}}'
    : `    - {name: c${i}, image: app:1, resources: *r}`,
).join('\n')}
`;

const BOMB_LINE =
  /^tandem (inject|explain): bomb\.yaml:1: the document's aliases expand it to more than 1,000,000 nodes \(a YAML alias bomb\?\)\n$/;

t.test('a manifest that uses one anchor 101 times is injected and explained', (t) => {
  const injected = runTandem(['inject', '-f', '-'], manyAliases);
  t.equal(injected.code, 0, injected.stderr);
  const pod = parseAllDocuments(injected.stdout)[0]?.toJS() as {
    spec: { containers: { resources: unknown }[] };
  };
  t.equal(pod.spec.containers.length, 101);
  t.strictSame(pod.spec.containers[100]?.resources, { limits: { cpu: '100m' } });
  const explained = runTandem(['explain', '-f', '-'], manyAliases);
  t.equal(explained.code, 0, explained.stderr);
  t.match(explained.stdout, /result: inject log-forwarder/);
  t.end();
});

t.test(
  'an alias bomb in a manifest is refused with one line naming the file, no stack trace',
  async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tandem-bomb-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'bomb.yaml'), billionLaughs('apiVersion: v1\nkind: ConfigMap'));
    for (const verb of ['inject', 'explain']) {
      const started = Date.now();
      const { code, stdout, stderr } = runTandem([verb, '-f', path.join(dir, 'bomb.yaml')]);
      t.equal(code, 1, verb);
      t.equal(stdout, '', verb);
      t.match(stderr.replace(`${dir}/`, ''), BOMB_LINE, verb);
      t.ok(Date.now() - started < 30_000, `${verb} answers at once`);
    }
  },
);

t.test('lint refuses the same bomb in a policy file and accepts 101 aliases', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tandem-lint-bomb-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const policy = `apiVersion: tandem.dev/v1alpha1
kind: SidecarPolicy
metadata: {name: many}
spec:
  pattern: sidecar
  description: one resources block for every container
  containers:
${Array.from({ length: 101 }, (_, i) =>
  i === 0
    ? '    - {name: c0, image: busybox:1.37.0, resources: &r {limits: {cpu: 10m}}}'
    : `    - {name: c${i}, image: busybox:1.37.0, resources: *r}`,
).join('\n')}
`;
  await writeFile(path.join(dir, 'many.yaml'), policy);
  const good = runTandem(['lint', dir]);
  t.equal(good.code, 0, good.stderr);
  await writeFile(path.join(dir, 'bomb.yaml'), billionLaughs('kind: SidecarPolicy'));
  const bad = runTandem(['lint', dir]);
  t.equal(bad.code, 1);
  const lines = `${bad.stdout}${bad.stderr}`
    .split('\n')
    .filter((line) => line.includes('bomb.yaml'));
  t.strictSame(
    lines.map((line) => line.trim().replace(`${dir}/`, '')),
    [
      "bomb.yaml:1:1: the document's aliases expand it to more than 1,000,000 nodes (a YAML alias bomb?)",
    ],
  );
  t.notMatch(`${bad.stdout}${bad.stderr}`, /\n\s+at /, 'no stack trace');
});

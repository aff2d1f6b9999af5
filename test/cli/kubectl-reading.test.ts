import t, { type Test } from 'tap';
import fc from 'fast-check';
import path from 'node:path';
import { Document } from 'yaml';
import { parseManifests } from '../../src/cli/documents.ts';
import { MANIFEST_YAML_OPTIONS } from '../../src/cli/manifest-yaml.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { REPO_ROOT } from '../fixtures/corpus.ts';
import { KUBECTL_SKIP, kubectlRead, withInjection } from '../fixtures/kubectl-read.ts';
import { runTandem } from '../fixtures/tandem-cli.ts';

// kubectl reads manifests with go-yaml v2's YAML 1.1 rules. Each case holds: for input
// kubectl accepts, kubectl reads `tandem inject`'s output as the same objects plus the
// injection (tandem's engine run on what kubectl read). One kubectl process per side.

const policies = await loadPolicies(path.join(REPO_ROOT, 'policies'));

/** roundTrip checks one manifest stream through the real CLI and the real kubectl. */
async function roundTrip(t: Test, input: string): Promise<string> {
  const { code, stdout, stderr } = runTandem(['inject', '-f', '-'], input);
  t.equal(code, 0, stderr);
  const expected = (await kubectlRead(input)).map((o) => withInjection(o, policies));
  t.not(expected, await kubectlRead(input), 'the engine injects something');
  t.strictSame(await kubectlRead(stdout), expected, 'kubectl reads the input plus the injection');
  return stdout;
}

// The pod template's head: a request for the log forwarder, which adds containers,
// volumes, mounts on the app container and annotations.
const HEAD = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations:
        tandem.dev/inject: log-forwarder
        log-forwarder.tandem.dev/host: fluentd.logging
`;

t.test(
  'strings that YAML 1.1 reads as booleans or numbers stay strings',
  { skip: KUBECTL_SKIP },
  async (t) => {
    const words = ['no', 'on', 'off', 'yes', 'y', 'n', 'Y', 'NO', '1_000', '0o17', '0x_1F'];
    const more = ['+1', '.5', '1e3', '1.', '2001-12-14', '1:20', '~', 'null', '<<', '=', '-'];
    const annotations = [...words, ...more].map((w, i) => `        w${i}: "${w}"\n`).join('');
    await roundTrip(
      t,
      `${HEAD}${annotations}    spec:
      containers:
        - name: app
          image: nginx:1.27
          env: [{name: ANSWER, value: "off"}, {name: OK, value: "yes"}, {name: N, value: "1_000"}]
`,
    );
  },
);

t.test(
  'DEL, C1 controls and line separators are written as escapes',
  { skip: KUBECTL_SKIP },
  async (t) => {
    const output = await roundTrip(
      t,
      `${HEAD}        del: "a\\x7Fb"
        c1: "a\\x85b\\x9Fc"
        separators: "a\\u2028b\\u2029c"
        bom: "\\uFEFF"
    spec:
      containers: [{name: app, image: nginx:1.27}]
`,
    );
    t.notMatch(output, /[\x7f-\x9f\u2028\u2029\ufeff]/u, 'no such character is written raw');
  },
);

t.test('integers beyond 2^53 keep every digit', { skip: KUBECTL_SKIP }, async (t) => {
  const output = await roundTrip(
    t,
    `${HEAD}    spec:
      terminationGracePeriodSeconds: 9007199254740993
      activeDeadlineSeconds: 9223372036854775807
      containers: [{name: app, image: nginx:1.27}]
`,
  );
  t.match(output, /terminationGracePeriodSeconds: 9007199254740993\n/);
});

t.test('octal file modes stay octal', { skip: KUBECTL_SKIP }, async (t) => {
  const output = await roundTrip(
    t,
    `${HEAD}    spec:
      volumes:
        - {name: token, secret: {secretName: token, defaultMode: 0444}}
        - {name: scripts, configMap: {name: scripts, defaultMode: 0755}}
      containers: [{name: app, image: nginx:1.27}]
`,
  );
  t.match(output, /defaultMode: 0444 /);
  t.match(output, /defaultMode: 0755 /);
});

t.test(
  'a container built with merge keys keeps what it merged and gains the injection',
  { skip: KUBECTL_SKIP },
  async (t) => {
    // go-yaml v2 applies a map's pairs in order, so the merge overrides the `image` set
    // before it; in a list of merged maps the first one wins.
    await roundTrip(
      t,
      `${HEAD}    spec:
      volumes: [{name: data, emptyDir: {}}]
      initContainers:
        - &base
          name: setup
          image: busybox:1.37.0
          env: [{name: FROM_BASE, value: "1"}]
          volumeMounts: [{name: data, mountPath: /data}]
      containers:
        - image: overridden-by-the-merge
          <<: *base
          name: app
        - <<: [{name: second, env: [{name: FIRST_WINS, value: "1"}]}, *base]
`,
    );
  },
);

t.test(
  'injecting into one copy of an alias leaves the other copies alone',
  { skip: KUBECTL_SKIP },
  async (t) => {
    await roundTrip(
      t,
      `${HEAD}        tandem.dev/target-containers: app
    spec:
      volumes: [{name: data, emptyDir: {}}]
      containers:
        - name: app
          image: nginx:1.27
          volumeMounts: &mounts [{name: data, mountPath: /data}]
        - name: helper
          image: busybox:1.37.0
          volumeMounts: *mounts
`,
    );
  },
);

t.test(
  'a key written twice is read as kubectl does: the last one wins',
  { skip: KUBECTL_SKIP },
  async (t) => {
    await roundTrip(
      t,
      `${HEAD}    spec:
      containers:
        - name: app
          image: first
          image: nginx:1.27
`,
    );
  },
);

t.test(
  'every string tandem writes is read back by kubectl as the same string',
  { skip: KUBECTL_SKIP },
  async (t) => {
    // Strings built from the characters that decide how YAML 1.1 reads a scalar, written
    // as new values (the way injected containers and annotations are), in one ConfigMap.
    const alphabet = [
      ...'0123456789+-._:eExXoObB yYnN~#\'"\t\n',
      'on',
      'off',
      'yes',
      'no',
      'true',
      'null',
      '.inf',
      '<<',
      '\x7f',
      '\x85',
      '\x9f',
      '\u2028',
      '\u2029',
      '\ufeff',
      '\u00a0',
      '\u0001',
      '\u{1F600}',
      'é',
    ];
    const strings = fc.sample(
      fc.oneof(
        fc.constantFrom(...alphabet),
        fc.array(fc.constantFrom(...alphabet), { maxLength: 8 }).map((parts) => parts.join('')),
        fc.string({ unit: 'binary', maxLength: 12 }),
      ),
      { numRuns: 2000, seed: 10 },
    );
    const data = Object.fromEntries(strings.map((value, i) => [`k${i}`, value]));
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'strings' }, data };
    const yaml = new Document(configMap, MANIFEST_YAML_OPTIONS).toString();
    const [read] = await kubectlRead(yaml);
    t.strictSame((read as { data: unknown }).data, data);
  },
);

t.test(
  'plain scalars that go-yaml v2 reads as strings are read as strings: a managedFields `.` key too',
  { skip: KUBECTL_SKIP },
  async (t) => {
    const scalars = [
      '.',
      '+.',
      '1.',
      '.5',
      '1_0.5',
      '1e3',
      '.e3',
      '1.5e3',
      '-.5',
      '._',
      '+1.',
      '+_1.5',
      '1_e3',
      '._5',
      '1e_3',
    ];
    const entries = scalars.map((s, i) => `  v${i}: ${s}\n`).join('');
    const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: scalars}\nx:\n  .: {}\n${entries}`;
    const [read] = await kubectlRead(yaml);
    const [ours] = parseManifests(yaml, 'scalars');
    t.strictSame(
      (ours?.value as { x: unknown }).x,
      (read as { x: unknown }).x,
      'tandem reads what kubectl reads',
    );
  },
);

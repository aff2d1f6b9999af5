import t from 'tap';
import { runTandem } from '../fixtures/tandem-cli.ts';

// `tandem inject` writes a document it does not change exactly as it read it, and a
// document it injects with the author's comments.

const CONFIG_MAP_WITHOUT_FINAL_NEWLINE = `apiVersion: v1
kind: ConfigMap
metadata: {name: script}
data:
  run.sh: |
    #!/bin/sh
    echo no newline at the end of the file`;

const INJECTED_POD = `# The app's pod, asking for the log forwarder.
apiVersion: v1
kind: Pod
metadata:
  name: app # named after the app
  annotations:
    tandem.dev/inject: log-forwarder   # ship the logs
    log-forwarder.tandem.dev/host: fluentd.logging
spec:
  # the app itself
  containers:
    - name: app
      image: nginx:1.27 # pinned
`;

t.test(
  'documents nothing applies to come out byte for byte, a last line without its newline too',
  (t) => {
    const input = [
      '# leading comment\n\n',
      'apiVersion: v1\nkind: Service\nmetadata:   {name: web}   # odd spacing kept\n',
      'spec: {ports: [{port: 0x50}]}\n...\n',
      '---\napiVersion: v1\nkind: Pod\nmetadata: {name: plain}\n',
      "spec: {containers: [{name: a, image: 'a'}]}\n",
      '--- # a marker comment\r\n',
      CONFIG_MAP_WITHOUT_FINAL_NEWLINE,
    ].join('');
    const { code, stdout, stderr } = runTandem(['inject', '-f', '-'], input);
    t.equal(code, 0, stderr);
    t.equal(stdout, input);
    t.end();
  },
);

t.test('empty documents stay as many as they were, pass after pass', (t) => {
  const input =
    '---\n---\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: a}]}\n---\n';
  let text = input;
  for (let pass = 1; pass <= 3; pass++) {
    const { code, stdout, stderr } = runTandem(['inject', '-f', '-'], text);
    t.equal(code, 0, stderr);
    t.equal(stdout, input, `pass ${pass}`);
    text = stdout;
  }
  t.end();
});

t.test(
  'an injected document keeps its comments, and the documents around it stay byte for byte',
  (t) => {
    const before = '# first\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n';
    const after = `---\n${CONFIG_MAP_WITHOUT_FINAL_NEWLINE}`;
    const input = `${before}---\n${INJECTED_POD}${after}`;
    const { code, stdout, stderr } = runTandem(['inject', '-f', '-'], input);
    t.equal(code, 0, stderr);
    t.ok(stdout.startsWith(`${before}---\n# The app's pod, asking for the log forwarder.\n`));
    t.ok(stdout.endsWith(`\n${after}`), 'the last document is untouched');
    for (const comment of [
      '# named after the app',
      '# ship the logs',
      '# the app itself',
      '# pinned',
    ]) {
      t.ok(stdout.includes(comment), comment);
    }
    t.match(stdout, /name: tandem-fluent-bit/);
    t.end();
  },
);

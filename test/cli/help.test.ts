import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { VERBS } from '../../src/cli.ts';
import { envTwin } from '../../src/cli/flags.ts';
import { REPO_ROOT } from '../fixtures/corpus.ts';
import { runTandem } from '../fixtures/tandem-cli.ts';

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'deployment.yaml');

t.test('tandem --version prints the version in package.json', (t) => {
  const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  t.strictSame(runTandem(['--version']), { code: 0, stdout: `${version}\n`, stderr: '' });
  t.end();
});

t.test('tandem --help lists every verb and --version', (t) => {
  const { code, stdout } = runTandem(['--help']);
  t.equal(code, 0);
  for (const verb of Object.keys(VERBS)) t.match(stdout, new RegExp(`^  ${verb} `, 'm'));
  t.match(stdout, /--version/);
  t.end();
});

for (const [verb, entry] of Object.entries(VERBS)) {
  t.test(
    `tandem ${verb} --help lists every flag of the verb with its environment twin`,
    async (t) => {
      const { FLAGS } = await entry.load();
      const { code, stdout, stderr } = runTandem([verb, '--help']);
      t.strictSame({ code, stderr }, { code: 0, stderr: '' });
      t.ok(Object.keys(FLAGS).length > 0);
      for (const name of Object.keys(FLAGS)) {
        t.match(
          stdout,
          new RegExp(`--${name}\\b[^\\n]*\\n(?:[^\\n]*\\n)*?[^\\n]*\\(env ${envTwin(name)}\\b`),
          name,
        );
      }
      t.match(stdout, /-h, --help/);
    },
  );
}

function initContainerNames(stdout: string): unknown {
  const deployment = parseAllDocuments(stdout)[0]?.toJS() as {
    spec: { template: { spec: { initContainers?: { name: string }[] } } };
  };
  return (deployment.spec.template.spec.initContainers ?? []).map((c) => c.name);
}

t.test('an environment twin sets its flag, and the flag on the command line wins', (t) => {
  const classic = runTandem(['inject', '-f', EXAMPLE], undefined, {
    TANDEM_SIDECAR_MODE: 'classic',
  });
  t.equal(classic.code, 0, classic.stderr);
  t.strictSame(initContainerNames(classic.stdout), ['tandem-nutcracker-config']);
  const native = runTandem(['inject', '-f', EXAMPLE, '--sidecar-mode', 'native'], undefined, {
    TANDEM_SIDECAR_MODE: 'classic',
  });
  t.equal(native.code, 0, native.stderr);
  t.strictSame(initContainerNames(native.stdout), [
    'tandem-nutcracker-config',
    'tandem-nutcracker',
    'tandem-nutcracker-gate',
    'tandem-fluent-bit',
  ]);
  t.end();
});

t.test('a bad value in an environment twin is a usage error naming the variable', (t) => {
  t.strictSame(runTandem(['lint'], undefined, { TANDEM_PSS: 'strict' }), {
    code: 2,
    stdout: '',
    stderr: runTandem(['lint', '--pss', 'strict']).stderr,
  });
  const serve = runTandem(['serve'], undefined, { TANDEM_NO_CLUSTER: 'maybe' });
  t.equal(serve.code, 2);
  t.match(serve.stderr, /TANDEM_NO_CLUSTER must be true, false, 1 or 0, not "maybe"/);
  t.end();
});

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { builtCli } from '../fixtures/built-cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join('test', 'fixtures', 'policies');

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** lint runs the built `tandem lint ...args` from the repository root, as a user would. */
async function lint(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      builtCli(['lint', ...args]),
      {
        cwd: ROOT,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

t.test('exits 0 and counts the policies when the directory is clean', async (t) => {
  const result = await lint(join(FIXTURES, 'valid'));
  t.strictSame(result, { code: 0, stdout: '3 policies OK\n', stderr: '' });
});

t.test('exits 1 and prints each issue as file:line:column: field: message', async (t) => {
  const result = await lint(join(FIXTURES, 'several'));
  t.equal(result.code, 1);
  const file = join(FIXTURES, 'several', 'problems.yaml');
  t.strictSame(result.stdout.split('\n'), [
    `${file}:5:3: metadata.colour: unknown field "colour"`,
    `${file}:9:7: spec.containers[0].image: required field is missing`,
    `${file}:18:21: spec.params.port.default: default "x" does not match the param's pattern`,
    `${file}:21:14: spec.containers[0].image: template references params.tag, which spec.params does not declare`,
    '',
  ]);
  t.match(result.stderr, /4 problems/);
});

t.test('exits 1 on conflicts between policies', async (t) => {
  const result = await lint(join(FIXTURES, 'conflicts'));
  t.equal(result.code, 1);
  t.match(
    result.stdout,
    /b-metrics\.yaml:10:13: spec\.initContainers\[0\]\.name: container "agent"/,
  );
});

t.test('exits 2 on usage errors', async (t) => {
  for (const args of [['--pss', 'lenient'], ['--nope'], ['a', 'b']]) {
    const result = await lint(...args);
    t.equal(result.code, 2, args.join(' '));
    t.match(result.stderr, /Usage: tandem lint/);
  }
});

t.test('exits 2 when the directory cannot be read, naming it', async (t) => {
  const result = await lint(join(FIXTURES, 'no-such-dir'));
  t.equal(result.code, 2);
  t.match(result.stderr, /cannot read policies directory ".*no-such-dir": ENOENT/);
});

t.test('--help prints the usage and exits 0', async (t) => {
  const result = await lint('--help');
  t.equal(result.code, 0);
  t.match(result.stdout, /^Usage: tandem lint \[DIR\] \[--pss LEVEL\]/);
});

t.test('the built-in policies lint clean, also against restricted', async (t) => {
  t.strictSame(await lint('policies'), { code: 0, stdout: '3 policies OK\n', stderr: '' });
  t.equal((await lint('--pss', 'restricted')).code, 0, 'policies/ is the default DIR');
});

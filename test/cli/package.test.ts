/**
 * Issue 13 item 3: tandem installs as a package. `npm pack` makes the tarball a registry
 * would serve; it is installed into an empty folder with no registry at all (the build
 * bundles every dependency, so the package has none to fetch), and the installed
 * `tandem` runs from there: Node refuses to strip types under node_modules, so this
 * fails unless what is installed is JavaScript.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../fixtures/corpus.ts';

// npm pack and npm install are two processes of a few seconds each on a quiet machine.
t.setTimeout(300_000);

/** npm runs the npm that runs this test (npm_execpath), or the one on PATH. */
function npm(args: readonly string[], cwd: string): string {
  const script = process.env['npm_execpath'];
  const [command, prefix] = script === undefined ? ['npm', []] : [process.execPath, [script]];
  return execFileSync(command, [...prefix, ...args], {
    cwd,
    encoding: 'utf8',
    // Node 24 first on PATH: npm runs the package's bin with the `node` it finds there.
    env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` },
  });
}

t.test(
  'the packed tarball installs offline into an empty folder, and its tandem runs --version and inject',
  async (t) => {
    const folder = await mkdtemp(join(tmpdir(), 'tandem-package-'));
    t.teardown(() => rm(folder, { recursive: true, force: true }));
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', folder], REPO_ROOT)) as {
      filename: string;
      files: { path: string }[];
    }[];
    const tarball = join(folder, packed[0]?.filename ?? '');
    const shipped = (packed[0]?.files ?? []).map((f) => f.path);
    t.ok(shipped.includes('dist/tandem.js'), 'the build is in the tarball');
    t.notOk(
      shipped.some((path) => path.startsWith('src/') || path.endsWith('.ts')),
      'no TypeScript is in the tarball',
    );

    const home = join(folder, 'app');
    npm(['init', '-y'], folder);
    execFileSync('mkdir', ['-p', home]);
    await copyFile(join(folder, 'package.json'), join(home, 'package.json'));
    npm(['install', '--offline', '--no-audit', '--no-fund', tarball], home);
    const installed = JSON.parse(
      await readFile(join(home, 'node_modules', 'tandem', 'package.json'), 'utf8'),
    ) as { version: string; dependencies?: Record<string, string> };
    t.strictSame(installed.dependencies, undefined, 'nothing else is installed with it');

    const bin = join(home, 'node_modules', '.bin', 'tandem');
    const run = (args: readonly string[]) =>
      spawnSync(bin, args, {
        cwd: home,
        encoding: 'utf8',
        env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` },
      });
    const version = run(['--version']);
    t.strictSame([version.status, version.stdout], [0, `${installed.version}\n`], version.stderr);

    const example = join(REPO_ROOT, 'examples', 'deployment.yaml');
    const policies = join(home, 'node_modules', 'tandem', 'policies');
    const injected = run(['inject', '-f', example, '--policies', policies]);
    t.strictSame(injected.status, 0, injected.stderr);
    const pod = parseAllDocuments(injected.stdout)[0]?.toJS() as {
      spec: { template: { spec: { initContainers?: { name: string }[] } } };
    };
    const names = pod.spec.template.spec.initContainers?.map((c) => c.name) ?? [];
    t.strictSame(
      ['tandem-nutcracker', 'tandem-fluent-bit'].filter((name) => names.includes(name)),
      ['tandem-nutcracker', 'tandem-fluent-bit'],
      'the built-in policies ship with the package and inject from there',
    );
  },
);

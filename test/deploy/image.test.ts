import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { imageNodeFlags } from '../../bench/image-flags.ts';
import { REPO_ROOT } from '../../scripts/render-deploy.ts';
import { CHART_DIR } from '../../scripts/render-chart.ts';

// The Dockerfile cannot be built here (no Docker engine); these read it, and the places
// that name the image, so that they agree with each other and with package.json.

interface Stage {
  readonly from: string;
  readonly lines: string[];
}

async function stages(): Promise<Stage[]> {
  const text = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const out: Stage[] = [];
  for (const line of text.split('\n')) {
    const from = /^FROM (?:--platform=\S+ )?(\S+)/.exec(line)?.[1];
    if (from !== undefined) out.push({ from, lines: [] });
    else if (!line.startsWith('#') && line.trim() !== '') out.at(-1)?.lines.push(line);
  }
  return out;
}

async function packageJson(): Promise<{
  version: string;
  devDependencies: Record<string, string>;
}> {
  return JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    version: string;
    devDependencies: Record<string, string>;
  };
}

t.test(
  'the image runs the project’s Node major on a maintained distroless base, where that image keeps node',
  async (t) => {
    const [build, runtime, ...more] = await stages();
    t.strictSame(more, [], 'two stages');
    const nodeMajor = (await packageJson()).devDependencies['node']?.split('.')[0];
    const base = /^gcr\.io\/distroless\/nodejs(\d+)-debian(\d+):nonroot$/.exec(runtime?.from ?? '');
    t.ok(base, `distroless nodejs, nonroot tag: ${runtime?.from}`);
    t.equal(base?.[1], nodeMajor, 'the Node major the tests run on');
    // distroless stopped updating its nodejs debian12 images on 2026-02-27.
    t.ok(Number(base?.[2]) >= 13, 'Debian 13 or later');
    t.equal(
      build?.from,
      `node:${nodeMajor}-trixie-slim`,
      'the build stage: same Node, same Debian',
    );
    t.ok(runtime?.lines.includes('USER 65532'), 'numeric non-root user');
    t.ok(
      runtime?.lines.includes(
        'ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=8", "dist/tandem.js"]',
      ),
      "distroless's node, at /nodejs/bin/node, running the build",
    );
    t.ok(build?.lines.includes('RUN node scripts/build.ts'), 'the build stage builds dist/');
    t.ok(
      runtime?.lines.includes('COPY --from=build /app/dist/ dist/'),
      'the image ships the build, not the sources',
    );
    t.notOk(
      runtime?.lines.some((line) => /\bsrc\/|node_modules/.test(line)),
      'nor the TypeScript or node_modules',
    );
  },
);

t.test(
  'the chart, the kustomization and package.json name one image and one version',
  async (t) => {
    const { version } = await packageJson();
    const chart = parse(await readFile(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as {
      version: string;
      appVersion: string;
    };
    const values = parse(await readFile(join(CHART_DIR, 'values.yaml'), 'utf8')) as {
      image: { repository: string; tag: string };
    };
    const kustomization = parse(await readFile(join(REPO_ROOT, 'kustomization.yaml'), 'utf8')) as {
      images: { name: string; newName: string; newTag: string }[];
    };
    t.equal(chart.version, version, 'chart version');
    t.equal(chart.appVersion, version, 'chart appVersion');
    t.equal(values.image.tag, '', 'the chart takes its tag from appVersion');
    t.strictSame(kustomization.images, [
      { name: 'tandem', newName: values.image.repository, newTag: version },
    ]);
  },
);

t.test(
  "the image caps V8's young generation, and the bench starts tandem with the image's node flags",
  async (t) => {
    const dockerfile = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    t.strictSame(imageNodeFlags(dockerfile), ['--max-semi-space-size=8']);
    t.throws(
      () => imageNodeFlags('ENTRYPOINT ["/nodejs/bin/node", "other.js"]'),
      /does not end with dist\/tandem\.js/,
      'an entrypoint the bench cannot read is an error, not an empty list',
    );
  },
);

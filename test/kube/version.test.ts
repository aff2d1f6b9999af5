import t from 'tap';
import { TandemError } from '../../src/errors.ts';
import {
  fetchClusterVersion,
  nativeSupport,
  parseClusterVersion,
  supportsNativeSidecars,
  type ClusterVersion,
} from '../../src/kube/version.ts';
import { decideSidecars as decide, type SidecarModeSetting } from '../../src/sidecar-mode.ts';

/** decideSidecars decides for a cluster of `version`, as `tandem serve` does at start. */
const decideSidecars = (flag: SidecarModeSetting, version: ClusterVersion | undefined) =>
  decide(flag, nativeSupport(version));
import { recorded, startFakeApiServer } from '../fixtures/kube/fake-apiserver.ts';

const v = (major: number, minor: number): ClusterVersion => ({
  major,
  minor,
  text: `v${major}.${minor}.0`,
});

t.test('reads major and minor as managed clusters decorate them', (t) => {
  const cases: [string, Parameters<typeof parseClusterVersion>[0], [number, number] | undefined][] =
    [
      ['plain', { major: '1', minor: '35', gitVersion: 'v1.35.0' }, [1, 35]],
      ['GKE and EKS "29+"', { major: '1', minor: '29+', gitVersion: 'v1.29.10-gke.1' }, [1, 29]],
      [
        'an unreadable minor, from gitVersion',
        { major: '1', minor: '', gitVersion: 'v1.30.2' },
        [1, 30],
      ],
      ['gitVersion without a v', { gitVersion: '1.31.0-rc.1' }, [1, 31]],
      [
        'an emulated version wins over the binary',
        { major: '1', minor: '31', emulationMajor: '1', emulationMinor: '28' },
        [1, 28],
      ],
      ['nothing readable', { major: 'x', minor: 'y', gitVersion: 'dev' }, undefined],
    ];
  for (const [name, info, want] of cases) {
    const got = parseClusterVersion(info);
    t.strictSame(got === undefined ? undefined : [got.major, got.minor], want, name);
  }
  t.end();
});

t.test('native sidecars are supported from 1.29 on', (t) => {
  t.equal(supportsNativeSidecars(v(1, 28)), false);
  t.equal(supportsNativeSidecars(v(1, 29)), true);
  t.equal(supportsNativeSidecars(v(1, 35)), true);
  t.equal(supportsNativeSidecars(v(2, 0)), true);
  t.equal(supportsNativeSidecars(v(0, 99)), false);
  t.end();
});

t.test('a cluster before 1.29 never gets native sidecars, whatever the flag says', (t) => {
  for (const flag of ['auto', 'native', 'classic'] as const) {
    for (const version of [v(1, 28), undefined]) {
      const decision = decideSidecars(flag, version);
      t.match(decision, { sidecarMode: 'classic', nativeSidecarsSupported: false }, flag);
    }
  }
  t.match(decideSidecars('native', v(1, 28)).warning, /1\.28.*--sidecar-mode native is ignored/);
  t.match(decideSidecars('auto', undefined).warning, /unknown version/);
  t.equal(decideSidecars('classic', v(1, 28)).warning, undefined, 'classic asked, classic got');
  t.end();
});

t.test('from 1.29, auto means native and an explicit flag is obeyed', (t) => {
  t.strictSame(decideSidecars('auto', v(1, 29)), {
    sidecarMode: 'native',
    nativeSidecarsSupported: true,
    warning: undefined,
  });
  t.strictSame(decideSidecars('classic', v(1, 30)), {
    sidecarMode: 'classic',
    nativeSidecarsSupported: true,
    warning: undefined,
  });
  t.equal(decideSidecars('native', v(1, 35)).sidecarMode, 'native');
  t.end();
});

t.test("asks the apiserver's /version with the kubeconfig's credentials", async (t) => {
  const server = await startFakeApiServer();
  t.teardown(() => server.close());
  const kubeConfig = server.kubeConfig();
  const recordings: [string, [number, number], boolean][] = [
    ['version-kind-1.35.json', [1, 35], true],
    ['version-gke-1.29.json', [1, 29], true],
    ['version-eks-1.28.json', [1, 28], false],
    ['version-emulated-1.28.json', [1, 28], false],
  ];
  for (const [file, [major, minor], native] of recordings) {
    server.script('version', { json: file });
    const version = await fetchClusterVersion(kubeConfig);
    t.match(version, { major, minor }, file);
    t.equal(version !== undefined && supportsNativeSidecars(version), native, file);
  }
  const kind = JSON.parse(recorded('version-kind-1.35.json')) as { gitVersion: string };
  server.script('version', { json: 'version-kind-1.35.json' });
  t.equal((await fetchClusterVersion(kubeConfig))?.text, kind.gitVersion);
});

t.test('a failed /version is a TANDEM_ERR_CLUSTER error that keeps its cause', async (t) => {
  const server = await startFakeApiServer();
  t.teardown(() => server.close());
  server.script('version', { json: 'status-unavailable.json', status: 503 });
  const error = await fetchClusterVersion(server.kubeConfig()).catch((e: unknown) => e);
  t.ok(error instanceof TandemError);
  t.match(error, { code: 'TANDEM_ERR_CLUSTER' });
  t.ok(error instanceof Error && error.cause !== undefined);
});

/**
 * `npm run bench`: the real `tandem serve` against a bare fastify baseline, in one run,
 * over TLS on loopback (issue 5). Per body: reviews/s at saturation, latency at a fixed
 * rate, RSS; then 1,000 loaded policies, a 50-container pod, RSS over 100,000 reviews
 * on a fresh server and, with --profile, a CPU profile of the hot path.
 *
 *   node bench/run.ts [--quick] [--profile] [--availability-only] [--hostile-only]
 *                     [--memory-only] [--cli-startup-only] [--out FILE]
 *
 * Every tandem it starts is the build in dist/, what the image and an installed package
 * run: `npm run bench` builds it first (`node bench/run.ts` alone uses the last build).
 * It starts with the command line's start-up (bench/cli-startup.ts), build and sources.
 *
 * Every load is bounded by a duration or a count, and every child is stopped by its pid
 * when the run ends or fails.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generate } from 'selfsigned';
import { parse as parseYaml } from 'yaml';
import {
  everyAnswered,
  formatAvailability,
  measureDrain,
  measureIdleFlood,
} from './availability.ts';
import {
  benchBodies,
  distinctReviews,
  manyContainersBody,
  singlePolicyBody,
  type BenchBody,
} from './bodies.ts';
import {
  comparePaced,
  compareSaturation,
  saturate,
  sendAmount,
  warmUp,
  type Latency,
  type Saturation,
} from './load.ts';
import { formatHostile, hostileFailures, measureHostile, type HostileOptions } from './hostile.ts';
import { writeManyPolicies } from './many-policies.ts';
import { formatCliStartup, measureCliStartup } from './cli-startup.ts';
import { imageNodeFlagsOf } from './image-flags.ts';
import {
  freePort,
  pinCores,
  rssMiB,
  startServer,
  type Pinning,
  type ServerProcess,
} from './processes.ts';
import { formatSummary, summariseProfile } from './profile.ts';
import {
  formatMemoryReport,
  formatReport,
  loadAverage,
  type BodyRow,
  type ContainerScale,
  type MemorySample,
  type PolicyScale,
  type Report,
  type Startup,
} from './report.ts';
import { medianSecondsToReady } from './startup.ts';
import { startFakeApiServer } from '../test/fixtures/kube/fake-apiserver.ts';

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
// The node flags the image runs tandem with (its ENTRYPOINT), before any of the run's own.
const IMAGE_NODE_FLAGS = imageNodeFlagsOf(join(REPO, 'Dockerfile'));

/** Settings are the run's lengths; --quick shortens all of them for a smoke run. */
interface Settings {
  readonly mode: string;
  readonly warmUpSeconds: number;
  /** saturation: `rounds` alternating runs of `saturationSeconds` per server, median kept. */
  readonly saturationSeconds: number;
  readonly rounds: number;
  readonly connections: number;
  readonly rate: number;
  /** latency: `rounds` alternating slices of `latencySeconds` per server, pooled. */
  readonly latencySeconds: number;
  readonly pacedConnections: number;
  readonly memoryCheckpoints: readonly number[];
  readonly profileSeconds: number;
  /** floodConnections: idle TLS connections opened against tandem at once. */
  readonly floodConnections: number;
  /** nodeFlags go to every tandem child after the image's, e.g. `--max-semi-space-size=4` to try a setting. */
  readonly nodeFlags: readonly string[];
}

const FULL: Settings = {
  mode: 'full',
  warmUpSeconds: 1.5,
  saturationSeconds: 2,
  rounds: 3,
  // Enough to keep the server's core busy (its CPU use shows it): with fewer, the
  // round trips between the two cores leave the server idle part of the time, and the
  // run measures latency instead of capacity.
  connections: 32,
  rate: 500,
  latencySeconds: 2,
  // The apiserver holds a few keep-alive connections per webhook endpoint.
  pacedConnections: 4,
  memoryCheckpoints: [20_000, 60_000, 100_000],
  profileSeconds: 10,
  floodConnections: 3000,
  nodeFlags: [],
};

const QUICK: Settings = {
  ...FULL,
  mode: 'quick',
  warmUpSeconds: 0.5,
  saturationSeconds: 1,
  rounds: 1,
  latencySeconds: 1,
  memoryCheckpoints: [2_000, 6_000, 10_000],
  profileSeconds: 3,
};

function describe(settings: Settings, pinning: Pinning): string {
  const nodeFlags = [...IMAGE_NODE_FLAGS, ...settings.nodeFlags];
  const flags = nodeFlags.length > 0 ? `; tandem run with ${nodeFlags.join(' ')}` : '';
  return (
    `${settings.mode}: reviews/s is the median of ${settings.rounds} alternating ${settings.saturationSeconds} s runs per server ` +
    `over ${settings.connections} keep-alive connections (autocannon), after ${settings.warmUpSeconds} s of warm-up; ` +
    `latency at ${settings.rate} reviews/s from ${settings.rounds} alternating ${settings.latencySeconds} s slices per server ` +
    `over ${settings.pacedConnections} connections, open loop, from write to last byte` +
    (pinning.pinned ? '; servers pinned to one core' : '') +
    flags
  );
}

/** Tls is the bench's self-signed pair, written to files as cert-manager would. */
interface Tls {
  readonly certFile: string;
  readonly keyFile: string;
}

async function writeCertificate(dir: string): Promise<Tls> {
  // P-256: generated in milliseconds, and the handshake is the same kind as a real pair's.
  const pem = await generate([{ name: 'commonName', value: 'tandem-bench' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  await writeFile(certFile, pem.cert);
  await writeFile(keyFile, pem.private, { mode: 0o600 });
  return { certFile, keyFile };
}

/** Bench holds what every step needs and every server started, to stop them all. */
interface Bench {
  readonly settings: Settings;
  readonly pinning: Pinning;
  readonly tls: Tls;
  readonly workDir: string;
  readonly servers: Set<ServerProcess>;
  failures: number;
}

/** TandemOptions says which tandem to start; `kubeconfig` runs it in cluster mode. */
interface TandemOptions {
  readonly name: string;
  readonly policies: string;
  readonly nodeFlags?: readonly string[];
  readonly kubeconfig?: string;
}

// The default log level (info): the targets of issue 16 hold with one line per admission.
function tandemArgs(bench: Bench, options: TandemOptions, port: number): string[] {
  return [
    ...IMAGE_NODE_FLAGS,
    ...bench.settings.nodeFlags,
    ...(options.nodeFlags ?? []),
    // The build, as the image runs it (`npm run bench` builds it first).
    join(REPO, 'dist', 'tandem.js'),
    'serve',
    ...(options.kubeconfig === undefined ? ['--no-cluster'] : []),
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--tls-cert',
    bench.tls.certFile,
    '--tls-key',
    bench.tls.keyFile,
    '--policies',
    options.policies,
    // Exit at once on SIGTERM: nothing is in flight when the bench stops a server.
    '--grace-period',
    '0',
  ];
}

async function startTandem(bench: Bench, options: TandemOptions): Promise<ServerProcess> {
  const port = await freePort();
  const server = await startServer({
    name: options.name,
    pinning: bench.pinning,
    port,
    nodeArgs: tandemArgs(bench, options, port),
    ...(options.kubeconfig === undefined ? {} : { env: { KUBECONFIG: options.kubeconfig } }),
  });
  bench.servers.add(server);
  return server;
}

async function startBaseline(bench: Bench): Promise<ServerProcess> {
  const port = await freePort();
  const server = await startServer({
    name: 'baseline',
    pinning: bench.pinning,
    port,
    nodeArgs: [
      join(REPO, 'bench', 'baseline.ts'),
      '--port',
      String(port),
      '--tls-cert',
      bench.tls.certFile,
      '--tls-key',
      bench.tls.keyFile,
    ],
  });
  bench.servers.add(server);
  return server;
}

async function stopServer(bench: Bench, server: ServerProcess): Promise<void> {
  bench.servers.delete(server);
  await server.stop();
}

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** compare warms each server up, then saturates them in alternation. */
async function compare(
  bench: Bench,
  servers: readonly ServerProcess[],
  body: string,
): Promise<Saturation[]> {
  const { settings } = bench;
  for (const server of servers) await warmUp(server.url, body, settings.warmUpSeconds);
  const results = await compareSaturation(servers, body, {
    seconds: settings.saturationSeconds,
    connections: settings.connections,
    rounds: settings.rounds,
  });
  for (const result of results) {
    bench.failures += result.failures;
    if (result.clientCpu > 0.95) {
      progress(
        `warning: the load generator used ${(result.clientCpu * 100).toFixed(0)}% of its core`,
      );
    }
  }
  return results;
}

async function compareLatency(
  bench: Bench,
  servers: readonly ServerProcess[],
  body: string,
): Promise<Latency[]> {
  const { settings } = bench;
  const results = await comparePaced(servers, body, {
    rate: settings.rate,
    seconds: settings.latencySeconds,
    connections: settings.pacedConnections,
    rounds: settings.rounds,
  });
  for (const result of results) bench.failures += result.failures;
  return results;
}

function pair<T>(results: readonly T[]): [T, T] {
  const [first, second] = results;
  if (first === undefined || second === undefined) throw new Error('expected two results');
  return [first, second];
}

/**
 * loadText is what a load sends for `body`: the same review every time, as a ReplicaSet's
 * pods arrive (but for the uid, which the bench leaves the same), or a different pod each
 * time (`distinct`), which tandem's answer cache cannot answer.
 */
function loadText(body: BenchBody, distinct: boolean): string {
  const text = JSON.stringify(body.review);
  return distinct ? distinctReviews(text) : text;
}

async function measureBody(
  bench: Bench,
  servers: { baseline: ServerProcess; tandem: ServerProcess },
  body: BenchBody,
  distinct: boolean,
): Promise<BodyRow> {
  const text = loadText(body, distinct);
  const both = [servers.baseline, servers.tandem];
  const name = `${body.name}${distinct ? ', every pod distinct' : ''}`;
  progress(`${name}: saturation`);
  const [baseline, tandem] = pair(await compare(bench, both, text));
  progress(`${name}: latency at ${bench.settings.rate}/s`);
  const [baselineLatency, tandemLatency] = pair(await compareLatency(bench, both, text));
  return {
    name: body.name,
    bytes: Buffer.byteLength(JSON.stringify(body.review)),
    baseline,
    tandem,
    baselineLatency,
    tandemLatency,
    tandemRss: rssMiB(servers.tandem.pid),
    baselineRss: rssMiB(servers.baseline.pid),
  };
}

/** FRESH_SERVER_WARM_UP_SECONDS warms the 1,000-policy server past its start-up's cost. */
const FRESH_SERVER_WARM_UP_SECONDS = 3;

/**
 * measurePolicyScale runs the medium body on the 3-policy server and on a 1,000-policy
 * one, alternating, so that drift in the machine's speed falls on both alike. Every pod
 * is distinct: what loaded policies cost is the engine's, which the cache would hide.
 */
async function measurePolicyScale(bench: Bench, three: ServerProcess): Promise<PolicyScale> {
  const body = singlePolicyBody('medium');
  const text = loadText(body, true);
  const dir = await writeManyPolicies(join(REPO, 'policies'), 1000);
  progress('1,000 policies: starting');
  const thousand = await startTandem(bench, { name: 'tandem-1000', policies: dir });
  // The 3-policy server has answered every body by now; a fresh one pays for its first
  // thousand or so reviews (JIT, and scavenges of what loading left in the young
  // generation) three to six times what it pays after, more with 1,000 policies loaded
  // (README, Speed). Warmed as long, the two compare what the policies cost.
  await warmUp(thousand.url, text, FRESH_SERVER_WARM_UP_SECONDS);
  progress('1,000 policies: saturation');
  const [withThree, withThousand] = pair(await compare(bench, [three, thousand], text));
  const rss = rssMiB(thousand.pid);
  await stopServer(bench, thousand);
  await rm(dir, { recursive: true, force: true });
  return {
    body: body.name,
    three: withThree.reviewsPerSecond,
    thousand: withThousand.reviewsPerSecond,
    rss,
  };
}

async function measureContainerScale(
  bench: Bench,
  servers: { baseline: ServerProcess; tandem: ServerProcess },
  oneContainer: number,
  distinct: boolean,
): Promise<ContainerScale> {
  const body = manyContainersBody();
  const text = loadText(body, distinct);
  progress(`${body.name}${distinct ? ', every pod distinct' : ''}: saturation and latency`);
  const [baseline, tandem] = pair(await compare(bench, [servers.baseline, servers.tandem], text));
  const [latency] = await compareLatency(bench, [servers.tandem], text);
  if (latency === undefined) throw new Error('no latency');
  return {
    body: body.name,
    bytes: Buffer.byteLength(JSON.stringify(body.review)),
    distinct,
    tandem,
    baseline,
    latency,
    oneContainer,
  };
}

/**
 * liveHeapMiB asks the heap probe for the heap in use after a full GC, in MiB: the
 * `probe`-th answer, found by its count, since the kept output is a window that the
 * server's log lines move along.
 */
async function liveHeapMiB(server: ServerProcess, probe: number): Promise<number> {
  process.kill(server.pid, 'SIGUSR2');
  const line = new RegExp(`\\{"heapProbe":\\{"probe":${probe},"heapUsed":(\\d+)`);
  for (let tries = 0; tries < 100; tries += 1) {
    await sleep(50);
    const found = line.exec(server.output());
    if (found?.[1] !== undefined) return Number(found[1]) / 1024 ** 2;
  }
  return Number.NaN;
}

/**
 * measureMemory sends the medium body to a fresh server and reads, at each checkpoint,
 * its RSS and its live heap after a full GC (the probe in heap-probe.js).
 */
async function measureMemory(bench: Bench): Promise<MemorySample[]> {
  const cluster = await startCluster(bench);
  const server = await startTandem(bench, {
    name: 'tandem-memory',
    policies: join(REPO, 'policies'),
    nodeFlags: ['--expose-gc', '--import', join(REPO, 'bench', 'heap-probe.js')],
    kubeconfig: cluster.kubeconfig,
  });
  const text = JSON.stringify(singlePolicyBody('medium').review);
  let probes = 0;
  const sample = async (reviews: number): Promise<MemorySample> => {
    // RSS first: the probe's GC would shrink it.
    const rss = rssMiB(server.pid);
    probes += 1;
    return { reviews, rss, liveHeap: await liveHeapMiB(server, probes) };
  };
  const samples: MemorySample[] = [await sample(0)];
  let sent = 0;
  for (const checkpoint of bench.settings.memoryCheckpoints) {
    progress(`memory: ${checkpoint} reviews`);
    bench.failures += await sendAmount(server.url, text, checkpoint - sent);
    sent = checkpoint;
    samples.push(await sample(sent));
  }
  await stopServer(bench, server);
  await cluster.close();
  return samples;
}

/**
 * startCluster starts the tests' fake apiserver (version 1.35, three namespaces, a watch
 * that stays open) and writes a kubeconfig for it: tandem then runs in cluster mode, with
 * its cluster client loaded and its namespace watch open, as in a cluster.
 */
async function startCluster(
  bench: Bench,
): Promise<{ kubeconfig: string; close: () => Promise<void> }> {
  const fake = await startFakeApiServer();
  fake.script('version', { json: 'version-kind-1.35.json' });
  fake.script('list', { json: 'namespace-list.json' });
  fake.script('watch', { events: 'watch-none.ndjson', then: 'hold' });
  const kubeconfig = join(bench.workDir, 'kubeconfig');
  await writeFile(kubeconfig, fake.kubeConfig().exportConfig());
  return { kubeconfig, close: () => fake.close() };
}

/**
 * measureStartup times `tandem serve` from spawn to `/readyz` 200, with the built-in
 * policies and with 1,000, three starts each (one in --quick), median kept.
 */
async function measureStartup(bench: Bench): Promise<Startup> {
  const times = bench.settings.mode === 'quick' ? 1 : 3;
  const time = async (policies: string): Promise<number> =>
    medianSecondsToReady(async () => {
      const port = await freePort();
      const options = { name: 'tandem-startup', policies };
      return { nodeArgs: tandemArgs(bench, options, port), port, pinning: bench.pinning };
    }, times);
  progress('start-up: built-in policies');
  const builtIn = await time(join(REPO, 'policies'));
  progress('start-up: 1,000 policies');
  const dir = await writeManyPolicies(join(REPO, 'policies'), 1000);
  const thousand = await time(dir);
  await rm(dir, { recursive: true, force: true });
  return { builtIn, thousand };
}

/**
 * profileTandem runs a fresh server under --cpu-prof at saturation and summarises it:
 * the medium body repeated (answered from the cache) or every pod distinct.
 */
async function profileTandem(bench: Bench, distinct: boolean): Promise<string> {
  const dir = join(bench.workDir, distinct ? 'profile-distinct' : 'profile');
  const server = await startTandem(bench, {
    name: 'tandem-profile',
    policies: join(REPO, 'policies'),
    nodeFlags: ['--cpu-prof', '--cpu-prof-dir', dir],
  });
  const text = loadText(singlePolicyBody('medium'), distinct);
  progress(`profile${distinct ? ', every pod distinct' : ''}: running`);
  await warmUp(server.url, text, bench.settings.warmUpSeconds);
  await saturate(server, text, {
    seconds: bench.settings.profileSeconds,
    connections: bench.settings.connections,
  });
  // V8 writes the profile when the process exits.
  await stopServer(bench, server);
  const file = (await readdir(dir)).find((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) return 'no profile was written';
  return formatSummary(await summariseProfile(join(dir, file), 25));
}

/** deploymentMemoryLimitMiB reads the memory limit tandem's Deployment sets. */
async function deploymentMemoryLimitMiB(): Promise<number> {
  const text = await readFile(join(REPO, 'deploy', 'deployment.yaml'), 'utf8');
  const deployment = parseYaml(text) as {
    spec: { template: { spec: { containers: { resources: { limits: { memory: string } } }[] } } };
  };
  const limit = deployment.spec.template.spec.containers[0]?.resources.limits.memory ?? '';
  const mebibytes = /^(\d+)Mi$/.exec(limit);
  if (mebibytes === null) throw new Error(`the Deployment's memory limit "${limit}" is not in Mi`);
  return Number(mebibytes[1]);
}

/** measureAvailability: the idle-connection flood and the drain under a Go client. */
async function measureAvailability(bench: Bench): Promise<string[]> {
  progress(`availability: ${bench.settings.floodConnections} idle TLS connections`);
  const body = JSON.stringify(singlePolicyBody('medium').review);
  // In cluster mode, as in a cluster: the flood's RSS is then the Deployment's worst case.
  const cluster = await startCluster(bench);
  const tandem = await startTandem(bench, {
    name: 'tandem-flood',
    policies: join(REPO, 'policies'),
    kubeconfig: cluster.kubeconfig,
  });
  const flood = await measureIdleFlood(tandem, {
    caFile: bench.tls.certFile,
    body,
    attempted: bench.settings.floodConnections,
  });
  await stopServer(bench, tandem);
  await cluster.close();
  progress('availability: drain under a Go net/http client');
  const drain = await measureDrain({
    repo: REPO,
    workDir: bench.workDir,
    tls: bench.tls,
    port: await freePort(),
    body,
    graceSeconds: 4,
  });
  if (!everyAnswered(flood) || (drain.ran && drain.failed > 0)) {
    bench.failures += 1;
  }
  return formatAvailability(flood, await deploymentMemoryLimitMiB(), drain);
}

async function measureAll(bench: Bench, profile: boolean): Promise<Report> {
  const loadAtStart = loadAverage();
  const baseline = await startBaseline(bench);
  const tandem = await startTandem(bench, { name: 'tandem', policies: join(REPO, 'policies') });
  const servers = { baseline, tandem };
  const rows: BodyRow[] = [];
  for (const body of benchBodies()) rows.push(await measureBody(bench, servers, body, false));
  const distinctRows: BodyRow[] = [];
  for (const body of benchBodies()) {
    distinctRows.push(await measureBody(bench, servers, body, true));
  }
  const smallName = singlePolicyBody('small').name;
  const containerScales: ContainerScale[] = [];
  for (const [distinct, table] of [
    [false, rows],
    [true, distinctRows],
  ] as const) {
    const small = table.find((r) => r.name === smallName)?.tandem.reviewsPerSecond;
    containerScales.push(
      await measureContainerScale(bench, servers, small ?? Number.NaN, distinct),
    );
  }
  const policyScale = await measurePolicyScale(bench, tandem);
  await stopServer(bench, tandem);
  await stopServer(bench, baseline);
  const memory = await measureMemory(bench);
  const startup = await measureStartup(bench);
  return {
    mode: describe(bench.settings, bench.pinning),
    pinning: bench.pinning,
    loadAtStart,
    rows,
    distinctRows,
    policyScale,
    containerScales,
    memory,
    startup,
    profiles: profile
      ? { repeated: await profileTandem(bench, false), distinct: await profileTandem(bench, true) }
      : undefined,
    failures: bench.failures,
  };
}

/**
 * measureHostileReviews runs the hostile-review section (bench/hostile.ts) on a fresh
 * tandem and returns its markdown.
 */
async function measureHostileReviews(bench: Bench): Promise<string> {
  const { settings } = bench;
  const server = await startTandem(bench, {
    name: 'tandem-hostile',
    policies: join(REPO, 'policies'),
  });
  const baseline = await startBaseline(bench);
  const body = singlePolicyBody('medium');
  const normal = { name: body.name, text: JSON.stringify(body.review) };
  const options: HostileOptions = {
    repeats: settings.mode === 'quick' ? 10 : 30,
    // A busy cluster's pod creations, well under what tandem sustains, so that what the
    // hostile reviews do to a normal one shows rather than a server already saturated.
    rate: 200,
    seconds: settings.latencySeconds,
    rounds: settings.rounds,
    connections: settings.pacedConnections,
    everyMs: 200,
  };
  progress('hostile reviews');
  await warmUp(server.url, normal.text, settings.warmUpSeconds);
  const report = await measureHostile({ tandem: server, baseline }, normal, options);
  bench.failures += hostileFailures(report);
  await stopServer(bench, server);
  await stopServer(bench, baseline);
  return formatHostile(report, options);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'hostile-only': { type: 'boolean', default: false },
      out: { type: 'string' },
      'node-flags': { type: 'string', default: '' },
      // Only the availability section (flood, drain): a minute instead of several.
      'availability-only': { type: 'boolean', default: false },
      // Only memory (cluster mode) and start-up: what the Deployment's resources follow.
      'memory-only': { type: 'boolean', default: false },
      // Only the command line's start-up: half a minute.
      'cli-startup-only': { type: 'boolean', default: false },
    },
  });
  const startupRuns = values.quick ? 5 : 15;
  const cliStartup = values['memory-only']
    ? ''
    : formatCliStartup(
        await measureCliStartup(REPO, startupRuns),
        startupRuns,
        `load average ${loadAverage()
          .map((n) => n.toFixed(1))
          .join(', ')}`,
      );
  if (values['cli-startup-only']) {
    process.stdout.write(cliStartup);
    return 0;
  }
  const nodeFlags = values['node-flags'].split(' ').filter((flag) => flag !== '');
  const settings = { ...(values.quick ? QUICK : FULL), nodeFlags };
  const workDir = await mkdtemp(join(tmpdir(), 'tandem-bench-'));
  const pinning = pinCores();
  progress(pinning.why);
  const bench: Bench = {
    settings,
    pinning,
    tls: await writeCertificate(workDir),
    workDir,
    servers: new Set(),
    failures: 0,
  };
  try {
    if (values['memory-only']) {
      const report = formatMemoryReport(await measureMemory(bench), await measureStartup(bench));
      process.stdout.write(report);
      if (values.out !== undefined) await writeFile(values.out, report);
      return bench.failures > 0 ? 1 : 0;
    }
    const hostileOnly = values['hostile-only'];
    const availabilityOnly = values['availability-only'];
    const availability = hostileOnly ? '' : (await measureAvailability(bench)).join('\n') + '\n';
    const tables =
      hostileOnly || availabilityOnly
        ? ''
        : formatReport(await measureAll(bench, values.profile), settings.rate);
    const hostile = availabilityOnly ? '' : await measureHostileReviews(bench);
    const report = cliStartup + (availabilityOnly ? availability : tables + availability + hostile);
    process.stdout.write(report);
    if (values.out !== undefined) await writeFile(values.out, report);
    return bench.failures > 0 ? 1 : 0;
  } finally {
    for (const server of bench.servers) await server.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();

/**
 * The built-in policies' command lines, run for real: each test renders a policy, takes the
 * container's command, args and env as the kubelet would, maps its mounts into a temporary
 * directory and runs it against real redis-server processes on 127.0.0.1.
 *
 * Two deliberate differences from a pod, both because this is one host, not a pod network:
 * wildcard listen addresses (0.0.0.0, ":PORT") become 127.0.0.1 so nothing listens beyond
 * loopback, and the image's program is mapped to Debian's (prometheus-redis-exporter for
 * /redis_exporter; Debian's nutcracker also gets --output, as it logs to /var/log by default
 * where upstream logs to stderr). The binaries come from Debian (see .ci/run); a test whose
 * binary is missing is skipped, saying which.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  findContainer,
  loadBuiltinPolicy,
  renderPolicy,
  type RenderedPolicy,
} from '../fixtures/real/policies.ts';
import {
  containerEnv,
  findBinary,
  freePort,
  mapMounts,
  mapPath,
  missingBinaries,
  runToExit,
  startDaemon,
  startRedis,
  waitForPort,
  type MountMap,
  type Teardown,
} from '../fixtures/real/processes.ts';
import { connectResp } from '../fixtures/real/resp.ts';

function skipUnless(binaries: readonly string[]): string | false {
  const missing = missingBinaries(binaries);
  return missing.length === 0
    ? false
    : `needs ${missing.join(', ')} (Debian: apt-get install -y redis-server nutcracker prometheus-redis-exporter)`;
}

function tempRoot(t: Teardown): string {
  const root = mkdtempSync(join(tmpdir(), 'tandem-real-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

/**
 * SHELLS are the shells the init script is run with: the image's is busybox sh, so that
 * one counts most (Debian: apt-get install busybox); /bin/sh (dash on Debian) shows the
 * script is plain POSIX.
 */
const SHELLS: readonly (readonly [string, string[]])[] = [
  ['/bin/sh', []],
  ...(findBinary('busybox') === undefined ? [] : [['busybox', ['sh']] as [string, string[]]]),
];

function requireBinary(name: string): string {
  const path = findBinary(name);
  if (path === undefined) throw new Error(`${name} is not installed`);
  return path;
}

/** ambassadorInit is the rendered config script, ready to run with a given UPSTREAMS. */
function ambassadorInit(rendered: RenderedPolicy, root: string) {
  const init = findContainer(rendered, 'tandem-nutcracker-config');
  const mounts = mapMounts(init, root);
  const [shell, flag, script, ...rest] = init.command ?? [];
  if (shell !== '/bin/sh' || flag !== '-c' || script === undefined || rest.length > 0) {
    throw new Error(`unexpected init command: ${JSON.stringify(init.command)}`);
  }
  const env = containerEnv(init.env, mounts);
  env['LISTEN_ADDRESS'] = (env['LISTEN_ADDRESS'] ?? '').replace(/^0\.0\.0\.0:/, '127.0.0.1:');
  return { script, env, mounts };
}

function configPathOf(env: Record<string, string>): string {
  const path = env['CONFIG_FILE'];
  if (path === undefined) throw new Error('the init container sets no CONFIG_FILE');
  return path;
}

t.test(
  'redis-ambassador: the init script writes a config nutcracker accepts, and nutcracker shards keys over both upstreams',
  { skip: skipUnless(['redis-server', 'nutcracker']) },
  async (t) => {
    const root = tempRoot(t);
    const redisServer = requireBinary('redis-server');
    const upstreamPorts = [await startRedis(t, redisServer), await startRedis(t, redisServer)];
    const listenPort = await freePort();
    const statsPort = await freePort();
    const policy = loadBuiltinPolicy('redis-ambassador.yaml');
    const rendered = renderPolicy(policy, {
      upstreams: upstreamPorts.map((port) => `127.0.0.1:${port}`).join(','),
      listenPort: String(listenPort),
      statsPort: String(statsPort),
    });

    const init = ambassadorInit(rendered, root);
    const configFile = configPathOf(init.env);
    const configs = new Set<string>();
    for (const [shell, shellArgs] of SHELLS) {
      rmSync(configFile, { force: true });
      const ran = await runToExit(
        { file: shell, args: [...shellArgs, '-c', init.script], env: init.env, cwd: root },
        10_000,
      );
      t.equal(ran.code, 0, `init script exits 0 under ${shell} (stderr: ${ran.stderr})`);
      configs.add(readFileSync(configFile, 'utf8'));
    }
    t.equal(configs.size, 1, 'every shell writes the same config');
    t.match(
      readFileSync(configFile, 'utf8'),
      /servers:\n {4}- 127\.0\.0\.1:\d+:1\n {4}- 127\.0\.0\.1:\d+:1\n$/,
    );

    const nutcracker = requireBinary('nutcracker');
    const checked = await runToExit(
      { file: nutcracker, args: ['-t', '-c', configFile], env: init.env },
      10_000,
    );
    t.equal(
      checked.code,
      0,
      `nutcracker -t accepts the config (${checked.stderr}${checked.stdout})`,
    );

    const sidecar = findContainer(rendered, 'tandem-nutcracker');
    t.strictSame(sidecar.command, ['nutcracker'], 'the sidecar runs nutcracker from PATH');
    const sidecarMounts: MountMap = mapMounts(sidecar, root);
    const args = (sidecar.args ?? []).map((arg) => mapPath(arg, sidecarMounts));
    t.ok(
      args.includes(`--conf-file=${configFile}`),
      'the sidecar reads the file the init container wrote',
    );
    const proxy = startDaemon(t, {
      file: nutcracker,
      args: [...args, `--output=${join(root, 'nutcracker.log')}`],
      env: containerEnv(sidecar.env, sidecarMounts),
    });
    // What the startupProbe checks: a TCP connection to the listen port.
    t.equal(
      sidecar.startupProbe?.tcpSocket?.port,
      listenPort,
      'the startupProbe dials the listen port',
    );
    await waitForPort(proxy, listenPort, 10_000);

    const app = await connectResp(listenPort);
    t.teardown(() => app.close());
    // Keys as varied as real ones: fnv1a over near-identical keys clusters, and with two
    // servers a run of look-alike keys can all hash to one of them.
    const keys = Array.from(
      { length: 100 },
      (_, i) => `tandem:${createHash('sha1').update(String(i)).digest('hex').slice(0, 12)}`,
    );
    const written = [];
    for (const key of keys) written.push(await app.command('SET', key, `value of ${key}`));
    t.strictSame(
      written,
      keys.map(() => 'OK'),
      'SET through the proxy succeeds for every key',
    );
    const read = [];
    for (const key of keys) read.push(await app.command('GET', key));
    t.strictSame(
      read,
      keys.map((key) => `value of ${key}`),
      'GET through the proxy reads every key back',
    );

    const counts: number[] = [];
    for (const port of upstreamPorts) {
      const upstream = await connectResp(port);
      t.teardown(() => upstream.close());
      const size = await upstream.command('DBSIZE');
      counts.push(typeof size === 'number' ? size : -1);
      // Read each key straight from the upstream that holds it: the proxy stored it there.
      const stored = await upstream.command('KEYS', 'tandem:*');
      const mismatched = [];
      for (const key of Array.isArray(stored) ? stored : []) {
        const value = typeof key === 'string' ? await upstream.command('GET', key) : null;
        if (value !== `value of ${String(key)}`) mismatched.push(key);
      }
      t.strictSame(mismatched, [], `upstream ${port} holds the values the app wrote`);
    }
    t.ok(
      counts.every((count) => count > 0),
      `keys land on both upstreams (${counts.join(' + ')})`,
    );
    t.equal(
      counts.reduce((a, b) => a + b, 0),
      keys.length,
      'every key is stored exactly once',
    );
  },
);

t.test(
  'redis-ambassador: the init script refuses upstreams that are not HOST:PORT data, writing no config and running nothing',
  async (t) => {
    const policy = loadBuiltinPolicy('redis-ambassador.yaml');
    const rendered = renderPolicy(policy, { upstreams: 'redis-0.cache:6379' });
    const hostile = [
      '',
      'redis',
      'redis:0',
      'redis:65536',
      'redis:6379:1',
      '-redis:6379',
      'redis.:6379',
      'REDIS:6379',
      'redis:6379,,other:6379',
      'redis:6379\n    - evil:6379:1',
      'redis:6379 # comment',
      '$(touch pwned):6379',
      '`touch pwned`:6379',
      'redis:6379;touch pwned',
      '*:6379',
      'redis..cache:6379',
      Array.from({ length: 17 }, (_, i) => `r${i}:6379`).join(','),
    ];
    for (const [shell, shellArgs] of SHELLS) {
      for (const upstreams of hostile) {
        const root = tempRoot(t);
        const init = ambassadorInit(rendered, root);
        init.env['UPSTREAMS'] = upstreams;
        const ran = await runToExit(
          { file: shell, args: [...shellArgs, '-c', init.script], env: init.env, cwd: root },
          10_000,
        );
        const configDir = [...init.mounts.values()][0] ?? root;
        const label = `${shell}: ${JSON.stringify(upstreams)}`;
        t.not(ran.code, 0, `refuses ${label}`);
        t.strictSame(readdirSync(configDir), [], `writes no config for ${label}`);
        t.notOk(existsSync(join(root, 'pwned')), `runs nothing from ${label}`);
      }
    }
  },
);

t.test(
  'metrics-adapter: redis_exporter, run with the rendered args against a real Redis, serves redis_up 1 on the rendered port',
  { skip: skipUnless(['redis-server', 'prometheus-redis-exporter']) },
  async (t) => {
    const redisPort = await startRedis(t, requireBinary('redis-server'));
    const metricsPort = await freePort();
    const policy = loadBuiltinPolicy('metrics-adapter.yaml');
    const rendered = renderPolicy(policy, {
      redisAddr: `redis://127.0.0.1:${redisPort}`,
      port: String(metricsPort),
    });
    const exporter = findContainer(rendered, 'tandem-redis-exporter');
    t.strictSame(exporter.command, ['/redis_exporter'], "runs the image's binary");
    const args = (exporter.args ?? []).map((arg) =>
      arg.replace(/^--web\.listen-address=:/, '--web.listen-address=127.0.0.1:'),
    );
    t.strictSame(
      rendered.podAnnotations,
      {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(metricsPort),
        'prometheus.io/path': '/metrics',
      },
      'the annotations point a scraper at the port and path the exporter serves',
    );
    t.ok(args.includes('--web.telemetry-path=/metrics'), 'serves on the annotated path');
    const daemon = startDaemon(t, {
      file: requireBinary('prometheus-redis-exporter'),
      args,
      env: containerEnv(exporter.env, new Map()),
    });
    await waitForPort(daemon, metricsPort, 10_000);

    let body = '';
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !/^redis_up 1$/m.test(body)) {
      const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {
        signal: AbortSignal.timeout(2000),
      });
      body = await response.text();
    }
    t.match(body, /^redis_up 1$/m, 'redis_up 1: the exporter reached the Redis it was pointed at');
    t.match(body, /^redis_connected_clients \d+$/m, "INFO's fields come out as metrics");
  },
);

/** FluentBitSection is one `-i`/`-o` plugin of a Fluent Bit command line. */
interface FluentBitSection {
  readonly kind: '-i' | '-o';
  readonly plugin: string;
  readonly props: Map<string, string>;
  match?: string;
}

/** parseFluentBitArgs reads Fluent Bit's flag grammar, failing on anything malformed. */
function parseFluentBitArgs(args: readonly string[]): {
  flush: string | undefined;
  sections: FluentBitSection[];
} {
  let flush: string | undefined;
  const sections: FluentBitSection[] = [];
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i];
    const value = args[i + 1];
    if (value === undefined) throw new Error(`flag ${flag} has no value`);
    const current = sections.at(-1);
    if (flag === '-f') flush = value;
    else if (flag === '-i' || flag === '-o')
      sections.push({ kind: flag, plugin: value, props: new Map() });
    else if (flag === '-m' && current?.kind === '-o') current.match = value;
    else if (flag === '-p' && current !== undefined) {
      const property = /^([a-z_.]+)=(\S+)$/.exec(value);
      if (property?.[1] === undefined || property[2] === undefined) {
        throw new Error(`-p ${JSON.stringify(value)} is not key=value`);
      }
      if (current.props.has(property[1])) throw new Error(`-p ${property[1]} given twice`);
      current.props.set(property[1], property[2]);
    } else throw new Error(`unexpected ${flag} ${value}`);
  }
  return { flush, sections };
}

for (const params of [
  { host: 'fluentd.logging.svc' },
  { host: '10.0.0.7', port: '24240', logDir: '/data/logs', files: 'app-*.json', tag: 'shop.web' },
]) {
  t.test(
    `log-forwarder: Fluent Bit's flags are well-formed and tail the mounted log directory (${JSON.stringify(params)})`,
    (t) => {
      const policy = loadBuiltinPolicy('log-forwarder.yaml');
      const rendered = renderPolicy(policy, params);
      const sidecar = findContainer(rendered, 'tandem-fluent-bit');
      t.strictSame(sidecar.command, ['/fluent-bit/bin/fluent-bit']);
      const { flush, sections } = parseFluentBitArgs(sidecar.args ?? []);
      t.match(flush, /^[1-5]$/, 'flushes within seconds, so little is buffered at SIGTERM');
      const [tail, forward, ...others] = sections;
      t.strictSame(others, [], 'one input and one output');
      t.equal(tail?.kind, '-i');
      t.equal(tail?.plugin, 'tail');
      t.equal(forward?.kind, '-o');
      t.equal(forward?.plugin, 'forward');
      t.equal(forward?.match, '*', 'forwards every record');
      t.equal(forward?.props.get('host'), params.host);
      t.equal(forward?.props.get('port'), params.port ?? '24224');
      t.equal(tail?.props.get('tag'), params.tag ?? 'app');

      const logDir = params.logDir ?? '/var/log/app';
      const tailed = tail?.props.get('path') ?? '';
      t.equal(tailed, `/var/log/tandem-app/${params.files ?? '*.log'}`);
      const sidecarLogs = sidecar.volumeMounts?.find((m) => tailed.startsWith(`${m.mountPath}/`));
      t.ok(sidecarLogs, 'the tailed directory is a mount of the sidecar');
      t.equal(sidecarLogs?.readOnly, true, 'which the sidecar only reads');
      const appLogs = rendered.appContainer.volumeMounts?.find((m) => m.name === sidecarLogs?.name);
      t.equal(appLogs?.mountPath, logDir, 'and the app writes into the same volume at logDir');
      t.equal(appLogs?.readOnly, undefined, 'which the app may write');

      const db = tail?.props.get('db') ?? '';
      const dbMount = sidecar.volumeMounts?.find((m) => db.startsWith(`${m.mountPath}/`));
      t.ok(dbMount, 'the offsets database is on a mounted volume');
      t.not(dbMount?.readOnly, true, 'which is writable');
      t.ok(
        rendered.volumes.some((v) => v.name === dbMount?.name && v.emptyDir !== undefined),
        'an emptyDir, so offsets survive a sidecar restart',
      );
      t.end();
    },
  );
}

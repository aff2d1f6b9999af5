/**
 * redis-ambassador, run for real: the init container's script under dash and busybox sh,
 * nutcracker with the sidecar's rendered args, the start-up gate's probe command under
 * busybox, all against real redis-server processes on 127.0.0.1. Debian's nutcracker also
 * gets --output, as it logs to /var/log by default where upstream logs to stderr. A test
 * whose binary is missing is skipped, saying which Debian package to install (.ci/run
 * installs them).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import t, { type Test } from 'tap';
import type { V1Container } from '@kubernetes/client-node';
import {
  findContainer,
  loadBuiltinPolicy,
  renderPolicy,
  type RenderedPolicy,
} from '../fixtures/real/policies.ts';
import {
  containerEnv,
  freePort,
  mapMounts,
  mapPath,
  runToExit,
  startDaemon,
  startRedis,
  waitForPort,
  type Secrets,
  type Teardown,
} from '../fixtures/real/processes.ts';
import { connectResp, type RespClient } from '../fixtures/real/resp.ts';
import {
  SHELLS,
  busyboxBin,
  requireBinary,
  skipUnless,
  tempRoot,
} from '../fixtures/real/harness.ts';

const INSTALL = 'redis-server nutcracker busybox';
const POLICY = loadBuiltinPolicy('redis-ambassador.yaml');
/** PASSWORD has every character YAML, a shell or nutcracker's config could trip on. */
const PASSWORD = `s3cr3t 'quoted' "double" #hash \\back $(x) \`y\` :colon, {a: b} - [c] %&*!`;

/** ambassadorInit is the rendered config script with the env the kubelet would give it. */
function ambassadorInit(rendered: RenderedPolicy, root: string, secrets: Secrets = new Map()) {
  const init = findContainer(rendered, 'tandem-nutcracker-config');
  const mounts = mapMounts(init, root);
  const [shell, flag, script, ...rest] = init.command ?? [];
  if (shell !== '/bin/sh' || flag !== '-c' || script === undefined || rest.length > 0) {
    throw new Error(`unexpected init command: ${JSON.stringify(init.command)}`);
  }
  const env = containerEnv(init.env, mounts, secrets);
  const configFile = env['CONFIG_FILE'];
  if (configFile === undefined) throw new Error('the init container sets no CONFIG_FILE');
  return { script, env, mounts, configFile };
}

type Init = ReturnType<typeof ambassadorInit>;

/** runInit runs the script under every shell; each must write the same config. */
async function runInit(t: Test, init: Init, root: string): Promise<string> {
  const configs = new Set<string>();
  for (const [shell, shellArgs] of SHELLS) {
    rmSync(init.configFile, { force: true });
    const ran = await runToExit(
      { file: shell, args: [...shellArgs, '-c', init.script], env: init.env, cwd: root },
      10_000,
    );
    t.strictSame(ran.code, 0, `init script exits 0 under ${shell} (stderr: ${ran.stderr})`);
    t.notOk(
      `${ran.stdout}${ran.stderr}`.includes(PASSWORD),
      `the script's output under ${shell} never shows the password`,
    );
    configs.add(readFileSync(init.configFile, 'utf8'));
  }
  t.strictSame(configs.size, 1, 'every shell writes the same config');
  return readFileSync(init.configFile, 'utf8');
}

/** startProxy starts nutcracker with the sidecar's rendered args, once the config is valid. */
async function startProxy(
  t: Test,
  rendered: RenderedPolicy,
  init: Init,
  root: string,
): Promise<ReturnType<typeof startDaemon>> {
  const nutcracker = requireBinary('nutcracker');
  const checked = await runToExit(
    { file: nutcracker, args: ['-t', '-c', init.configFile], env: init.env },
    10_000,
  );
  t.strictSame(checked.code, 0, `nutcracker -t accepts the config (${checked.stderr})`);
  const sidecar = findContainer(rendered, 'tandem-nutcracker');
  t.strictSame(sidecar.command, ['nutcracker'], 'the sidecar runs nutcracker from PATH');
  const mounts = mapMounts(sidecar, root);
  const args = (sidecar.args ?? []).map((arg) => mapPath(arg, mounts));
  t.ok(args.includes(`--conf-file=${init.configFile}`), 'it reads the file the init wrote');
  return startDaemon(t, {
    file: nutcracker,
    args: [...args, `--output=${join(root, 'nutcracker.log')}`],
    env: containerEnv(sidecar.env, mounts),
  });
}

/** keysLike gives keys as varied as real ones: fnv1a clusters near-identical keys. */
function keysLike(count: number): string[] {
  return Array.from(
    { length: count },
    (_, i) => `tandem:${createHash('sha1').update(String(i)).digest('hex').slice(0, 12)}`,
  );
}

async function client(t: Teardown, port: number): Promise<RespClient> {
  const connection = await connectResp(port);
  t.teardown(() => connection.close());
  return connection;
}

/** gateProbe runs the gate container's startupProbe command as the kubelet would exec it. */
async function gateProbe(gate: V1Container, bin: string): Promise<number | null> {
  const [shell, ...rest] = gate.startupProbe?.exec?.command ?? [];
  if (shell !== '/bin/sh') throw new Error(`unexpected probe: ${JSON.stringify(shell)}`);
  const env = { ...containerEnv(gate.env, new Map()), PATH: bin };
  return (await runToExit({ file: join(bin, 'sh'), args: rest, env }, 10_000)).code;
}

/** nonLoopbackAddress is one IPv4 address of this host that is not 127.0.0.0/8. */
function nonLoopbackAddress(): string | undefined {
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  return all.find((a) => a.family === 'IPv4' && !a.internal)?.address;
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

t.test(
  'redis-ambassador: nutcracker listens on 127.0.0.1 only, the gate opens once it does, and keys shard over both upstreams',
  { skip: skipUnless(['redis-server', 'nutcracker'], INSTALL) },
  async (t) => {
    const root = tempRoot(t);
    const redisServer = requireBinary('redis-server');
    const upstreamPorts = [await startRedis(t, redisServer), await startRedis(t, redisServer)];
    const listenPort = await freePort();
    const rendered = renderPolicy(POLICY, {
      upstreams: upstreamPorts.map((port) => `127.0.0.1:${port}`).join(','),
      listenPort: String(listenPort),
      statsPort: String(await freePort()),
    });
    const init = ambassadorInit(rendered, root);
    const config = await runInit(t, init, root);
    t.match(config, new RegExp(`^  listen: 127\\.0\\.0\\.1:${listenPort}$`, 'm'));
    t.notMatch(config, /redis_auth/, 'no Secret, no redis_auth');
    t.match(config, /servers:\n {4}- 127\.0\.0\.1:\d+:1\n {4}- 127\.0\.0\.1:\d+:1\n$/);

    const gate = findContainer(rendered, 'tandem-nutcracker-gate');
    const bin = busyboxBin(root, ['sh', 'nc']);
    if (bin !== undefined) {
      t.not(await gateProbe(gate, bin), 0, 'the gate stays shut while nothing listens');
    }
    const proxy = await startProxy(t, rendered, init, root);
    await waitForPort(proxy, listenPort, 10_000);
    if (bin !== undefined) {
      t.strictSame(await gateProbe(gate, bin), 0, 'the gate opens once the proxy listens');
    } else t.comment('busybox is missing: the gate probe was not run');
    const outside = nonLoopbackAddress();
    if (outside !== undefined) {
      t.notOk(await connects(outside, listenPort), `not reachable at ${outside}:${listenPort}`);
    } else t.comment('this host has no non-loopback IPv4 address to try');

    const app = await client(t, listenPort);
    const keys = keysLike(100);
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
      const upstream = await client(t, port);
      const size = await upstream.command('DBSIZE');
      counts.push(typeof size === 'number' ? size : -1);
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
    t.strictSame(
      counts.reduce((a, b) => a + b, 0),
      keys.length,
      'every key is stored exactly once',
    );
  },
);

t.test(
  "redis-ambassador: with the Secret's password, nutcracker AUTHs to password-protected upstreams and asks the app for it",
  { skip: skipUnless(['redis-server', 'nutcracker'], INSTALL) },
  async (t) => {
    const root = tempRoot(t);
    const redisServer = requireBinary('redis-server');
    const upstreamPorts = [
      await startRedis(t, redisServer, { requirepass: PASSWORD }),
      await startRedis(t, redisServer, { requirepass: PASSWORD }),
    ];
    const listenPort = await freePort();
    const rendered = renderPolicy(POLICY, {
      upstreams: upstreamPorts.map((port) => `127.0.0.1:${port}`).join(','),
      listenPort: String(listenPort),
      statsPort: String(await freePort()),
      passwordSecret: 'cache-credentials',
    });
    const secrets: Secrets = new Map([['cache-credentials', new Map([['password', PASSWORD]])]]);
    const init = ambassadorInit(rendered, root, secrets);
    const config = await runInit(t, init, root);
    t.match(config, /^ {2}redis_auth: '.*'$/m, 'the config carries redis_auth');
    t.strictSame(statSync(init.configFile).mode & 0o777, 0o600, 'which only its owner reads');
    const everyArg = [...rendered.initContainers, ...rendered.containers].flatMap((c) => [
      ...(c.command ?? []),
      ...(c.args ?? []),
    ]);
    t.notOk(everyArg.join('\n').includes('s3cr3t'), 'no command line holds the password');

    const proxy = await startProxy(t, rendered, init, root);
    await waitForPort(proxy, listenPort, 10_000);
    const cmdline = readFileSync(`/proc/${proxy.child.pid}/cmdline`, 'utf8');
    t.notOk(cmdline.includes('s3cr3t'), "nor nutcracker's argv");

    const stranger = await client(t, listenPort);
    await t.rejects(
      stranger.command('SET', 'k', 'v'),
      /NOAUTH/,
      'a client without AUTH is refused',
    );
    await t.rejects(stranger.command('AUTH', 'wrong'), /invalid password|WRONGPASS/i);
    const appEnv = containerEnv(rendered.appContainer.env, new Map(), secrets);
    t.strictSame(appEnv['REDIS_AMBASSADOR_PASSWORD'], PASSWORD, 'the app gets the password');
    t.strictSame(appEnv['REDIS_AMBASSADOR_ADDR'], `127.0.0.1:${listenPort}`);
    const app = await client(t, listenPort);
    t.strictSame(await app.command('AUTH', PASSWORD), 'OK', 'the app AUTHs with it');
    const keys = keysLike(40);
    for (const key of keys) await app.command('SET', key, `value of ${key}`);
    const read = [];
    for (const key of keys) read.push(await app.command('GET', key));
    t.strictSame(
      read,
      keys.map((key) => `value of ${key}`),
      'through the proxy, the password-protected upstreams store and return every key',
    );
    let stored = 0;
    for (const port of upstreamPorts) {
      const upstream = await client(t, port);
      await upstream.command('AUTH', PASSWORD);
      const size = await upstream.command('DBSIZE');
      stored += typeof size === 'number' ? size : 0;
    }
    t.strictSame(stored, keys.length, 'each key is on one upstream');
    t.notOk(
      readFileSync(join(root, 'nutcracker.log'), 'utf8').includes('s3cr3t'),
      "nutcracker's log never shows the password",
    );
  },
);

t.test(
  'redis-ambassador: the init script refuses a password that is not printable ASCII, writing no config and not repeating it',
  async (t) => {
    const rendered = renderPolicy(POLICY, { upstreams: 'redis-0.cache:6379' });
    for (const password of [
      's3cr3t\nservers:',
      's3cr3t\r',
      's3cr3t\tx',
      's3cr3t\u0001',
      's3cr3té',
    ]) {
      for (const [shell, shellArgs] of SHELLS) {
        const root = tempRoot(t);
        const secrets: Secrets = new Map([['redis-auth', new Map([['password', password]])]]);
        const init = ambassadorInit(rendered, root, secrets);
        const ran = await runToExit(
          { file: shell, args: [...shellArgs, '-c', init.script], env: init.env, cwd: root },
          10_000,
        );
        const label = `${shell}: ${JSON.stringify(password)}`;
        t.not(ran.code, 0, `refuses ${label}`);
        t.strictSame(
          readdirSync(join(root, 'tandem-nutcracker-config')),
          [],
          `no config for ${label}`,
        );
        t.notOk(`${ran.stdout}${ran.stderr}`.includes('s3cr3t'), `does not repeat ${label}`);
      }
    }
  },
);

t.test(
  'redis-ambassador: the init script refuses upstreams that are not HOST:PORT data and a listen address off loopback',
  async (t) => {
    const rendered = renderPolicy(POLICY, { upstreams: 'redis-0.cache:6379' });
    const hostile: [string, string][] = [
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
    ].map((upstreams) => ['UPSTREAMS', upstreams]);
    for (const listen of [
      '0.0.0.0:6379',
      ':6379',
      '10.0.0.1:6379',
      '127.0.0.1:',
      '127.0.0.1:6379x',
    ]) {
      hostile.push(['LISTEN_ADDRESS', listen]);
    }
    for (const [shell, shellArgs] of SHELLS) {
      for (const [name, value] of hostile) {
        const root = tempRoot(t);
        const init = ambassadorInit(rendered, root);
        init.env[name] = value;
        const ran = await runToExit(
          { file: shell, args: [...shellArgs, '-c', init.script], env: init.env, cwd: root },
          10_000,
        );
        const label = `${shell}: ${name}=${JSON.stringify(value)}`;
        t.not(ran.code, 0, `refuses ${label}`);
        t.strictSame(
          readdirSync(join(root, 'tandem-nutcracker-config')),
          [],
          `no config for ${label}`,
        );
        t.notOk(existsSync(join(root, 'pwned')), `runs nothing from ${label}`);
      }
    }
  },
);

t.test(
  'redis-ambassador: the gate sidecar leaves at once, with status 0, on SIGTERM',
  { skip: skipUnless(['busybox'], INSTALL) },
  async (t) => {
    const root = tempRoot(t);
    const bin = busyboxBin(root, ['sh', 'sleep']) ?? '';
    const gate = findContainer(
      renderPolicy(POLICY, { upstreams: 'redis-0.cache:6379' }),
      'tandem-nutcracker-gate',
    );
    const [shell, ...rest] = gate.command ?? [];
    t.strictSame(shell, '/bin/sh');
    const daemon = startDaemon(t, { file: join(bin, 'sh'), args: rest, env: { PATH: bin } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.strictSame(daemon.child.exitCode, null, 'it keeps running');
    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => daemon.child.once('exit', resolve));
    daemon.child.kill('SIGTERM');
    t.strictSame(await exited, 0);
    const took = Date.now() - started;
    t.ok(
      took < 2000,
      `and leaves within 2 s of SIGTERM (${took} ms), not at the grace period's end`,
    );
  },
);

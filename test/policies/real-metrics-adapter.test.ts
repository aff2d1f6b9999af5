/**
 * metrics-adapter, and the nginx adapter docs/policies.md works through, run for real:
 * each exporter with the exact args its policy renders, against a real redis-server or
 * nginx on 127.0.0.1. Two deliberate differences from a pod: the wildcard listen address
 * ":PORT" becomes 127.0.0.1:PORT, and the image's program is Debian's
 * (prometheus-redis-exporter for /redis_exporter, prometheus-nginx-exporter for
 * /usr/bin/nginx-prometheus-exporter). A test whose binary is missing is skipped, saying
 * which Debian package to install (.ci/run installs them).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { V1Container } from '@kubernetes/client-node';
import { REPO_ROOT } from '../fixtures/corpus.ts';
import {
  findContainer,
  loadBuiltinPolicy,
  loadPolicyFile,
  renderPolicy,
} from '../fixtures/real/policies.ts';
import {
  containerEnv,
  freePort,
  startDaemon,
  startRedis,
  waitForPort,
  type Secrets,
} from '../fixtures/real/processes.ts';
import { requireBinary, skipUnless, tempRoot } from '../fixtures/real/harness.ts';

const REDIS_INSTALL = 'redis-server prometheus-redis-exporter';
const NGINX_INSTALL = 'nginx-light prometheus-nginx-exporter';
const NGINX_EXAMPLE = join(REPO_ROOT, 'examples', 'policies', 'nginx-metrics-adapter.yaml');
const PASSWORD = `s3cr3t 'quoted' "double" #hash \\back $(x) :colon`;

/** loopbackArgs is the container's args with the wildcard listen address on loopback. */
function loopbackArgs(container: V1Container): string[] {
  return (container.args ?? []).map((arg) =>
    arg.replace(/^--web\.listen-address=:/, '--web.listen-address=127.0.0.1:'),
  );
}

/** scrape reads /metrics until `until` matches or 10 s pass, and returns the last body. */
async function scrape(port: number, until: RegExp): Promise<string> {
  let body = '';
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !until.test(body)) {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
      signal: AbortSignal.timeout(2000),
    });
    body = await response.text();
    if (!until.test(body)) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return body;
}

/** runRedisExporter renders metrics-adapter and runs its exporter against `redisPort`. */
async function runRedisExporter(
  t: Test,
  redisPort: number,
  secrets: Secrets,
  params: Record<string, string> = {},
) {
  const metricsPort = await freePort();
  const rendered = renderPolicy(loadBuiltinPolicy('metrics-adapter.yaml'), {
    redisAddr: `redis://127.0.0.1:${redisPort}`,
    port: String(metricsPort),
    ...params,
  });
  const exporter = findContainer(rendered, 'tandem-redis-exporter');
  t.strictSame(exporter.command, ['/redis_exporter'], "runs the image's binary");
  const daemon = startDaemon(t, {
    file: requireBinary('prometheus-redis-exporter'),
    args: loopbackArgs(exporter),
    env: containerEnv(exporter.env, new Map(), secrets),
  });
  await waitForPort(daemon, metricsPort, 10_000);
  return { rendered, exporter, daemon, metricsPort };
}

t.test(
  'metrics-adapter: redis_exporter, run with the rendered args against a real Redis, serves redis_up 1 on the port named metrics',
  { skip: skipUnless(['redis-server', 'prometheus-redis-exporter'], REDIS_INSTALL) },
  async (t) => {
    const redisPort = await startRedis(t, requireBinary('redis-server'));
    const { rendered, exporter, metricsPort } = await runRedisExporter(t, redisPort, new Map());
    t.strictSame(
      exporter.ports,
      [{ name: 'metrics', containerPort: metricsPort, protocol: 'TCP' }],
      'the port is named metrics, for a PodMonitor',
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
    t.ok(exporter.args?.includes('--web.telemetry-path=/metrics'), 'serves on the annotated path');
    const body = await scrape(metricsPort, /^redis_up 1$/m);
    t.match(body, /^redis_up 1$/m, 'redis_up 1: the exporter reached the Redis it was pointed at');
    t.match(body, /^redis_connected_clients \d+$/m, "INFO's fields come out as metrics");
  },
);

t.test(
  "metrics-adapter: against a password-protected Redis, the Secret's password (from env, not argv) makes redis_up 1",
  { skip: skipUnless(['redis-server', 'prometheus-redis-exporter'], REDIS_INSTALL) },
  async (t) => {
    const redisPort = await startRedis(t, requireBinary('redis-server'), { requirepass: PASSWORD });
    const secrets: Secrets = new Map([['cache-credentials', new Map([['password', PASSWORD]])]]);
    const withSecret = await runRedisExporter(t, redisPort, secrets, {
      passwordSecret: 'cache-credentials',
    });
    const body = await scrape(withSecret.metricsPort, /^redis_up 1$/m);
    t.match(body, /^redis_up 1$/m, 'redis_up 1 with the password');
    t.match(body, /^redis_connected_clients \d+$/m);
    const cmdline = readFileSync(`/proc/${withSecret.daemon.child.pid}/cmdline`, 'utf8');
    t.notOk(cmdline.includes('s3cr3t'), "the exporter's argv does not hold the password");

    // The Secret is optional: without it the exporter runs, unauthenticated, and says so.
    const without = await runRedisExporter(t, redisPort, new Map());
    const refused = await scrape(without.metricsPort, /^redis_up 0$/m);
    t.match(refused, /^redis_up 0$/m, 'without the Secret the same Redis reports redis_up 0');
  },
);

t.test(
  "docs/policies.md's nginx adapter: the exact command line it renders, against a real nginx stub_status, serves nginx_up 1",
  { skip: skipUnless(['nginx', 'prometheus-nginx-exporter'], NGINX_INSTALL) },
  async (t) => {
    const root = tempRoot(t);
    const statusPort = await freePort();
    const conf = join(root, 'nginx.conf');
    writeFileSync(
      conf,
      [
        'worker_processes 1;',
        'daemon off;',
        `pid ${join(root, 'nginx.pid')};`,
        'error_log stderr;',
        'events { worker_connections 64; }',
        'http {',
        '  access_log off;',
        `  client_body_temp_path ${join(root, 'body')};`,
        `  proxy_temp_path ${join(root, 'proxy')};`,
        `  fastcgi_temp_path ${join(root, 'fastcgi')};`,
        `  uwsgi_temp_path ${join(root, 'uwsgi')};`,
        `  scgi_temp_path ${join(root, 'scgi')};`,
        `  server { listen 127.0.0.1:${statusPort}; location = /stub_status { stub_status; } }`,
        '}',
        '',
      ].join('\n'),
    );
    const nginx = startDaemon(t, {
      file: requireBinary('nginx'),
      args: ['-p', root, '-c', conf],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    });
    await waitForPort(nginx, statusPort, 10_000);

    const metricsPort = await freePort();
    const rendered = renderPolicy(loadPolicyFile(NGINX_EXAMPLE), {
      statusUrl: `http://127.0.0.1:${statusPort}/stub_status`,
      port: String(metricsPort),
    });
    const exporter = findContainer(rendered, 'tandem-nginx-exporter');
    t.strictSame(exporter.command, ['/usr/bin/nginx-prometheus-exporter'], "the image's binary");
    t.strictSame(exporter.args, [
      `--nginx.scrape-uri=http://127.0.0.1:${statusPort}/stub_status`,
      `--web.listen-address=:${metricsPort}`,
      '--web.telemetry-path=/metrics',
    ]);
    t.strictSame(exporter.ports, [
      { name: 'metrics', containerPort: metricsPort, protocol: 'TCP' },
    ]);
    const daemon = startDaemon(t, {
      file: requireBinary('prometheus-nginx-exporter'),
      args: loopbackArgs(exporter),
      env: containerEnv(exporter.env, new Map()),
    });
    await waitForPort(daemon, metricsPort, 10_000);
    const body = await scrape(metricsPort, /^nginx_up 1$/m);
    t.match(body, /^nginx_up 1$/m, 'nginx_up 1: the exporter read the stub_status page');
    t.match(body, /^nginx_connections_accepted [1-9]\d*$/m, "stub_status's counters come out");
  },
);

t.test('docs/policies.md shows the nginx adapter policy exactly as the tested file has it', (t) => {
  const docs = readFileSync(join(REPO_ROOT, 'docs', 'policies.md'), 'utf8');
  const example = readFileSync(NGINX_EXAMPLE, 'utf8');
  t.ok(docs.includes(`\`\`\`yaml\n${example}\`\`\``), 'the docs quote the file verbatim');
  t.end();
});

/**
 * The 1,000-policy check on its own, as an A/B of server CPU per review: the build's
 * `tandem serve` with the built-in policies and with 1,000 (bench/many-policies.ts),
 * saturated in alternation with the medium body, and each run's server CPU (from /proc)
 * divided by the reviews it answered. CPU per review moves less with the machine's load
 * than reviews/s does. `--node-flags` goes to both servers (e.g. `--cpu-prof`).
 *
 *   flock /tmp/tandem-bench.lock node bench/policy-scale.ts [--rounds N] [--seconds S]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generate } from 'selfsigned';
import { singlePolicyBody } from './bodies.ts';
import { saturate, warmUp } from './load.ts';
import { writeManyPolicies } from './many-policies.ts';
import { freePort, pinCores, rssMiB, startServer, type ServerProcess } from './processes.ts';

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '4' },
      seconds: { type: 'string', default: '3' },
      'node-flags': { type: 'string', default: '' },
      'warm-seconds': { type: 'string', default: '10' },
      'fresh-warm-seconds': { type: 'string', default: '0.5' },
    },
  });
  const pinning = pinCores();
  const work = await mkdtemp(join(tmpdir(), 'tandem-policy-scale-'));
  const pem = await generate([{ name: 'commonName', value: 'tandem-bench' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const cert = join(work, 'tls.crt');
  const key = join(work, 'tls.key');
  await writeFile(cert, pem.cert);
  await writeFile(key, pem.private, { mode: 0o600 });
  const many = await writeManyPolicies(join(REPO, 'policies'), 1000);
  const flags = values['node-flags'].split(' ').filter((f) => f !== '');
  const start = async (name: string, policies: string): Promise<ServerProcess> => {
    const port = await freePort();
    return startServer({
      name,
      pinning,
      port,
      nodeArgs: [
        ...flags,
        join(REPO, 'dist', 'tandem.js'),
        'serve',
        '--no-cluster',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--tls-cert',
        cert,
        '--tls-key',
        key,
        '--policies',
        policies,
        '--grace-period',
        '0',
      ],
    });
  };
  const text = JSON.stringify(singlePolicyBody('medium').review);
  // As in `npm run bench`: the 3-policy server has answered for a while when the
  // 1,000-policy one starts; a second, fresh 3-policy server tells freshness from policies.
  const warm = await start('tandem-3-warm', join(REPO, 'policies'));
  const servers = [warm];
  try {
    await warmUp(warm.url, text, Number(values['warm-seconds']));
    servers.push(
      await start('tandem-1000', many),
      await start('tandem-3-fresh', join(REPO, 'policies')),
    );
    const freshWarm = Number(values['fresh-warm-seconds']);
    for (const server of servers.slice(1)) await warmUp(server.url, text, freshWarm);
    const seconds = Number(values.seconds);
    for (let round = 0; round < Number(values.rounds); round += 1) {
      const line: string[] = [];
      for (const server of servers) {
        const run = await saturate(server, text, { seconds, connections: 32 });
        const us = (run.serverCpu / run.reviewsPerSecond) * 1e6;
        line.push(
          `${server.name} ${Math.round(run.reviewsPerSecond)}/s ${us.toFixed(0)} µs CPU/review (cpu ${run.serverCpu.toFixed(2)})`,
        );
      }
      console.log(line.join('   '));
    }
    for (const server of servers)
      console.log(`${server.name} RSS ${rssMiB(server.pid).toFixed(1)} MiB`);
  } finally {
    for (const server of servers) await server.stop();
    await rm(many, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
}

await main();

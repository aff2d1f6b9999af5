/**
 * `tandem serve`: the admission webhook. Flags (each with a TANDEM_* environment twin)
 * become WebhookSettings; signals become a drain. The wiring itself is in
 * src/server/webhook.ts.
 */
import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import type { SidecarModeSetting } from '../admission/pod.ts';
import { TandemError } from '../errors.ts';
import { reportFailure } from './failure.ts';
import type { ClusterConnection } from '../kube/connect.ts';
import { readNamespaceLabelsFile, staticNamespaces } from '../kube/static-namespaces.ts';
import { DEFAULT_BODY_LIMIT, DEFAULT_MAX_CONNECTIONS } from '../server/app.ts';
import { startWebhook, type RunningWebhook } from '../server/webhook.ts';

const env = process.env;

// The kubelet's default terminationGracePeriodSeconds is 30; the endpoint removal that
// stops new reviews arriving takes a few seconds to reach every apiserver, so 5 s of
// serving while draining leaves the rest of the 30 for in-flight work.
const DEFAULT_GRACE_SECONDS = 5;

const OPTIONS = {
  host: { type: 'string', default: env['TANDEM_HOST'] ?? '0.0.0.0' },
  port: { type: 'string', default: env['TANDEM_PORT'] ?? '8443' },
  'tls-cert': { type: 'string', default: env['TANDEM_TLS_CERT'] ?? '' },
  'tls-key': { type: 'string', default: env['TANDEM_TLS_KEY'] ?? '' },
  policies: { type: 'string', default: env['TANDEM_POLICIES'] ?? 'policies' },
  'no-cluster': { type: 'boolean', default: isTrue(env['TANDEM_NO_CLUSTER']) },
  'namespace-labels': { type: 'string', default: env['TANDEM_NAMESPACE_LABELS'] ?? '' },
  'sidecar-mode': { type: 'string', default: env['TANDEM_SIDECAR_MODE'] ?? 'auto' },
  'grace-period': {
    type: 'string',
    default: env['TANDEM_GRACE_PERIOD'] ?? String(DEFAULT_GRACE_SECONDS),
  },
  'log-level': { type: 'string', default: env['TANDEM_LOG_LEVEL'] ?? 'info' },
  'body-limit': { type: 'string', default: env['TANDEM_BODY_LIMIT'] ?? String(DEFAULT_BODY_LIMIT) },
  'max-connections': {
    type: 'string',
    default: env['TANDEM_MAX_CONNECTIONS'] ?? String(DEFAULT_MAX_CONNECTIONS),
  },
  help: { type: 'boolean', short: 'h' },
} as const;

const HELP = `Usage: tandem serve [options]

Runs the mutating admission webhook over HTTPS: POST /mutate (AdmissionReview v1 and
v1beta1), GET /healthz, /readyz and /metrics. Every option has an environment twin.

Options:
      --host ADDR               address to listen on (TANDEM_HOST, default 0.0.0.0)
      --port N                  port to listen on (TANDEM_PORT, default 8443)
      --tls-cert FILE           PEM certificate chain (TANDEM_TLS_CERT); reloaded on change
      --tls-key FILE            PEM private key (TANDEM_TLS_KEY); without both, a
                                self-signed pair for localhost is made and its path printed
      --policies DIR            policies directory (TANDEM_POLICIES, default policies);
                                reloaded on change, a broken reload keeps the last good set
      --no-cluster              do not talk to a cluster: namespaces get only their
                                kubernetes.io/metadata.name label (TANDEM_NO_CLUSTER=true)
      --namespace-labels FILE   with --no-cluster: YAML map of namespace to labels
                                (TANDEM_NAMESPACE_LABELS)
      --sidecar-mode MODE       native, classic or auto (TANDEM_SIDECAR_MODE, default auto:
                                native where the cluster supports it)
      --grace-period SECONDS    on SIGTERM, keep answering this long while not ready
                                (TANDEM_GRACE_PERIOD, default ${DEFAULT_GRACE_SECONDS})
      --log-level LEVEL         fatal, error, warn, info, debug, trace
                                (TANDEM_LOG_LEVEL, default info)
      --body-limit BYTES        largest review accepted (TANDEM_BODY_LIMIT, default
                                ${DEFAULT_BODY_LIMIT}, 7 MiB)
      --max-connections N       open connections at most (TANDEM_MAX_CONNECTIONS, default
                                ${DEFAULT_MAX_CONNECTIONS}); at the cap a new connection
                                replaces the longest-idle one
  -h, --help                    show this help
`;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function isTrue(value: string | undefined): boolean {
  return value === 'true' || value === '1';
}

function configError(message: string): TandemError {
  return new TandemError('TANDEM_ERR_CONFIG', message);
}

function parseInteger(flag: string, value: string, range: { min: number; max: number }): number {
  const number = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < range.min || number > range.max) {
    throw configError(`--${flag} must be a whole number from ${range.min} to ${range.max}`);
  }
  return number;
}

function parseSidecarModeSetting(value: string): SidecarModeSetting {
  if (value === 'native' || value === 'classic' || value === 'auto') return value;
  throw configError(`--sidecar-mode must be native, classic or auto, not "${value}"`);
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

/**
 * clusterSide gives the server its namespaces and sidecar settings: from the cluster, or
 * with --no-cluster from a labels file, assuming native sidecars (on by default in every
 * Kubernetes still supported, 1.29 and later) unless the flag says classic.
 */
async function clusterSide(values: Values, logger: Logger): Promise<ClusterConnection> {
  const mode = parseSidecarModeSetting(values['sidecar-mode']);
  if (!values['no-cluster']) {
    // Loaded only here: @kubernetes/client-node adds about 55 MiB of RSS (issue 5's
    // benchmark), which a local run without a cluster need not carry.
    const { connectToCluster } = await import('../kube/connect.ts');
    return connectToCluster(mode, logger);
  }
  const file = values['namespace-labels'];
  logger.info(
    { namespaceLabels: file === '' ? null : file },
    'no cluster: namespace labels come from --namespace-labels, else only kubernetes.io/metadata.name',
  );
  const table = file === '' ? {} : await readNamespaceLabelsFile(file);
  return {
    namespaces: staticNamespaces(table),
    sidecars: { mode, nativeSupported: true },
    close: () => Promise.resolve(),
  };
}

function tlsFiles(values: Values): { certFile: string; keyFile: string } | undefined {
  const certFile = values['tls-cert'];
  const keyFile = values['tls-key'];
  if (certFile === '' && keyFile === '') return undefined;
  if (certFile === '' || keyFile === '') throw configError('--tls-cert and --tls-key go together');
  return { certFile, keyFile };
}

function printLocalHelp(webhook: RunningWebhook): void {
  if (!webhook.tls.selfSigned) return;
  process.stderr.write(
    `tandem serve: no --tls-cert given; serving a self-signed certificate for localhost:\n` +
      `  certificate: ${webhook.tls.certFile}\n` +
      `  key:         ${webhook.tls.keyFile}\n` +
      `Send the sample review:\n` +
      `  curl --cacert ${webhook.tls.certFile} -H 'Content-Type: application/json' ` +
      `--data @examples/review.json https://localhost:${webhook.port}/mutate\n`,
  );
}

/** waitForSignal resolves with the first of SIGTERM or SIGINT. */
function waitForSignal(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

async function serve(values: Values): Promise<number> {
  const level = values['log-level'];
  if (!LOG_LEVELS.includes(level)) {
    throw configError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const logger = pino({ level, base: { service: 'tandem' } });
  const signal = waitForSignal(logger);
  const cluster = await clusterSide(values, logger);
  const webhook = await startWebhook({
    host: values.host,
    port: parseInteger('port', values.port, { min: 0, max: 65535 }),
    policiesDir: values.policies,
    tls: tlsFiles(values),
    namespaces: cluster.namespaces,
    sidecars: cluster.sidecars,
    graceMs: parseInteger('grace-period', values['grace-period'], { min: 0, max: 3600 }) * 1000,
    bodyLimit: parseInteger('body-limit', values['body-limit'], { min: 1024, max: 2 ** 30 }),
    maxConnections: parseInteger('max-connections', values['max-connections'], {
      min: 1,
      max: 1_000_000,
    }),
    logger,
  });
  printLocalHelp(webhook);
  await signal;
  await webhook.drain();
  await cluster.close();
  return 0;
}

/** run executes `tandem serve`; it resolves with 0 after a clean drain. */
export async function run(args: string[]): Promise<number> {
  try {
    const { values } = parseArgs({ args, options: OPTIONS, strict: true });
    if (values.help === true) {
      process.stdout.write(HELP);
      return 0;
    }
    return await serve(values);
  } catch (error) {
    return reportFailure('serve', HELP, error);
  }
}

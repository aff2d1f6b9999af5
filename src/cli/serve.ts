/**
 * `tandem serve`: the admission webhook. Flags (each with a TANDEM_* environment twin)
 * become WebhookSettings; signals become a drain. The wiring itself is in
 * src/server/webhook.ts.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { TandemError } from '../errors.ts';
import { reportFailure } from './failure.ts';
import { flagLines, parseFlags, type FlagTable, type FlagValues } from './flags.ts';
import type { ClusterConnection } from '../kube/connect.ts';
import {
  readNamespaceAnnotationsFile,
  readNamespaceLabelsFile,
  staticNamespaces,
} from '../kube/static-namespaces.ts';
import { DEFAULT_BODY_LIMIT, DEFAULT_MAX_CONNECTIONS } from '../server/app.ts';
import { startWebhook, type RunningWebhook } from '../server/webhook.ts';
import {
  ASSUMED_SUPPORT,
  SERVE_SIDECAR_MODES,
  decideSidecars,
  parseSidecarModeSetting,
} from '../sidecar-mode.ts';

// The kubelet's default terminationGracePeriodSeconds is 30; the endpoint removal that
// stops new reviews arriving takes a few seconds to reach every apiserver, so 5 s of
// serving while draining leaves the rest of the 30 for in-flight work.
const DEFAULT_GRACE_SECONDS = 5;

/** FLAGS are the flags of this verb. */
export const FLAGS = {
  host: { type: 'string', arg: 'ADDR', default: '0.0.0.0', help: 'address to listen on' },
  port: { type: 'string', arg: 'N', default: '8443', help: 'port to listen on' },
  'tls-cert': {
    type: 'string',
    arg: 'FILE',
    default: '',
    help: 'PEM certificate chain; reloaded on change',
  },
  'tls-key': {
    type: 'string',
    arg: 'FILE',
    default: '',
    help: 'PEM private key; without both, a self-signed pair for localhost\nis made and its path printed',
  },
  policies: {
    type: 'string',
    arg: 'DIR',
    default: 'policies',
    help: 'policies directory; reloaded on change, a broken reload keeps the\nlast good set',
  },
  'no-cluster': {
    type: 'boolean',
    help: 'do not talk to a cluster: namespaces get only their\nkubernetes.io/metadata.name label',
  },
  'namespace-labels': {
    type: 'string',
    arg: 'FILE',
    default: '',
    help: 'with --no-cluster: YAML map of namespace to labels',
  },
  'namespace-annotations': {
    type: 'string',
    arg: 'FILE',
    default: '',
    help: 'with --no-cluster: YAML map of namespace to annotations, for\nper-namespace param values',
  },
  'sidecar-mode': {
    type: 'string',
    arg: 'MODE',
    default: 'auto',
    help: 'native, classic or auto (native where the cluster supports it)',
  },
  'grace-period': {
    type: 'string',
    arg: 'SECONDS',
    default: String(DEFAULT_GRACE_SECONDS),
    help: 'on SIGTERM, keep answering this long while not ready',
  },
  'log-level': {
    type: 'string',
    arg: 'LEVEL',
    default: 'info',
    help: 'fatal, error, warn, info, debug, trace or silent',
  },
  'body-limit': {
    type: 'string',
    arg: 'BYTES',
    default: String(DEFAULT_BODY_LIMIT),
    help: 'largest review accepted (7 MiB by default)',
  },
  'max-connections': {
    type: 'string',
    arg: 'N',
    default: String(DEFAULT_MAX_CONNECTIONS),
    help: 'open connections at most; at the cap a new connection replaces\nthe longest-idle one',
  },
} as const satisfies FlagTable;

const HELP = `Usage: tandem serve [options]

Runs the mutating admission webhook over HTTPS: POST /mutate (AdmissionReview v1 and
v1beta1), GET /healthz, /readyz and /metrics. Every option has an environment twin.

Options:
${flagLines(FLAGS)}`;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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

type Values = FlagValues<typeof FLAGS>;

/**
 * clusterSide gives the server its namespaces and sidecar settings: from the cluster, or
 * with --no-cluster from a labels file, assuming native sidecars (on by default in every
 * Kubernetes still supported, 1.29 and later) unless the flag says classic.
 */
async function clusterSide(values: Values, logger: Logger): Promise<ClusterConnection> {
  const mode = parseSidecarModeSetting(values['sidecar-mode'], SERVE_SIDECAR_MODES);
  if (!values['no-cluster']) {
    // Loaded only here: the cluster client (client-node's KubeConfig and its
    // authenticators) adds about 6 MiB of RSS, which a run without a cluster need not carry.
    const { connectToCluster } = await import('../kube/connect.ts');
    return connectToCluster(mode, logger);
  }
  const file = values['namespace-labels'];
  const annotationsFile = values['namespace-annotations'];
  logger.info(
    {
      namespaceLabels: file === '' ? null : file,
      namespaceAnnotations: annotationsFile === '' ? null : annotationsFile,
    },
    'no cluster: namespace labels come from --namespace-labels, else only kubernetes.io/metadata.name',
  );
  const table = file === '' ? {} : await readNamespaceLabelsFile(file);
  const annotations =
    annotationsFile === '' ? {} : await readNamespaceAnnotationsFile(annotationsFile);
  return {
    namespaces: staticNamespaces(table, annotations),
    sidecars: decideSidecars(mode, ASSUMED_SUPPORT),
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

// Lines are written in batches of LOG_BATCH_BYTES, or every LOG_FLUSH_MS when fewer come:
// one write(2) per admission line cost about a tenth of a review's CPU on a busy core
// (a syscall and a thread-pool hand-off each), and with answers from the cache a write
// per 4 KiB still took a tenth of a cached review's time. sonic-boom wants the batch
// under its 16 KiB largest write. pino flushes what is left at exit.
const LOG_BATCH_BYTES = 15 * 1024;
const LOG_FLUSH_MS = 250;

/** logDestination is stdout, written in batches (LOG_BATCH_BYTES, LOG_FLUSH_MS). */
function logDestination(): DestinationStream {
  return pino.destination({ dest: 1, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_MS });
}

async function serve(values: Values): Promise<number> {
  const level = values['log-level'];
  if (!LOG_LEVELS.includes(level)) {
    throw configError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const logger = pino({ level, base: { service: 'tandem' } }, logDestination());
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
    const { values, help } = parseFlags(FLAGS, args);
    if (help) {
      process.stdout.write(HELP);
      return 0;
    }
    return await serve(values);
  } catch (error) {
    return reportFailure('serve', HELP, error);
  }
}

/**
 * startWebhook wires a running webhook from its settings: policies (a bad directory is
 * fatal here), the key pair (from files, or self-signed), metrics, the app, the
 * listener, both reloaders and the drainer. `tandem serve` adds flags and signals; tests
 * call it directly with port 0 and short watch periods.
 */
import { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { SidecarSettings } from '../sidecar-mode.ts';
import type { NamespaceDirectory } from '../kube/namespaces.ts';
import { loadPolicies } from '../policy/load.ts';
import { readVersion } from '../version.ts';
import { buildApp, type ConnectionTimeouts, type WebhookApp } from './app.ts';
import { createDrainer } from './drain.ts';
import { createMetrics, type ServerMetrics } from './metrics.ts';
import { createPolicyStore, fingerprintPolicyDirectory, watchPolicies } from './policies.ts';
import { readTlsPair, watchCertificates, type TlsFiles } from './tls.ts';
import type { WatchOptions } from './watch.ts';

/** WebhookSettings is what `tandem serve` decides from its flags. */
export interface WebhookSettings {
  readonly host: string;
  readonly port: number;
  readonly policiesDir: string;
  /** tls names the pair; undefined makes a self-signed one. */
  readonly tls: TlsFiles | undefined;
  readonly namespaces: NamespaceDirectory;
  readonly sidecars: SidecarSettings;
  readonly graceMs: number;
  readonly bodyLimit?: number;
  readonly maxConnections?: number;
  /** timeouts shorten the connection timeouts, for tests. */
  readonly timeouts?: Partial<ConnectionTimeouts>;
  readonly logger: Logger;
  /** watch tunes both reloaders. */
  readonly watch?: WatchOptions;
}

/** RunningWebhook is a listening webhook. */
export interface RunningWebhook {
  readonly app: WebhookApp;
  readonly port: number;
  readonly metrics: ServerMetrics;
  /** tls names the files being served; `selfSigned` when tandem made them. */
  readonly tls: TlsFiles & { readonly selfSigned: boolean };
  /** drain goes not-ready, serves out the grace period, and closes. */
  drain(): Promise<void>;
}

// Events are the fast path; the poll is the safety net, and costs a few small reads.
const DEFAULT_WATCH: WatchOptions = { debounceMs: 200, pollMs: 10_000 };

/** startWebhook starts the webhook; it throws PolicyInvalidError or TANDEM_ERR_TLS at start-up. */
export async function startWebhook(settings: WebhookSettings): Promise<RunningWebhook> {
  const { logger } = settings;
  const watch = settings.watch ?? DEFAULT_WATCH;
  const loadedFingerprint = await fingerprintPolicyDirectory(settings.policiesDir);
  const store = createPolicyStore(await loadPolicies(settings.policiesDir));
  // Imported only when needed: its X.509 library costs about 160 ms of a start-up, and a
  // cluster always gives tandem its certificate.
  const files = settings.tls ?? (await (await import('./self-signed.ts')).createSelfSignedPair());
  const pair = await readTlsPair(files);

  const metrics = createMetrics(new Registry(), { version: readVersion() });
  metrics.recordPoliciesLoaded(store.get().byName.size);
  metrics.recordPoliciesServed(Date.now());
  metrics.recordCertificate(pair.period.notAfter);
  let draining = (): boolean => false;
  let tlsValid = (): boolean => false;
  const app = buildApp({
    getPolicies: () => store.get(),
    namespaces: settings.namespaces,
    sidecars: settings.sidecars,
    logger,
    metrics,
    tls: pair,
    draining: () => draining(),
    readiness: () => {
      // Policies and the key pair are loaded before the server listens, and a bad reload
      // keeps the old ones; a certificate outside its validity period fails every
      // verifying client, so the Service should send them to another replica.
      const checks = {
        policies: true,
        tls: tlsValid(),
        namespaces: settings.namespaces.synced,
        notDraining: !draining(),
      };
      return { ready: checks.tls && checks.namespaces && checks.notDraining, checks };
    },
    ...(settings.bodyLimit === undefined ? {} : { bodyLimit: settings.bodyLimit }),
    ...(settings.maxConnections === undefined ? {} : { maxConnections: settings.maxConnections }),
    ...(settings.timeouts === undefined ? {} : { timeouts: settings.timeouts }),
  });
  await app.listen({ host: settings.host, port: settings.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : settings.port;

  const certWatch = watchCertificates({
    files,
    initial: pair,
    server: app.server,
    logger,
    metrics,
    watch,
  });
  tlsValid = () => certWatch.validNow();
  const policyWatch = watchPolicies({
    dir: settings.policiesDir,
    store,
    logger,
    metrics,
    watch,
    loadedFingerprint,
  });
  const drainer = createDrainer({
    server: app.server,
    close: async () => {
      certWatch.close();
      policyWatch.close();
      await app.close();
    },
    graceMs: settings.graceMs,
    logger,
  });
  draining = drainer.draining;
  logger.info({ host: settings.host, port, policies: [...store.get().byName.keys()] }, 'listening');
  return {
    app,
    port,
    metrics,
    tls: { ...files, selfSigned: settings.tls === undefined },
    drain: () => drainer.drain(),
  };
}

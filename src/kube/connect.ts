/**
 * connectToCluster is what `tandem serve` needs from the cluster at start: where it is
 * (as kubectl finds it), whether it runs native sidecars (its version), and a namespace
 * cache that fills in the background. The server listens before the cache has synced:
 * /healthz answers at once, /readyz waits for the cache.
 */
import type { Logger } from 'pino';
import { decideSidecars, type SidecarModeSetting, type SidecarSettings } from '../sidecar-mode.ts';
import { loadClusterConfig } from './config.ts';
import { createNamespaceCache } from './namespace-cache.ts';
import type { NamespaceDirectory } from './namespaces.ts';
import { fetchClusterVersion, nativeSupport } from './version.ts';

/** ClusterConnection is the cluster-facing half of the server's dependencies. */
export interface ClusterConnection {
  readonly namespaces: NamespaceDirectory;
  readonly sidecars: SidecarSettings;
  /** close stops watching the cluster. */
  close(): Promise<void>;
}

/** connectToCluster finds the cluster, asks its version and starts the namespace cache. */
export async function connectToCluster(
  sidecarFlag: SidecarModeSetting,
  logger: Logger,
): Promise<ClusterConnection> {
  const cluster = loadClusterConfig();
  logger.info({ source: cluster.source, server: cluster.server }, 'cluster found');
  const version = await fetchClusterVersion(cluster.kubeConfig);
  const { warning, ...decision } = decideSidecars(sidecarFlag, nativeSupport(version));
  if (warning !== undefined) logger.warn(warning);
  logger.info(
    { version: version?.text, sidecarMode: decision.sidecarMode },
    'sidecar mode chosen from the cluster version',
  );
  const namespaces = createNamespaceCache(cluster.kubeConfig, {
    onEvent: (event) => {
      if (event.type === 'error') {
        logger.warn(
          { err: event.error, retryInMs: event.retryInMs },
          'namespace watch failed, retrying',
        );
      } else {
        logger.info({ namespaces: event.namespaces }, 'namespace cache synced');
      }
    },
  });
  // Not awaited: start() retries until the first list lands, and /readyz reports the wait.
  namespaces.start().catch((error: unknown) => {
    logger.error({ err: error }, 'namespace cache stopped');
  });
  return {
    namespaces,
    sidecars: decision,
    close: () => namespaces.stop(),
  };
}

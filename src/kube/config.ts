/**
 * Finding the cluster, the way controller-runtime's `GetConfig` does: an explicit
 * `KUBECONFIG` first, then the pod's service account, then `~/.kube/config`.
 *
 * client-node's `loadFromDefault` has a different order (kubeconfig files before the
 * service account) and, finding nothing, silently points at http://localhost:8080. A
 * webhook that quietly talks to nothing would report every namespace as unlabelled, so
 * here finding nothing is an error that says what was tried.
 */
import { existsSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { TandemError } from '../errors.ts';

/** ClusterSource says where the cluster's address and credentials came from. */
export type ClusterSource = 'kubeconfig-env' | 'in-cluster' | 'kubeconfig-home';

/** ClusterConfig is a loaded KubeConfig and where it came from, for the start-up log. */
export interface ClusterConfig {
  readonly kubeConfig: KubeConfig;
  readonly source: ClusterSource;
  /** server is the apiserver's URL. */
  readonly server: string;
}

/** ClusterLookup is what the search reads; tests give their own. */
export interface ClusterLookup {
  readonly env: NodeJS.ProcessEnv;
  readonly home: string;
  /**
   * root prefixes the service account's files (`/var/run/secrets/kubernetes.io/...`),
   * as client-node's `loadFromCluster(pathPrefix)` does.
   */
  readonly root: string;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

function defaultLookup(): ClusterLookup {
  return { env: process.env, home: homedir(), root: '' };
}

function loaded(kubeConfig: KubeConfig, source: ClusterSource): ClusterConfig {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (server === undefined || server === '') {
    throw new TandemError('TANDEM_ERR_CLUSTER', `the ${source} configuration names no cluster`);
  }
  return { kubeConfig, source, server };
}

function loadFiles(files: readonly string[]): KubeConfig {
  const kubeConfig = new KubeConfig();
  const [first, ...rest] = files;
  if (first !== undefined) kubeConfig.loadFromFile(first);
  // As kubectl does, later files add what the first lacks; the first file's context wins.
  for (const file of rest) {
    const more = new KubeConfig();
    more.loadFromFile(file);
    kubeConfig.mergeConfig(more, true);
  }
  return kubeConfig;
}

/**
 * inCluster is client-node's `loadFromCluster` with the environment passed in rather
 * than read from `process.env`. The token stays a file that client-node rereads every
 * minute, because the kubelet rotates projected service account tokens.
 */
function inCluster(host: string, port: string, root: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromClusterAndUser(
    {
      name: 'in-cluster',
      server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
      caFile: `${root}${SERVICE_ACCOUNT}/ca.crt`,
      skipTLSVerify: false,
    },
    {
      name: 'in-cluster',
      authProvider: { name: 'tokenFile', config: { tokenFile: `${root}${SERVICE_ACCOUNT}/token` } },
    },
  );
  return kubeConfig;
}

/** findClusterConfig tries, in order, KUBECONFIG, the pod's service account and ~/.kube/config. */
function findClusterConfig({ env, home, root }: ClusterLookup): ClusterConfig | undefined {
  const files = (env['KUBECONFIG'] ?? '').split(delimiter).filter((file) => file !== '');
  if (files.length > 0) return loaded(loadFiles(files), 'kubeconfig-env');
  const host = env['KUBERNETES_SERVICE_HOST'] ?? '';
  if (host !== '' && existsSync(`${root}${SERVICE_ACCOUNT}/token`)) {
    return loaded(inCluster(host, env['KUBERNETES_SERVICE_PORT'] ?? '443', root), 'in-cluster');
  }
  const homeFile = join(home, '.kube', 'config');
  return existsSync(homeFile) ? loaded(loadFiles([homeFile]), 'kubeconfig-home') : undefined;
}

/**
 * loadClusterConfig finds the cluster: `KUBECONFIG` (a path list) if set, else the pod's
 * service account when `KUBERNETES_SERVICE_HOST` and the token file are both there, else
 * `~/.kube/config`. It throws TANDEM_ERR_CLUSTER when none is found or a file is unreadable.
 */
export function loadClusterConfig(lookup: ClusterLookup = defaultLookup()): ClusterConfig {
  const { home } = lookup;
  try {
    const found = findClusterConfig(lookup);
    if (found !== undefined) return found;
  } catch (error) {
    if (error instanceof TandemError) throw error;
    throw new TandemError('TANDEM_ERR_CLUSTER', 'cannot load the cluster configuration', {
      cause: error,
    });
  }
  throw new TandemError(
    'TANDEM_ERR_CLUSTER',
    'no cluster found: KUBECONFIG is unset, this is not a pod with a service account, ' +
      `and ${join(home, '.kube', 'config')} does not exist (run with --no-cluster to go without)`,
  );
}

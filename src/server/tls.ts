/**
 * The serving certificate: read and check a key pair, and swap it into the running
 * server when the files change (cert-manager renews the Secret, the kubelet swaps the
 * mount's `..data` symlink). `setSecureContext` applies to new handshakes only, so
 * connections already open keep working and no request fails during a rotation.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import { TandemError } from '../errors.ts';
import type { TlsCredentials } from './app.ts';
import type { ServerMetrics } from './metrics.ts';
import { watchDirectories, type Watch, type WatchOptions } from './watch.ts';

/** TLS_MIN_VERSION: TLS 1.0 and 1.1 are deprecated (RFC 8996). */
export const TLS_MIN_VERSION = 'TLSv1.2';

/** TlsFiles names the PEM files of a pair. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** TlsPair is a checked pair, as bytes, so a reload can tell whether anything changed. */
export interface TlsPair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/**
 * checkTlsPair throws TANDEM_ERR_TLS unless the key and certificate parse and belong
 * together. OpenSSL does not compare them when a context is built, and a mismatched pair
 * fails every handshake, so a half-written rotation must be caught here.
 */
export function checkTlsPair(pair: TlsCredentials): void {
  try {
    const certificate = new X509Certificate(pair.cert);
    if (!certificate.checkPrivateKey(createPrivateKey(pair.key))) {
      throw new Error('the key does not belong to the certificate');
    }
    createSecureContext({ key: pair.key, cert: pair.cert, minVersion: TLS_MIN_VERSION });
  } catch (error) {
    throw new TandemError('TANDEM_ERR_TLS', `unusable key pair: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** readTlsPair reads and checks a pair; it throws TANDEM_ERR_TLS. */
export async function readTlsPair(files: TlsFiles): Promise<TlsPair> {
  let pair: TlsPair;
  try {
    const [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
    pair = { cert, key };
  } catch (error) {
    throw new TandemError(
      'TANDEM_ERR_TLS',
      `cannot read ${files.certFile} and ${files.keyFile}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  checkTlsPair(pair);
  return pair;
}

/** SecureServer is the part of an https.Server the reloader uses. */
export interface SecureServer {
  setSecureContext(options: SecureContextOptions): void;
}

/** CertReloadOptions wires a reloader. */
export interface CertReloadOptions {
  readonly files: TlsFiles;
  /** initial is the pair the server was started with. */
  readonly initial: TlsPair;
  readonly server: SecureServer;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  readonly watch: WatchOptions;
}

function samePair(a: TlsPair | undefined, b: TlsPair): boolean {
  return a !== undefined && a.cert.equals(b.cert) && a.key.equals(b.key);
}

/**
 * watchCertificates reloads the pair when its files change. A pair that cannot be read
 * or does not match keeps the old one serving, is logged and counted once, and is tried
 * again on the next change (a renewal that writes key and cert separately is whole a
 * moment later).
 */
export function watchCertificates(options: CertReloadOptions): Watch {
  const { files, server, logger, metrics } = options;
  let current = options.initial;
  let rejected: TlsPair | undefined;

  const check = async (): Promise<void> => {
    let next: TlsPair;
    try {
      const [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
      next = { cert, key };
    } catch (error) {
      // Mid-swap the symlinks can point nowhere for a moment; the next event retries.
      logger.debug({ err: error }, 'certificate files not readable yet');
      return;
    }
    if (samePair(current, next) || samePair(rejected, next)) return;
    try {
      checkTlsPair(next);
      server.setSecureContext({ key: next.key, cert: next.cert, minVersion: TLS_MIN_VERSION });
    } catch (error) {
      rejected = next;
      metrics.recordTlsReload('failure');
      logger.error({ err: error, ...files }, 'new certificate rejected; still serving the old one');
      return;
    }
    current = next;
    rejected = undefined;
    metrics.recordTlsReload('success');
    logger.info({ ...files }, 'certificate reloaded');
  };
  return watchDirectories([dirname(files.certFile), dirname(files.keyFile)], check, options.watch);
}

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
import { TandemError, messageOf } from '../errors.ts';
import type { TlsCredentials } from './app.ts';
import type { ServerMetrics } from './metrics.ts';
import {
  judgeReplacement,
  validityAt,
  validityPeriodOf,
  type ValidityPeriod,
} from './cert-validity.ts';
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

/** CheckedPair is a pair that parsed and matched, with its certificate's validity period. */
export interface CheckedPair extends TlsPair {
  readonly period: ValidityPeriod;
}

/**
 * checkTlsPair throws TANDEM_ERR_TLS unless the key and certificate parse and belong
 * together, and returns the certificate's validity period. OpenSSL does not compare them
 * when a context is built, and a mismatched pair fails every handshake, so a
 * half-written rotation must be caught here. The period is the leaf's: the first
 * certificate of the file, the one a client checks against its clock first.
 */
export function checkTlsPair(pair: TlsCredentials): ValidityPeriod {
  try {
    const certificate = new X509Certificate(pair.cert);
    if (!certificate.checkPrivateKey(createPrivateKey(pair.key))) {
      throw new Error('the key does not belong to the certificate');
    }
    createSecureContext({ key: pair.key, cert: pair.cert, minVersion: TLS_MIN_VERSION });
    return validityPeriodOf(certificate);
  } catch (error) {
    throw new TandemError('TANDEM_ERR_TLS', `unusable key pair: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/**
 * readTlsPair reads and checks a pair; it throws TANDEM_ERR_TLS. A pair outside its
 * validity period is returned all the same: at start-up it is the only pair there is,
 * and the reloader serves it until a valid one arrives (see watchCertificates).
 */
export async function readTlsPair(files: TlsFiles): Promise<CheckedPair> {
  let pair: TlsPair;
  try {
    pair = await readPairBytes(files);
  } catch (error) {
    throw new TandemError(
      'TANDEM_ERR_TLS',
      `cannot read ${files.certFile} and ${files.keyFile}: ${messageOf(error)}`,
      { cause: error },
    );
  }
  return { ...pair, period: checkTlsPair(pair) };
}

/** SecureServer is the part of an https.Server the reloader uses. */
export interface SecureServer {
  setSecureContext(options: SecureContextOptions): void;
}

/** CertReloadOptions wires a reloader. */
export interface CertReloadOptions {
  readonly files: TlsFiles;
  /** initial is the pair the server was started with. */
  readonly initial: CheckedPair;
  readonly server: SecureServer;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  readonly watch: WatchOptions;
  /** now is the clock validity is judged by, in ms since the epoch; Date.now by default. */
  readonly now?: () => number;
}

/** CertificateWatch is a running reloader. */
export interface CertificateWatch extends Watch {
  /** validNow says whether the certificate being served covers the present moment. */
  validNow(): boolean;
}

/** Rejected is the last pair refused; `period` is set when only its dates were wrong. */
interface Rejected {
  readonly pair: TlsPair;
  readonly period: ValidityPeriod | undefined;
}

function samePair(a: TlsPair | undefined, b: TlsPair): boolean {
  return a !== undefined && a.cert.equals(b.cert) && a.key.equals(b.key);
}

function periodFields(period: ValidityPeriod): { notBefore: string; notAfter: string } {
  return {
    notBefore: new Date(period.notBefore).toISOString(),
    notAfter: new Date(period.notAfter).toISOString(),
  };
}

async function readPairBytes(files: TlsFiles): Promise<TlsPair> {
  const [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
  return { cert, key };
}

/**
 * watchCertificates reloads the pair when its files change. A pair that cannot be read
 * or does not match keeps the old one serving, is logged and counted once, and is tried
 * again on the next change (a renewal that writes key and cert separately is whole a
 * moment later). A pair whose validity period does not cover now is refused the same
 * way, unless judgeReplacement finds the served one no better; it is judged again on
 * every check, so a renewal refused as not yet valid is served once it is.
 */
export function watchCertificates(options: CertReloadOptions): CertificateWatch {
  const { files, server, logger, metrics } = options;
  const now = options.now ?? Date.now;
  let current = options.initial;
  let rejected: Rejected | undefined;

  const refuse = (pair: TlsPair, error: unknown, period?: ValidityPeriod): void => {
    rejected = { pair, period };
    metrics.recordTlsReload('failure');
    const fields = { err: error, ...files, ...(period === undefined ? {} : periodFields(period)) };
    logger.error(fields, 'new certificate rejected; still serving the old one');
  };
  const install = (next: CheckedPair): void => {
    try {
      server.setSecureContext({ key: next.key, cert: next.cert, minVersion: TLS_MIN_VERSION });
    } catch (error) {
      refuse(next, error);
      return;
    }
    current = next;
    rejected = undefined;
    metrics.recordTlsReload('success');
    metrics.recordCertificate(next.period.notAfter);
    const state = validityAt(next.period, now());
    if (state === 'valid') logger.info({ ...files }, 'certificate reloaded');
    else {
      const fields = { ...files, ...periodFields(next.period), state };
      logger.warn(fields, 'certificate reloaded, though not valid now: the old one was not either');
    }
  };
  /** judge installs `next` if its dates allow, or refuses it (counted once per pair). */
  const judge = (next: CheckedPair, counted: boolean): void => {
    const verdict = judgeReplacement(current.period, next.period, now());
    if (verdict.replace) install(next);
    else if (!counted) refuse(next, new Error(verdict.reason), next.period);
  };

  const check = async (): Promise<void> => {
    let next: TlsPair;
    try {
      next = await readPairBytes(files);
    } catch (error) {
      // Mid-swap the symlinks can point nowhere for a moment; the next event retries.
      logger.debug({ err: error }, 'certificate files not readable yet');
      return;
    }
    if (samePair(current, next)) {
      // Back to the served pair: a refused one written again is a new mistake, counted anew.
      rejected = undefined;
      return;
    }
    if (rejected !== undefined && samePair(rejected.pair, next)) {
      // A broken pair waits for a change; one refused for its dates is judged again.
      if (rejected.period !== undefined) judge({ ...next, period: rejected.period }, true);
      return;
    }
    let period: ValidityPeriod;
    try {
      period = checkTlsPair(next);
    } catch (error) {
      refuse(next, error);
      return;
    }
    judge({ ...next, period }, false);
  };

  if (validityAt(current.period, now()) !== 'valid') {
    logger.warn(
      { ...files, ...periodFields(current.period), state: validityAt(current.period, now()) },
      'serving a certificate that is not valid now; not ready until a valid one is loaded',
    );
  }
  const watch = watchDirectories(
    [dirname(files.certFile), dirname(files.keyFile)],
    check,
    options.watch,
  );
  return {
    close: () => watch.close(),
    validNow: () => validityAt(current.period, now()) === 'valid',
  };
}

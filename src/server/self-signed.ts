/**
 * A self-signed certificate for running `tandem serve` on a workstation without
 * cert-manager. It names localhost and 127.0.0.1 only: it is for curl and tests, and a
 * cluster must be given a real pair with --tls-cert and --tls-key.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { TlsFiles } from './tls.ts';

/** SelfSignedFiles are the files written: the pair, and the certificate as its own CA. */
export interface SelfSignedFiles extends TlsFiles {
  readonly dir: string;
}

// Long enough for a day of local work, short enough that a copied key soon stops mattering.
const VALIDITY_DAYS = 7;

/**
 * createSelfSignedPair writes a fresh pair into a new private directory under
 * `$XDG_RUNTIME_DIR` (per-user, cleared at logout) or else the system temp directory.
 */
export async function createSelfSignedPair(
  env: NodeJS.ProcessEnv = process.env,
): Promise<SelfSignedFiles> {
  const base = env['XDG_RUNTIME_DIR'] ?? tmpdir();
  const dir = await mkdtemp(join(base, 'tandem-tls-'));
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + VALIDITY_DAYS * 86_400_000);
  // P-256: generating it takes milliseconds where RSA 2048 can take a second.
  // A distinct subject each time: OpenSSL finds a trust anchor by subject name, so two
  // self-signed certificates both called "localhost" in one CA bundle shadow each other.
  const commonName = `tandem-local-${randomBytes(4).toString('hex')}`;
  const pem = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  await writeFile(certFile, pem.cert, { mode: 0o644 });
  await writeFile(keyFile, pem.private, { mode: 0o600 });
  return { dir, certFile, keyFile };
}

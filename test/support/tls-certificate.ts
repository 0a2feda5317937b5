/**
 * A throwaway self-signed certificate for 127.0.0.1 (subjectAltName IP:127.0.0.1, one day), made
 * with the openssl CLI in a test's temporary folder; it also serves as the CA that verifies itself.
 * Throws loudly when openssl is missing (scripts/test-all.sh installs it).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface CertificateFiles {
  /** PEM private key file. */
  key: string;
  /** PEM certificate file. */
  cert: string;
}

export function makeSelfSignedCertificate(folder: string, name = 'test'): CertificateFiles {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`the openssl CLI is required by this test and was not found (Debian: apt-get install openssl): ${String(err)}`);
  }
  const key = join(folder, `${name}-key.pem`);
  const cert = join(folder, `${name}-cert.pem`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
  ], { stdio: 'pipe' });
  return { key, cert };
}

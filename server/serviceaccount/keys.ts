// The ServiceAccount signing key: `<data-dir>/server/tls/service.key`, created at first start
// (ECDSA P-256, so tokens are ES256) and reused on every restart. An RSA key found there (a data
// dir carried over from k3s) is used as is, with RS256. The key id is upstream's: base64url of the
// SHA-256 of the public key's DER (PKIX) encoding, so JWKS consumers can pick it by `kid`.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export class ServiceAccountKeyError extends Error {
  readonly code = 'ServiceAccountKeyError';
  constructor(message: string, options?: { cause?: unknown }) { super(message, options); this.name = 'ServiceAccountKeyError'; }
}

export interface ServiceAccountKey {
  alg: 'ES256' | 'RS256';
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Where the key lives (for messages). */
  path: string;
}

export function serviceAccountKeyPath(dataDir: string): string {
  return join(dataDir, 'server', 'tls', 'service.key');
}

export function keyFromPem(pem: string, path = '<memory>'): ServiceAccountKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new ServiceAccountKeyError(`${path}: not a private key in PEM form: ${(err as Error).message}`, { cause: err });
  }
  const type = privateKey.asymmetricKeyType;
  let alg: ServiceAccountKey['alg'];
  if (type === 'ec' && privateKey.asymmetricKeyDetails?.namedCurve === 'prime256v1') alg = 'ES256';
  else if (type === 'rsa') alg = 'RS256';
  else throw new ServiceAccountKeyError(`${path}: unsupported key type ${type ?? 'unknown'} (want an ECDSA P-256 or RSA key)`);
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const kid = createHash('sha256').update(der).digest('base64url');
  return { alg, kid, privateKey, publicKey, path };
}

/** Loads the key from the data dir, creating it (mode 0600) on first start. */
export function ensureServiceAccountKey(dataDir: string): ServiceAccountKey {
  const path = serviceAccountKeyPath(dataDir);
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    // wx: two servers starting at once on one data dir must not overwrite each other's key.
    try {
      writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new ServiceAccountKeyError(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  return keyFromPem(readFileSync(path, 'utf8'), path);
}

// The cluster's certificates (k3s keeps the same set under server/tls): a CA, the apiserver's
// serving certificate and the admin client certificate, ECDSA P-256 on WebCrypto. First start
// creates them; restarts reuse them, and the serving certificate is re-issued only when its
// names change (a new --tls-san or node IP).
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { join, dirname } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;
const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

export class PkiError extends Error {
  readonly code = 'PkiError';
  constructor(message: string, options?: { cause?: unknown }) { super(message, options); this.name = 'PkiError'; }
}

export interface KeyPairPem { certPem: string; keyPem: string }

export interface ClusterPki {
  ca: KeyPairPem;
  serving: KeyPairPem;
  admin: KeyPairPem;
  /** Names the serving certificate holds (DNS and IP). */
  sans: string[];
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

async function exportKey(key: CryptoKey): Promise<string> {
  return toPem(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return (await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])) as unknown as CryptoKey;
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive
  return b.toString('hex');
}

function isIp(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s) || s.includes(':');
}

async function createCa(): Promise<KeyPairPem> {
  const keys = await newKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=orch-server-ca@${Math.floor(now / 1000)}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + TEN_YEARS_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

async function issue(ca: KeyPairPem, subject: string, usage: 'server' | 'client', sans: string[]): Promise<KeyPairPem> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importKey(ca.keyPem);
  const keys = await newKeys();
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (sans.length) {
    extensions.push(new x509.SubjectAlternativeNameExtension(sans.map((s) => (isIp(s) ? { type: 'ip' as const, value: s } : { type: 'dns' as const, value: s }))));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + ONE_YEAR_MS),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions,
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

/** The IPv4/IPv6 addresses of this machine's interfaces (the "node IPs" of the serving SANs). */
export function nodeIps(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (!a.internal && !a.address.startsWith('fe80')) out.push(a.address);
    }
  }
  return out;
}

/** Every name clients may dial the apiserver by (k3s's defaults, plus --tls-san). */
export function servingSans(extra: string[]): string[] {
  const names = [
    'localhost', hostname(), 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local',
    '127.0.0.1', '::1', '10.43.0.1', ...nodeIps(), ...extra,
  ];
  return [...new Set(names.filter((n) => n.length > 0))];
}

function readPair(dir: string, base: string): KeyPairPem | undefined {
  const c = join(dir, `${base}.crt`);
  const k = join(dir, `${base}.key`);
  if (!existsSync(c) || !existsSync(k)) return undefined;
  return { certPem: readFileSync(c, 'utf8'), keyPem: readFileSync(k, 'utf8') };
}

function writePair(dir: string, base: string, p: KeyPairPem): void {
  writeFileSync(join(dir, `${base}.crt`), p.certPem, { mode: 0o644 });
  writeFileSync(join(dir, `${base}.key`), p.keyPem, { mode: 0o600 });
}

function sansOf(certPem: string): string[] {
  const ext = new x509.X509Certificate(certPem).getExtension(x509.SubjectAlternativeNameExtension);
  return ext ? ext.names.items.map((n) => n.value) : [];
}

/** Loads or creates the PKI under `<dataDir>/server/tls`. */
export async function ensurePki(dataDir: string, extraSans: string[]): Promise<ClusterPki> {
  const dir = join(dataDir, 'server', 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    let ca = readPair(dir, 'server-ca');
    let fresh = false;
    if (!ca) { ca = await createCa(); writePair(dir, 'server-ca', ca); fresh = true; }
    const sans = servingSans(extraSans);
    let serving = fresh ? undefined : readPair(dir, 'serving-kube-apiserver');
    if (!serving || sans.some((s) => !sansOf(serving!.certPem).includes(s))) {
      serving = await issue(ca, 'CN=kube-apiserver', 'server', sans);
      writePair(dir, 'serving-kube-apiserver', serving);
    }
    let admin = fresh ? undefined : readPair(dir, 'client-admin');
    if (!admin) {
      admin = await issue(ca, 'CN=system:admin, O=system:masters', 'client', []);
      writePair(dir, 'client-admin', admin);
    }
    return { ca, serving, admin, sans };
  } catch (err) {
    throw new PkiError(`cannot set up the cluster certificates in ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

/** Issues a client certificate from the cluster CA (tests, future node/agent credentials). */
export async function issueClientCert(ca: KeyPairPem, user: string, groups: string[]): Promise<KeyPairPem> {
  const subject = [`CN=${user}`, ...groups.map((g) => `O=${g}`)].join(', ');
  return issue(ca, subject, 'client', []);
}

/** A kubeconfig for `user` holding embedded credentials (k3s's k3s.yaml shape). */
export function kubeconfigYaml(server: string, caPem: string, client: KeyPairPem | { token: string }, name = 'default'): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const userLines = 'token' in client
    ? `    token: ${client.token}\n`
    : `    client-certificate-data: ${b64(client.certPem)}\n    client-key-data: ${b64(client.keyPem)}\n`;
  return `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: ${b64(caPem)}
    server: ${server}
  name: ${name}
contexts:
- context:
    cluster: ${name}
    user: ${name}
  name: ${name}
current-context: ${name}
preferences: {}
users:
- name: ${name}
  user:
${userLines}`;
}

/** Writes a file with mode 0600 (kubeconfigs hold credentials), creating its directory. */
export function writeSecretFile(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

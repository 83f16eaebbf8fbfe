// `orch server`'s control plane in one process: the cluster PKI, the embedded store, and the
// apiserver on HTTPS with client-certificate and bearer-token authentication. Start-up is
// ready in well under 2 s on these machines; restarts reuse the data dir's certificates and store.
import { createServer as createHttpsServer, type Server } from 'node:https';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { LogStore } from '../embedded-store';
import { openDatastore } from './datastore';
import { ensurePki, kubeconfigYaml, nodeIps, writeSecretFile, type ClusterPki } from './pki';
import { createApiServer, type ApiServer } from './apiserver';
import { startControlLoops, type ControlLoops } from './controllers';
import { ensureServiceAccountKey } from './serviceaccount/keys';

export { DEFAULT_KUBECONFIG } from './paths';
import { DEFAULT_KUBECONFIG } from './paths';

export interface ServerOptions {
  dataDir: string;
  /** 6443 by default; 0 picks a free port (tests). */
  httpsListenPort?: number;
  bindAddress?: string;
  tlsSans?: string[];
  /** Where the admin kubeconfig is written besides the data dir (k3s's k3s.yaml); '' writes none. */
  writeKubeconfig?: string;
  /** better-sqlite3's addon from the single executable (cmd's prepareNativeAddons()). */
  nativeBinding?: string | object;
  /** Bookmark interval of watches (tests shorten it). */
  bookmarkIntervalMs?: number;
  log?: (msg: string) => void;
  /** Seconds Events live (kube-apiserver --event-ttl); 3600 by default, tests shorten it. */
  eventTtlSeconds?: number;
  /** Run the apiserver without the controllers and scheduler (their hook: server/controllers/index.ts). */
  disableControllers?: boolean;
}

export interface RunningServer {
  /** `https://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** `<data-dir>/server/cred/admin.kubeconfig` */
  adminKubeconfig: string;
  /** The extra kubeconfig written (--write-kubeconfig), if any. */
  kubeconfig?: string;
  /** A static admin bearer token (`<data-dir>/server/cred/tokens.csv`). */
  adminToken: string;
  pki: ClusterPki;
  store: LogStore;
  api: ApiServer;
  https: Server;
  /** The controller manager and scheduler (undefined with disableControllers). */
  loops?: ControlLoops;
  close(): Promise<void>;
}

export class ServerStartError extends Error {
  readonly code = 'ServerStartError';
  constructor(message: string, options?: { cause?: unknown }) { super(message, options); this.name = 'ServerStartError'; }
}

/** The static token file: one admin token, created on first start (kube-apiserver --token-auth-file format). */
function ensureTokenFile(dataDir: string): { path: string; adminToken: string } {
  const path = join(dataDir, 'server', 'cred', 'tokens.csv');
  if (!existsSync(path)) {
    const token = randomBytes(24).toString('hex');
    writeSecretFile(path, `${token},admin,admin,"system:masters"\n`);
  }
  const first = readFileSync(path, 'utf8').split('\n').find((l) => l.includes('system:masters')) ?? '';
  return { path, adminToken: first.split(',')[0] ?? '' };
}

/**
 * Authentication reads the client certificate on every request, and getPeerCertificate() builds
 * a new object from it each time (0.1 ms, 7 % of a create's CPU). The peer of a connection cannot
 * change once renegotiation is refused (Go's TLS server, kube-apiserver's, never renegotiates), so
 * the first answer is kept for the connection's life.
 */
function peerCertificateOncePerConnection(socket: TLSSocket): void {
  socket.disableRenegotiation();
  const read = socket.getPeerCertificate.bind(socket);
  let plain: ReturnType<TLSSocket['getPeerCertificate']> | undefined;
  socket.getPeerCertificate = ((detailed?: boolean) => (detailed ? read(true) : (plain ??= read()))) as TLSSocket['getPeerCertificate'];
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const log = o.log ?? (() => undefined);
  const started = Date.now();
  mkdirSync(join(o.dataDir, 'server', 'cred'), { recursive: true, mode: 0o700 });
  const [pki, store] = await Promise.all([
    ensurePki(o.dataDir, o.tlsSans ?? []),
    openDatastore(o.dataDir, { nativeBinding: o.nativeBinding }),
  ]);
  const tokens = ensureTokenFile(o.dataDir);
  const bind = o.bindAddress ?? '0.0.0.0';
  const requestedPort = o.httpsListenPort ?? 6443;
  const advertiseAddress = bind !== '0.0.0.0' && bind !== '::' ? bind : (nodeIps().find((ip) => /^\d+\./.test(ip)) ?? '127.0.0.1');

  // The port is known only after listen (port 0), and /api advertises it: create the apiserver after.
  const holder: { api?: ApiServer } = {};
  const https = createHttpsServer({
    key: pki.serving.keyPem, cert: pki.serving.certPem, ca: pki.ca.certPem,
    requestCert: true, rejectUnauthorized: false,
    keepAliveTimeout: 65_000,
  }, (req, res) => {
    if (!holder.api) { res.writeHead(503); res.end(); return; }
    holder.api.handler.handle(req, res);
  });
  https.on('upgrade', (req, socket, head) => {
    if (!holder.api) { socket.destroy(); return; }
    holder.api.handler.handleUpgrade(req, socket, head);
  });
  https.on('clientError', (_err, socket) => { socket.destroy(); });
  https.on('secureConnection', peerCertificateOncePerConnection);
  try {
    await new Promise<void>((resolve, reject) => {
      https.once('error', reject);
      https.listen(requestedPort, bind, () => { https.off('error', reject); resolve(); });
    });
  } catch (err) {
    await store.close();
    throw new ServerStartError(`cannot listen on ${bind}:${requestedPort}: ${(err as Error).message}`, { cause: err });
  }
  const port = (https.address() as AddressInfo).port;
  const api = holder.api = createApiServer({
    store, tokenFile: tokens.path, serverAddress: `${advertiseAddress}:${port}`, advertiseAddress, advertisePort: port,
    bookmarkIntervalMs: o.bookmarkIntervalMs, log, serviceAccountKey: ensureServiceAccountKey(o.dataDir), eventTtlSeconds: o.eventTtlSeconds, rootCAPem: pki.ca.certPem,
  });
  await api.start();
  const loops = o.disableControllers ? undefined : await startControlLoops({ local: api.client, log, options: { dataDir: o.dataDir, rootCAPem: pki.ca.certPem } });

  const url = `https://127.0.0.1:${port}`;
  const kc = kubeconfigYaml(url, pki.ca.certPem, pki.admin);
  const adminKubeconfig = join(o.dataDir, 'server', 'cred', 'admin.kubeconfig');
  writeSecretFile(adminKubeconfig, kc);
  let kubeconfig: string | undefined;
  const target = o.writeKubeconfig === undefined ? DEFAULT_KUBECONFIG : o.writeKubeconfig;
  if (target) {
    try { writeSecretFile(target, kc); kubeconfig = target; } catch (err) { log(`cannot write kubeconfig ${target}: ${(err as Error).message}`); }
  }
  log(`orch apiserver ready on ${bind}:${port} in ${Date.now() - started} ms; kubeconfig: ${kubeconfig ?? adminKubeconfig}`);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => closing ??= (async () => {
    await loops?.stop();
    api.stop();
    https.closeAllConnections?.();
    await new Promise<void>((r) => https.close(() => r()));
    await store.close();
  })();
  return { url, port, adminKubeconfig, kubeconfig, adminToken: tokens.adminToken, pki, store, api, https, loops, close };
}


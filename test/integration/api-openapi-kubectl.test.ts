// The real kubectl 1.32 against api/openapi's documents, served by a small HTTPS stub on
// 127.0.0.1 (discovery and OpenAPI only, plus the few object endpoints the commands touch):
// `explain` reads the schemas, `create -f` finds the fieldValidation parameter and asks the
// server to validate strictly, and `apply` builds its strategic merge patch from the schema.
import { spawn } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenAPIv3Documents } from '../../api/openapi';
import { builtinResources } from '../../api/scheme';
import { discovery } from '../fixtures/stub-discovery';

interface Recorded { method: string; url: string; contentType: string; body: string }

let server: https.Server;
let tmp: string;
let kubeconfig: string;
const requests: Recorded[] = [];
/** Objects the stub answers GETs with, by path. */
const objects = new Map<string, unknown>();


async function selfSignedPem(): Promise<{ cert: string; key: string }> {
  x509.cryptoProvider.set(webcrypto as any);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=127.0.0.1', keys, signingAlgorithm: alg,
    notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3600_000),
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
  return { cert: cert.toString('pem'), key };
}

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`kubectl ${args.join(' ')} timed out`)); }, 30_000);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
  });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-test-openapi-'));
  const docs = buildOpenAPIv3Documents(builtinResources);
  const bodies = new Map<string, { text: string; hash: string }>();
  for (const [key, doc] of docs) {
    const text = JSON.stringify(doc);
    bodies.set(key, { text, hash: createHash('sha512').update(text).digest('hex').toUpperCase() });
  }
  const { cert, key } = await selfSignedPem();
  server = https.createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      const pathname = url.split('?')[0];
      requests.push({ method: req.method ?? '', url, contentType: String(req.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString() });
      const send = (code: number, value: unknown) => {
        res.writeHead(code, { 'Content-Type': 'application/json' });
        res.end(typeof value === 'string' ? value : JSON.stringify(value));
      };
      if (pathname === '/openapi/v3') {
        return send(200, { paths: Object.fromEntries([...bodies].map(([k, b]) => [k, { serverRelativeURL: `/openapi/v3/${k}?hash=${b.hash}` }])) });
      }
      if (pathname.startsWith('/openapi/v3/')) {
        const b = bodies.get(pathname.slice('/openapi/v3/'.length));
        return b ? send(200, b.text) : send(404, {});
      }
      const doc = discovery(pathname);
      if (doc) return send(200, doc);
      if (req.method === 'GET' && objects.has(pathname)) return send(200, objects.get(pathname));
      if (req.method === 'POST' || req.method === 'PATCH') {
        const sent = req.method === 'POST' ? JSON.parse(Buffer.concat(chunks).toString()) : objects.get(pathname);
        return send(req.method === 'POST' ? 201 : 200, sent);
      }
      send(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  kubeconfig = path.join(tmp, 'kubeconfig');
  fs.writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: c',
    `clusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]`,
    'users: [{name: u, user: {token: test}}]',
    'contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]', '',
  ].join('\n'));
}, 30_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('kubectl 1.32 reads api/openapi documents', () => {
  it('explains kinds and fields with orch descriptions', { timeout: 60_000 }, async () => {
    const r = await kubectl(['explain', 'deployment.spec.strategy']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('GROUP:      apps');
    expect(r.stdout).toContain('FIELD: strategy <DeploymentStrategy>');
    expect(r.stdout).toContain('How old pods are replaced by new ones.');
    expect(r.stdout).toContain('rollingUpdate');
    const pods = await kubectl(['explain', 'pods']);
    expect(pods.code).toBe(0);
    expect(pods.stdout).toContain('KIND:       Pod');
    expect(pods.stdout).toContain('The smallest unit the cluster runs');
    const crd = await kubectl(['explain', 'crd.spec.versions.schema.openAPIV3Schema', '--recursive']);
    expect(crd.code).toBe(0);
    expect(crd.stdout).toContain('x-kubernetes-preserve-unknown-fields');
  });

  it('create -f asks the server to validate strictly (fieldValidation found on the PATCH operation)', { timeout: 60_000 }, async () => {
    const file = path.join(tmp, 'cm.yaml');
    fs.writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: b\n');
    requests.length = 0;
    const r = await kubectl(['create', '-f', file]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('configmap/cfg created');
    const post = requests.find((q) => q.method === 'POST');
    expect(post?.url).toContain('fieldValidation=Strict');
  });

  it('apply builds a strategic merge patch from the schema', { timeout: 60_000 }, async () => {
    const old = {
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default', uid: 'u-1', resourceVersion: '5', annotations: {} as Record<string, string> },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.26' }, { name: 'side', image: 'busybox' }] } } },
    };
    const applied = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: old.spec };
    old.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] = `${JSON.stringify(applied)}\n`;
    objects.set('/apis/apps/v1/namespaces/default/deployments/web', old);
    const file = path.join(tmp, 'deploy.yaml');
    fs.writeFileSync(file, JSON.stringify({ ...applied, spec: { ...applied.spec, template: { ...applied.spec.template, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }, { name: 'side', image: 'busybox' }] } } } }));
    requests.length = 0;
    const r = await kubectl(['apply', '-f', file]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('deployment.apps/web configured');
    const patch = requests.find((q) => q.method === 'PATCH');
    expect(patch?.contentType).toBe('application/strategic-merge-patch+json');
    const body = JSON.parse(patch!.body);
    // Merge by name: only the changed container, with the list order kept by a directive.
    expect(body.spec.template.spec.$setElementOrder_containers ?? body.spec.template.spec['$setElementOrder/containers']).toEqual([{ name: 'web' }, { name: 'side' }]);
    expect(body.spec.template.spec.containers).toEqual([{ name: 'web', image: 'nginx:1.27' }]);
  });
});

// Captures real protobuf request bodies from the real kubectl into test/fixtures/protobuf/, so the
// decoder's unit test runs on bytes a Kubernetes client actually produced.
//
// For each command it runs kubectl twice against a throwaway HTTPS server on 127.0.0.1:
//  - `... --dry-run=client -o json`: what kubectl means to send, as JSON (the oracle);
//  - the command itself: the server records the protobuf POST body and answers 201.
// Run: npx tsx build/capture-protobuf-fixtures.ts   (needs kubectl 1.32 on PATH and openssl)
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeEnvelope } from '../api/protobuf';
import { discovery } from '../test/fixtures/stub-discovery';

const OUT = path.resolve(__dirname, '../test/fixtures/protobuf');

interface Capture { name: string; args: string[]; dryRun: boolean }
const captures: Capture[] = [
  { name: 'configmap', args: ['create', 'configmap', 'cfg', '-n', 'default', '--from-literal=a=b', '--from-literal=empty=', '--from-file=bin=@BIN@'], dryRun: true },
  { name: 'secret', args: ['create', 'secret', 'generic', 'pw', '-n', 'default', '--from-literal=password=s3cr=t', '--from-file=key=@BIN@'], dryRun: true },
  { name: 'namespace', args: ['create', 'namespace', 'team-a'], dryRun: true },
  { name: 'deployment', args: ['create', 'deployment', 'web', '-n', 'default', '--image=nginx:1.27', '--image=busybox', '--replicas=0', '--port=8080'], dryRun: true },
  { name: 'service', args: ['create', 'service', 'nodeport', 'web', '-n', 'default', '--tcp=80:http', '--tcp=8443:8443'], dryRun: true },
  { name: 'job', args: ['create', 'job', 'once', '-n', 'default', '--image=busybox', '--', 'sh', '-c', 'echo hi'], dryRun: true },
  { name: 'cronjob', args: ['create', 'cronjob', 'tick', '-n', 'default', '--image=busybox', '--schedule=*/5 * * * *', '--', 'date'], dryRun: true },
  { name: 'tokenrequest', args: ['create', 'token', 'builder', '-n', 'default', '--duration=1h', '--audience=api', '--bound-object-kind=Pod', '--bound-object-name=web-0', '--bound-object-uid=0b7c9c8e-1f1a-4b7e-9a55-1c2d3e4f5a6b'], dryRun: false },
  { name: 'selfsubjectaccessreview', args: ['auth', 'can-i', 'create', 'deployments.apps', '-n', 'prod'], dryRun: false },
];


async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orch-capture-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${tmp}/key.pem`, '-out', `${tmp}/cert.pem`, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const bin = path.join(tmp, 'bin.dat');
    fs.writeFileSync(bin, Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 0x0a]));
    let lastBody: Buffer | undefined;
    const server = https.createServer({ key: fs.readFileSync(`${tmp}/key.pem`), cert: fs.readFileSync(`${tmp}/cert.pem`) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = (req.url ?? '').split('?')[0];
        if (req.method === 'POST') {
          lastBody = Buffer.concat(chunks);
          res.writeHead(201, { 'Content-Type': 'application/json' });
          // Enough of an answer for kubectl to print its message (and a token for create token).
          const { apiVersion, kind } = decodeEnvelope(lastBody);
          res.end(JSON.stringify({ kind, apiVersion, metadata: { name: 'captured' }, status: { token: 'x', allowed: true } }));
          return;
        }
        const doc = discovery(url);
        res.writeHead(doc ? 200 : 404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(doc ?? { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const kubeconfig = path.join(tmp, 'kubeconfig');
    fs.writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: c',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:' + port + '", insecure-skip-tls-verify: true}}]',
      'users: [{name: u, user: {token: capture}}]',
      'contexts: [{name: c, context: {cluster: c, user: u}}]', '',
    ].join('\n'));
    const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: tmp };
    const run = (args: string[]) => new Promise<string>((resolve, reject) => {
      const child = spawn('kubectl', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => { out += d; });
      child.stderr.on('data', (d: Buffer) => { err += d; });
      const timer = setTimeout(() => { child.kill(); reject(new Error(`kubectl ${args.join(' ')} timed out`)); }, 30000);
      child.on('close', (code) => { clearTimeout(timer); if (code === 0) resolve(out); else reject(new Error(`kubectl ${args.join(' ')}: exit ${code}: ${err}`)); });
    });
    fs.mkdirSync(OUT, { recursive: true });
    for (const c of captures) {
      const args = c.args.map((a) => a.replace('@BIN@', bin));
      // Flags go before `--`, after which everything is the container's command.
      const dash = args.indexOf('--');
      const dryArgs = dash < 0 ? [...args, '--dry-run=client', '-o', 'json'] : [...args.slice(0, dash), '--dry-run=client', '-o', 'json', ...args.slice(dash)];
      if (c.dryRun) fs.writeFileSync(path.join(OUT, `${c.name}.json`), await run(dryArgs));
      lastBody = undefined;
      await run(args);
      if (!lastBody) throw new Error(`kubectl ${c.name} sent no body`);
      fs.writeFileSync(path.join(OUT, `${c.name}.pb`), lastBody);
      process.stdout.write(`${c.name}: ${(lastBody as Buffer).length} bytes\n`);
    }
    server.close();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => { process.stderr.write(`${(err as Error).stack ?? String(err)}\n`); process.exit(1); });

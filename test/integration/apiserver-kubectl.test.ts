// The real kubectl (1.32, on PATH) against `orch server`: the seed notes' commands and the
// error cases, each asserting what kubectl prints and what the server then holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync } from 'node:fs';
import { startTestCluster, writeFiles, waitFor, type TestCluster } from './helpers/cluster';

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports: [{containerPort: 80}]
`;

let c: TestCluster;
let files: ReturnType<typeof writeFiles>;

beforeAll(async () => {
  c = await startTestCluster();
  files = writeFiles({
    'deploy.yaml': DEPLOYMENT,
    'deploy-3.yaml': DEPLOYMENT.replace('replicas: 2', 'replicas: 3'),
    'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: "1"\n',
    'cm-replaced.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: "2"\n',
    'pod.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p1\n  labels: {app: p, tier: back}\nspec:\n  containers:\n  - name: c\n    image: busybox\n',
    'unknown-field.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strict\ndata: {a: b}\nfoo: bar\n',
    'bad-name.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n',
    'malformed.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: [unclosed\n',
    'dir/a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dir-a\ndata: {k: v}\n',
    'dir/sub/b.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: dir-b\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n',
    'from/file1.txt': 'hello\n',
    'from/file2.txt': 'world\n',
    'editor.sh': '#!/bin/sh\nsed -i "s/a: \\"1\\"/a: \\"edited\\"/" "$1"\n',
  });
  chmodSync(files.path('editor.sh'), 0o755);
}, 60_000);

afterAll(async () => { await c?.stop(); });

describe('kubectl against orch server', () => {
  it('reports version 1.32 and lists namespaces, services and nodes', async () => {
    const v = await c.kubectlOk(['version', '-o', 'json']);
    expect(JSON.parse(v).serverVersion).toMatchObject({ major: '1', minor: '32' });
    const ns = await c.kubectlOk(['get', 'ns']);
    for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) expect(ns).toMatch(new RegExp(`^${n}\\s+Active`, 'm'));
    expect(ns.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+AGE$/);
    const svc = await c.kubectlOk(['get', 'svc', 'kubernetes']);
    expect(svc).toMatch(/kubernetes\s+ClusterIP\s+10\.43\.0\.1\s+<none>\s+443\/TCP/);
    const nodes = await c.kubectl(['get', 'nodes']);
    expect(nodes.code).toBe(0);
    expect(nodes.stdout + nodes.stderr).toMatch(/No resources found|NAME\s+STATUS\s+ROLES/);
  });

  it('serves discovery: api-resources and api-versions', async () => {
    const res = await c.kubectlOk(['api-resources', '--namespaced=true']);
    expect(res).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
    expect(res).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(res).not.toMatch(/^nodes\s/m);
    const versions = await c.kubectlOk(['api-versions']);
    for (const gv of ['v1', 'apps/v1', 'batch/v1', 'apiextensions.k8s.io/v1', 'rbac.authorization.k8s.io/v1']) expect(versions.split('\n')).toContain(gv);
  });

  it('creates, reads, replaces from files', async () => {
    expect(await c.kubectlOk(['create', '-f', files.path('cm.yaml')])).toContain('configmap/cfg created');
    const y = await c.kubectlOk(['get', 'configmaps', 'cfg', '-o', 'yaml']);
    expect(y).toMatch(/a: "1"/);
    expect(y).toMatch(/resourceVersion: "\d+"/);
    expect(y).toMatch(/uid: [0-9a-f-]{36}/);
    expect(y).toMatch(/creationTimestamp: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/);
    expect(await c.kubectlOk(['replace', '-f', files.path('cm-replaced.yaml')])).toContain('configmap/cfg replaced');
    expect(await c.kubectlOk(['get', 'cm', 'cfg', '-o', 'jsonpath={.data.a}'])).toBe('2');
  });

  it('creates configmaps, secrets and deployments from flags (protobuf bodies)', async () => {
    expect(await c.kubectlOk(['create', 'configmap', 'files', `--from-file=${files.path('from/file1.txt')}`, `--from-file=${files.path('from/file2.txt')}`])).toContain('configmap/files created');
    expect(JSON.parse(await c.kubectlOk(['get', 'cm', 'files', '-o', 'json'])).data).toEqual({ 'file1.txt': 'hello\n', 'file2.txt': 'world\n' });
    expect(await c.kubectlOk(['create', 'secret', 'generic', 'sec', `--from-file=${files.path('from/file1.txt')}`])).toContain('secret/sec created');
    const s = JSON.parse(await c.kubectlOk(['get', 'secret', 'sec', '-o', 'json']));
    expect(Buffer.from(s.data['file1.txt'], 'base64').toString()).toBe('hello\n');
    expect(s.type).toBe('Opaque');
    expect(await c.kubectlOk(['get', 'secret', 'sec'])).toMatch(/sec\s+Opaque\s+1\s+/);
    expect(await c.kubectlOk(['create', 'deployment', 'dep1', '--image=nginx:1.25', '--replicas=2'])).toContain('deployment.apps/dep1 created');
    const d = JSON.parse(await c.kubectlOk(['get', 'deploy', 'dep1', '-o', 'json']));
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.template.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
    expect(d.spec.strategy.type).toBe('RollingUpdate');
    expect(d.metadata.generation).toBe(1);
  });

  it('prints pods with templates, labels, selectors and wide columns', async () => {
    await c.kubectlOk(['create', '-f', files.path('pod.yaml')]);
    expect(await c.kubectlOk(['get', 'pod', 'p1', '--template={{.status.phase}}'])).toBe('Pending');
    const labels = await c.kubectlOk(['get', 'pods', 'p1', '--show-labels']);
    expect(labels.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+LABELS$/);
    expect(labels).toMatch(/p1\s+0\/1\s+Pending\s+0\s+\S+\s+app=p,tier=back/);
    expect(await c.kubectlOk(['get', 'pods', '-l', 'app=p', '-o', 'name'])).toContain('pod/p1');
    expect(await c.kubectlOk(['get', 'pods', '-l', 'app in (p,q),tier!=front', '-o', 'name'])).toContain('pod/p1');
    expect(await c.kubectlOk(['get', 'pods', '-l', '!tier', '-o', 'name'])).not.toContain('pod/p1');
    expect(await c.kubectlOk(['get', 'pods', '--field-selector', 'status.phase=Pending,metadata.name=p1', '-o', 'name'])).toBe('pod/p1\n');
    expect(await c.kubectlOk(['get', 'pods', '--field-selector', 'metadata.name!=p1', '-o', 'name'])).not.toContain('pod/p1');
    const wide = await c.kubectlOk(['get', 'pod', 'p1', '-o', 'wide']);
    expect(wide.split('\n')[0]).toMatch(/NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/);
    const bad = await c.kubectl(['get', 'pods', '--field-selector', 'spec.foo=x']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('field label not supported: spec.foo');
  });

  it('pages lists with --chunk-size=1', async () => {
    const out = await c.kubectlOk(['get', 'cm', '--chunk-size=1', '-o', 'name']);
    expect(out).toContain('configmap/cfg');
    expect(out).toContain('configmap/files');
  });

  it('applies client-side: create, update, unchanged; recursive; diff', async () => {
    expect(await c.kubectlOk(['apply', '-f', files.path('deploy.yaml')])).toContain('deployment.apps/web created');
    expect(await c.kubectlOk(['apply', '-f', files.path('deploy-3.yaml')])).toContain('deployment.apps/web configured');
    expect(await c.kubectlOk(['apply', '-f', files.path('deploy-3.yaml')])).toContain('deployment.apps/web unchanged');
    const d = JSON.parse(await c.kubectlOk(['get', 'deploy', 'web', '-o', 'json']));
    expect(d.spec.replicas).toBe(3);
    expect(d.metadata.generation).toBe(2);
    expect(d.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain('"replicas":3');
    const rec = await c.kubectlOk(['apply', '-R', '-f', files.path('dir')]);
    expect(rec).toContain('configmap/dir-a created');
    expect(rec).toContain('service/dir-b created');
    const svc = JSON.parse(await c.kubectlOk(['get', 'svc', 'dir-b', '-o', 'json']));
    expect(svc.spec.clusterIP).toMatch(/^10\.43\.\d+\.\d+$/);
    const diff = await c.kubectl(['diff', '-R', '-f', files.path('dir')]);
    expect(diff.code).toBe(0);
    const diff2 = await c.kubectl(['diff', '-f', files.path('deploy.yaml')]);
    expect(diff2.code).toBe(1);
    expect(diff2.stdout).toMatch(/-\s+replicas: 3\n\+\s+replicas: 2/);
    expect(JSON.parse(await c.kubectlOk(['get', 'deploy', 'web', '-o', 'json'])).spec.replicas).toBe(3);
  });

  it('applies server-side, and reports a field manager conflict', async () => {
    const ssa = (v: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "${v}"\n`;
    const a = await c.kubectlOk(['apply', '--server-side', '-f', '-'], { input: ssa('1') });
    expect(a).toContain('configmap/ssa serverside-applied');
    const cm = JSON.parse(await c.kubectlOk(['get', 'cm', 'ssa', '-o', 'json', '--show-managed-fields']));
    expect(cm.metadata.managedFields.some((m: any) => m.manager === 'kubectl' && m.operation === 'Apply')).toBe(true);
    const conflict = await c.kubectl(['apply', '--server-side', '--field-manager=other', '-f', '-'], { input: ssa('2') });
    expect(conflict.code).not.toBe(0);
    expect(conflict.stderr).toMatch(/Apply failed with 1 conflict: conflict with "kubectl"( using v1)?: \.data\.a/);
    expect(await c.kubectlOk(['get', 'cm', 'ssa', '-o', 'jsonpath={.data.a}'])).toBe('1');
    const forced = await c.kubectlOk(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], { input: ssa('2') });
    expect(forced).toContain('serverside-applied');
    expect(await c.kubectlOk(['get', 'cm', 'ssa', '-o', 'jsonpath={.data.a}'])).toBe('2');
  });

  it('patches (strategic, merge, json), labels, annotates, scales, sets images, edits', async () => {
    await c.kubectlOk(['patch', 'deploy', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","env":[{"name":"A","value":"1"}]}]}}}}']);
    let d = JSON.parse(await c.kubectlOk(['get', 'deploy', 'web', '-o', 'json']));
    expect(d.spec.template.spec.containers).toHaveLength(1);
    expect(d.spec.template.spec.containers[0]).toMatchObject({ name: 'nginx', image: 'nginx:1.25', env: [{ name: 'A', value: '1' }] });
    await c.kubectlOk(['patch', 'deploy', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"merged":"yes"}}}']);
    await c.kubectlOk(['patch', 'deploy', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":4}]']);
    expect(await c.kubectlOk(['label', 'deploy', 'web', 'tier=front'])).toContain('labeled');
    expect(await c.kubectlOk(['annotate', 'deploy', 'web', 'note=hello'])).toContain('annotated');
    expect(await c.kubectlOk(['scale', 'deployment', 'web', '--replicas=5'])).toContain('deployment.apps/web scaled');
    expect(await c.kubectlOk(['set', 'image', 'deployment/web', 'nginx=nginx:1.26'])).toContain('image updated');
    d = JSON.parse(await c.kubectlOk(['get', 'deploy', 'web', '-o', 'json']));
    expect(d.spec.replicas).toBe(5);
    expect(d.spec.template.spec.containers[0].image).toBe('nginx:1.26');
    expect(d.metadata.labels).toMatchObject({ app: 'web', merged: 'yes', tier: 'front' });
    expect(d.metadata.annotations.note).toBe('hello');
    const gen = d.metadata.generation;
    await c.kubectlOk(['label', 'deploy', 'web', 'another=x']);
    expect(JSON.parse(await c.kubectlOk(['get', 'deploy', 'web', '-o', 'json'])).metadata.generation).toBe(gen);
    const bad = await c.kubectl(['patch', 'deploy', 'web', '--type=json', '-p', '[{"op":"test","path":"/spec/replicas","value":99}]']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Error from server|invalid/i);
    expect(JSON.parse(await c.kubectlOk(['get', 'deploy', 'web', '-o', 'json'])).spec.replicas).toBe(5);
    const edited = await c.kubectl(['edit', 'cm', 'cfg', '--output-patch=false'], { env: { EDITOR: files.path('editor.sh'), KUBE_EDITOR: files.path('editor.sh') } });
    expect(edited.code).toBe(0);
    await c.kubectlOk(['patch', 'cm', 'cfg', '--type=merge', '-p', '{"data":{"a":"1"}}']);
    const edited2 = await c.kubectl(['edit', 'cm', 'cfg'], { env: { EDITOR: files.path('editor.sh'), KUBE_EDITOR: files.path('editor.sh') } });
    expect(edited2.stdout + edited2.stderr).toContain('configmap/cfg edited');
    expect(await c.kubectlOk(['get', 'cm', 'cfg', '-o', 'jsonpath={.data.a}'])).toBe('edited');
  });

  it('dry-runs on the server without persisting', async () => {
    const out = await c.kubectlOk(['create', 'configmap', 'dry', '--from-literal=a=b', '--dry-run=server', '-o', 'json']);
    expect(JSON.parse(out).metadata.uid).toBeTruthy();
    expect((await c.kubectl(['get', 'cm', 'dry'])).stderr).toContain('configmaps "dry" not found');
    await c.kubectlOk(['scale', 'deploy', 'web', '--replicas=7', '--dry-run=server']);
    expect(JSON.parse(await c.kubectlOk(['get', 'deploy', 'web', '-o', 'json'])).spec.replicas).toBe(5);
    await c.kubectlOk(['delete', 'cm', 'cfg', '--dry-run=server']);
    expect(await c.kubectlOk(['get', 'cm', 'cfg', '-o', 'name'])).toBe('configmap/cfg\n');
  });

  it('explains fields through OpenAPI v3', async () => {
    const out = await c.kubectlOk(['explain', 'deployment.spec.strategy']);
    expect(out).toMatch(/KIND:\s+Deployment/);
    expect(out).toMatch(/FIELD:\s+strategy <DeploymentStrategy>/);
    expect(out).toMatch(/rollingUpdate/);
  });

  it('answers auth can-i and whoami', async () => {
    expect((await c.kubectlOk(['auth', 'can-i', 'create', 'pods'])).trim()).toBe('yes');
    expect((await c.kubectlOk(['auth', 'can-i', '*', '*'])).trim()).toBe('yes');
    const who = await c.kubectlOk(['auth', 'whoami']);
    expect(who).toMatch(/Username\s+system:admin/);
    expect(who).toMatch(/system:masters/);
  });

  it('shows the error cases with kubectl\'s messages and changes nothing', async () => {
    const nf = await c.kubectl(['get', 'pod', 'nope']);
    expect(nf.stderr).toContain('Error from server (NotFound): pods "nope" not found');
    const ae = await c.kubectl(['create', '-f', files.path('cm.yaml')]);
    expect(ae.stderr).toMatch(/Error from server \(AlreadyExists\): error when creating ".*cm\.yaml": configmaps "cfg" already exists/);
    const inv = await c.kubectl(['create', '-f', files.path('bad-name.yaml')]);
    expect(inv.stderr).toContain('The ConfigMap "Bad_Name" is invalid');
    expect(inv.stderr).toContain('metadata.name: Invalid value: "Bad_Name"');
    const strict = await c.kubectl(['create', '-f', files.path('unknown-field.yaml')]);
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain('unknown field "foo"');
    expect((await c.kubectl(['get', 'cm', 'strict'])).code).not.toBe(0);
    const warn = await c.kubectl(['create', '--validate=warn', '-f', files.path('unknown-field.yaml')]);
    expect(warn.code).toBe(0);
    expect(warn.stderr).toContain('unknown field "foo"');
    const mal = await c.kubectl(['create', '-f', files.path('malformed.yaml')]);
    expect(mal.code).not.toBe(0);
    expect(mal.stderr).toMatch(/yaml|error converting/i);
    const big = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  a: "' + 'x'.repeat(3.5 * 1024 * 1024) + '"\n';
    const tooLarge = await c.kubectl(['create', '-f', '-', '--validate=false'], { input: big });
    expect(tooLarge.code).not.toBe(0);
    expect(tooLarge.stderr).toMatch(/too large|RequestEntityTooLarge/i);
    expect((await c.kubectl(['get', 'cm', 'huge'])).code).not.toBe(0);
    const unknown = await c.kubectl(['get', 'frobnicators']);
    expect(unknown.stderr).toContain('the server doesn\'t have a resource type "frobnicators"');
  });

  it('watches with get -w until the request timeout', async () => {
    const w = c.kubectl(['get', 'cm', '-w', '--request-timeout=4s']);
    await new Promise((r) => setTimeout(r, 1500));
    await c.kubectlOk(['create', 'configmap', 'watched', '--from-literal=x=y']);
    const out = await w;
    expect(out.stdout).toMatch(/^NAME\s+DATA\s+AGE$/m);
    expect(out.stdout).toMatch(/^cfg\s+1\s+/m);
    expect(out.stdout).toMatch(/^watched\s+1\s+/m);
  });

  it('deletes with cascade variants and --wait', async () => {
    expect(await c.kubectlOk(['delete', 'cm', 'watched', '--wait'])).toContain('configmap "watched" deleted');
    expect(await c.kubectlOk(['delete', 'pod', 'p1', '--wait'], { timeoutMs: 30_000 })).toContain('pod "p1" deleted');
    expect((await c.kubectl(['get', 'pod', 'p1'])).code).not.toBe(0);
    expect(await c.kubectlOk(['delete', 'deploy', 'dep1', '--cascade=orphan', '--wait'])).toContain('deleted');
    await c.kubectlOk(['create', 'configmap', 'fg', '--from-literal=a=b']);
    // The foregroundDeletion finalizer is removed by the garbage collector once no dependents remain.
    expect(await c.kubectlOk(['delete', 'cm', 'fg', '--cascade=foreground', '--wait', '--timeout=20s'], { timeoutMs: 30_000 })).toContain('deleted');
    await waitFor(async () => (await c.kubectl(['get', 'cm', 'fg'])).code !== 0, 10_000, 'cm fg gone');
    expect(await c.kubectlOk(['delete', 'cm', 'dir-a', '--cascade=background'])).toContain('deleted');
    await c.kubectlOk(['create', 'namespace', 'doomed']);
    await c.kubectlOk(['-n', 'doomed', 'create', 'configmap', 'inside']);
    expect(await c.kubectlOk(['delete', 'namespace', 'doomed', '--wait', '--timeout=30s'], { timeoutMs: 40_000 })).toContain('namespace "doomed" deleted');
    expect((await c.kubectl(['get', 'ns', 'doomed'])).code).not.toBe(0);
  });

  it('keeps everything across a restart on the same data dir', async () => {
    const before = await c.kubectlOk(['get', 'cm,secret,svc,deploy', '-o', 'name']);
    const uid = JSON.parse(await c.kubectlOk(['get', 'svc', 'dir-b', '-o', 'json'])).metadata.uid;
    await c.restart();
    const after = await c.kubectlOk(['get', 'cm,secret,svc,deploy', '-o', 'name']);
    expect(after.split('\n').sort()).toEqual(before.split('\n').sort());
    const svc = JSON.parse(await c.kubectlOk(['get', 'svc', 'dir-b', '-o', 'json']));
    expect(svc.metadata.uid).toBe(uid);
    expect(await c.kubectlOk(['create', 'configmap', 'after-restart'])).toContain('created');
  });
});

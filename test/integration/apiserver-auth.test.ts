// Authorization against `orch server` with the real kubectl: a user with a client certificate
// signed by the cluster CA and no bindings is Forbidden with upstream's messages; a RoleBinding to
// the aggregated `view` ClusterRole lets them read but not write; `kubectl auth can-i` (with --as,
// --as-group and --list) answers from the same RBAC evaluator; impersonation needs `impersonate`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCluster, tempDir, waitFor, type TestCluster } from './helpers/cluster';
import { issueClientCert, kubeconfigYaml } from '../../server/pki';

let c: TestCluster;
let aliceKubeconfig: string;
let bobKubeconfig: string;

async function kubeconfigFor(user: string, groups: string[]): Promise<string> {
  const cert = await issueClientCert(c.server!.pki.ca, user, groups);
  const path = join(tempDir('kc'), `${user}.kubeconfig`);
  writeFileSync(path, kubeconfigYaml(c.url, c.server!.pki.ca.certPem, cert), { mode: 0o600 });
  return path;
}

beforeAll(async () => {
  c = await startTestCluster();
  aliceKubeconfig = await kubeconfigFor('alice', []);
  bobKubeconfig = await kubeconfigFor('bob', ['devs']);
}, 60_000);

afterAll(async () => { await c?.stop(); });

describe('RBAC', () => {
  it('creates the bootstrap roles and aggregates admin/edit/view', async () => {
    const roles = await c.kubectlOk(['get', 'clusterroles', '-o', 'name']);
    for (const r of ['cluster-admin', 'admin', 'edit', 'view', 'system:basic-user', 'system:discovery', 'system:public-info-viewer', 'system:node', 'system:aggregate-to-view']) {
      expect(roles.split('\n')).toContain(`clusterrole.rbac.authorization.k8s.io/${r}`);
    }
    const view = JSON.parse(await c.kubectlOk(['get', 'clusterrole', 'view', '-o', 'json']));
    expect(view.aggregationRule.clusterRoleSelectors[0].matchLabels).toEqual({ 'rbac.authorization.k8s.io/aggregate-to-view': 'true' });
    expect(view.rules.some((r: any) => r.resources.includes('pods') && r.verbs.includes('list'))).toBe(true);
    // admin aggregates edit, which aggregates view: it ends up holding view's rules too.
    const admin = JSON.parse(await c.kubectlOk(['get', 'clusterrole', 'admin', '-o', 'json']));
    expect(admin.rules.some((r: any) => r.resources.includes('rolebindings'))).toBe(true);
    expect(admin.rules.some((r: any) => r.resources.includes('pods/log') && r.verbs.includes('get'))).toBe(true);
    const crb = JSON.parse(await c.kubectlOk(['get', 'clusterrolebinding', 'cluster-admin', '-o', 'json']));
    expect(crb.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' }]);
  });

  it('forbids a user without bindings with upstream\'s messages', async () => {
    const r = await c.kubectl(['--kubeconfig', aliceKubeconfig, 'get', 'pods']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"');
    const d = await c.kubectl(['--kubeconfig', aliceKubeconfig, 'get', 'deployments.apps', 'web', '-n', 'kube-system']);
    expect(d.stderr).toContain('deployments.apps "web" is forbidden: User "alice" cannot get resource "deployments" in API group "apps" in the namespace "kube-system"');
    const n = await c.kubectl(['--kubeconfig', aliceKubeconfig, 'get', 'nodes']);
    expect(n.stderr).toContain('nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope');
    // Discovery and whoami work for every authenticated user.
    expect(await c.kubectlOk(['--kubeconfig', aliceKubeconfig, 'auth', 'whoami'])).toMatch(/Username\s+alice/);
    expect((await c.kubectlOk(['--kubeconfig', aliceKubeconfig, 'api-versions'])).split('\n')).toContain('apps/v1');
  });

  it('grants view through a RoleBinding: list pods yes, create no, other namespaces no', async () => {
    await c.kubectlOk(['create', 'rolebinding', 'alice-view', '--clusterrole=view', '--user=alice', '-n', 'default']);
    await c.kubectlOk(['run', 'p1', '--image=busybox', '-n', 'default']);
    const out = await waitFor(async () => {
      const r = await c.kubectl(['--kubeconfig', aliceKubeconfig, 'get', 'pods', '-n', 'default']);
      return r.code === 0 ? r.stdout : undefined;
    }, 10_000, 'alice can list pods');
    expect(out).toMatch(/^p1\s/m);
    const create = await c.kubectl(['--kubeconfig', aliceKubeconfig, 'create', 'configmap', 'x', '-n', 'default']);
    expect(create.stderr).toContain('configmaps is forbidden: User "alice" cannot create resource "configmaps" in API group "" in the namespace "default"');
    const secrets = await c.kubectl(['--kubeconfig', aliceKubeconfig, 'get', 'secrets', '-n', 'default']);
    expect(secrets.stderr).toContain('User "alice" cannot list resource "secrets"');
    const other = await c.kubectl(['--kubeconfig', aliceKubeconfig, 'get', 'pods', '-n', 'kube-system']);
    expect(other.stderr).toContain('in the namespace "kube-system"');
    // view's namespaces rule lets alice read the namespace she is bound in, and only that one.
    expect(await c.kubectlOk(['--kubeconfig', aliceKubeconfig, 'get', 'namespace', 'default', '-o', 'name'])).toContain('namespace/default');
    const ns = await c.kubectl(['--kubeconfig', aliceKubeconfig, 'get', 'namespace', 'kube-system']);
    expect(ns.stderr).toContain('namespaces "kube-system" is forbidden: User "alice" cannot get resource "namespaces" in API group "" in the namespace "kube-system"');
  });

  it('answers kubectl auth can-i, with --as, --as-group and --list', async () => {
    const can = async (args: string[]): Promise<string> => {
      const r = await c.kubectl(['auth', 'can-i', ...args]);
      return r.stdout.trim();
    };
    expect(await can(['list', 'pods', '--as=alice'])).toBe('yes');
    expect(await can(['get', 'pods/log', '--as=alice'])).toBe('yes');
    expect(await can(['create', 'pods', '--as=alice'])).toBe('no');
    expect(await can(['list', 'pods', '--as=alice', '-n', 'kube-system'])).toBe('no');
    expect(await can(['list', 'pods', '--as=carol'])).toBe('no');
    expect(await can(['list', 'nodes', '--as=carol', '--as-group=system:masters'])).toBe('yes');
    // Group bindings and resourceNames.
    await c.kubectlOk(['create', 'role', 'one-cm', '--verb=get,update', '--resource=configmaps', '--resource-name=only-this', '-n', 'default']);
    await c.kubectlOk(['create', 'rolebinding', 'devs-one-cm', '--role=one-cm', '--group=devs', '-n', 'default']);
    await waitFor(async () => (await can(['update', 'configmaps/only-this', '--as=bob', '--as-group=devs'])) === 'yes', 10_000, 'group binding');
    expect(await can(['update', 'configmaps/other', '--as=bob', '--as-group=devs'])).toBe('no');
    expect(await can(['update', 'configmaps/only-this', '--as=bob'])).toBe('no');
    // The user's own SelfSubjectAccessReview (bob has group devs in his certificate).
    expect((await c.kubectl(['--kubeconfig', bobKubeconfig, 'auth', 'can-i', 'get', 'configmaps/only-this'])).stdout.trim()).toBe('yes');
    const list = await c.kubectlOk(['auth', 'can-i', '--list', '--as=alice']);
    expect(list).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs/m);
    expect(list).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list watch\]/m);
    expect(list).toMatch(/selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
    expect(list).toMatch(/\[\/api\/\*\]\s+\[\]\s+\[get\]/);
  });

  it('requires the impersonate verb for --as', async () => {
    const r = await c.kubectl(['--kubeconfig', aliceKubeconfig, 'get', 'pods', '--as=bob']);
    expect(r.stderr).toContain('users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope');
    await c.kubectlOk(['create', 'clusterrole', 'impersonate-bob', '--verb=impersonate', '--resource=users', '--resource-name=bob']);
    await c.kubectlOk(['create', 'clusterrolebinding', 'alice-impersonates-bob', '--clusterrole=impersonate-bob', '--user=alice']);
    const who = await waitFor(async () => {
      const w = await c.kubectl(['--kubeconfig', aliceKubeconfig, 'auth', 'whoami', '--as=bob', '-o', 'json']);
      return w.code === 0 ? JSON.parse(w.stdout) : undefined;
    }, 10_000, 'alice may impersonate bob');
    expect(who.status.userInfo).toMatchObject({ username: 'bob', groups: ['system:authenticated'] });
    // Impersonating a ServiceAccount gives it its groups (the admin may impersonate anyone).
    const sa = JSON.parse(await c.kubectlOk(['auth', 'whoami', '--as=system:serviceaccount:kube-system:builder', '-o', 'json']));
    expect(sa.status.userInfo).toEqual({ username: 'system:serviceaccount:kube-system:builder', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] });
    const saDenied = await c.kubectl(['--kubeconfig', aliceKubeconfig, 'get', 'pods', '--as=system:serviceaccount:kube-system:builder']);
    expect(saDenied.stderr).toContain('serviceaccounts "builder" is forbidden: User "alice" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "kube-system"');
    const g = await c.kubectl(['--kubeconfig', aliceKubeconfig, 'get', 'pods', '--as=bob', '--as-group=system:masters']);
    expect(g.stderr).toContain('groups "system:masters" is forbidden: User "alice" cannot impersonate resource "groups" in API group "" at the cluster scope');
  });

  it('lets a namespace admin grant what they hold, never more', async () => {
    await c.kubectlOk(['create', 'namespace', 'team']);
    await c.kubectlOk(['create', 'rolebinding', 'bob-admin', '--clusterrole=admin', '--user=bob', '-n', 'team']);
    await waitFor(async () => (await c.kubectl(['--kubeconfig', bobKubeconfig, 'get', 'rolebindings', '-n', 'team'])).code === 0, 10_000, 'bob is admin of team');
    await c.kubectlOk(['--kubeconfig', bobKubeconfig, 'create', 'rolebinding', 'carol-view', '--clusterrole=view', '--user=carol', '-n', 'team']);
    const escalate = await c.kubectl(['--kubeconfig', bobKubeconfig, 'create', 'rolebinding', 'bob-root', '--clusterrole=cluster-admin', '--user=bob', '-n', 'team']);
    expect(escalate.code).not.toBe(0);
    expect(escalate.stderr).toContain('rolebindings.rbac.authorization.k8s.io "bob-root" is forbidden: user "bob" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:');
    expect(escalate.stderr).toContain('{APIGroups:["*"], Resources:["*"], Verbs:["*"]}');
    const role = await c.kubectl(['--kubeconfig', bobKubeconfig, 'create', 'role', 'node-reader', '--verb=get', '--resource=nodes', '-n', 'team']);
    expect(role.stderr).toContain('is attempting to grant RBAC permissions not currently held:');
    await c.kubectlOk(['--kubeconfig', bobKubeconfig, 'create', 'role', 'secret-reader', '--verb=get', '--resource=secrets', '-n', 'team']);
  });

  it('answers SubjectAccessReview and LocalSubjectAccessReview for admins only', async () => {
    const sar = JSON.parse(await c.kubectlOk(['create', '-o', 'json', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'alice', resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'default' } } }),
    }));
    expect(sar.status).toMatchObject({ allowed: true });
    expect(sar.status.reason).toContain('RoleBinding "alice-view/default" of ClusterRole "view" to User "alice"');
    const lsar = JSON.parse(await c.kubectlOk(['create', '-o', 'json', '-n', 'default', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', metadata: { namespace: 'default' }, spec: { user: 'alice', resourceAttributes: { verb: 'delete', resource: 'pods', namespace: 'default' } } }),
    }));
    expect(lsar.status.allowed).toBe(false);
    // --validate=false: for a create-only kind kubectl 1.32 checks whether it is a CRD (lists
    // customresourcedefinitions), which alice may not do; against any cluster she would need the flag.
    const denied = await c.kubectl(['--kubeconfig', aliceKubeconfig, 'create', '--validate=false', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'x', resourceAttributes: { verb: 'list', resource: 'pods' } } }),
    });
    expect(denied.stderr).toContain('subjectaccessreviews.authorization.k8s.io is forbidden: User "alice" cannot create resource "subjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope');
  });

  it('follows role and binding deletions', async () => {
    await c.kubectlOk(['delete', 'rolebinding', 'alice-view', '-n', 'default']);
    await waitFor(async () => (await c.kubectl(['auth', 'can-i', 'list', 'pods', '--as=alice'])).stdout.trim() === 'no', 10_000, 'binding removal takes effect');
    // A new ClusterRole labelled for aggregation extends view at once.
    await c.kubectlOk(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'widgets-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }, rules: [{ apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get', 'list'] }] }),
    });
    await waitFor(async () => {
      const v = JSON.parse(await c.kubectlOk(['get', 'clusterrole', 'view', '-o', 'json']));
      return v.rules.some((r: any) => r.resources.includes('widgets'));
    }, 10_000, 'view aggregates widgets-view');
    await waitFor(async () => {
      const a = JSON.parse(await c.kubectlOk(['get', 'clusterrole', 'admin', '-o', 'json']));
      return a.rules.some((r: any) => r.resources.includes('widgets'));
    }, 10_000, 'admin aggregates widgets-view through edit');
  });
});

describe('bootstrap policy across restarts', () => {
  it('restores removed bootstrap rules and subjects unless autoupdate is off', async () => {
    // Strip system:basic-user's rules and system:discovery's subjects, and opt public-info-viewer out.
    await c.kubectlOk(['patch', 'clusterrole', 'system:basic-user', '--type=json', '-p', '[{"op":"replace","path":"/rules","value":[]}]']);
    await c.kubectlOk(['patch', 'clusterrolebinding', 'system:discovery', '--type=json', '-p', '[{"op":"replace","path":"/subjects","value":[]}]']);
    await c.kubectlOk(['annotate', '--overwrite', 'clusterrole', 'system:public-info-viewer', 'rbac.authorization.kubernetes.io/autoupdate=false']);
    await c.kubectlOk(['patch', 'clusterrole', 'system:public-info-viewer', '--type=json', '-p', '[{"op":"replace","path":"/rules","value":[]}]']);
    await c.restart();
    const basic = JSON.parse(await c.kubectlOk(['get', 'clusterrole', 'system:basic-user', '-o', 'json']));
    expect(basic.rules.flatMap((r: any) => r.resources)).toContain('selfsubjectaccessreviews');
    const disc = JSON.parse(await c.kubectlOk(['get', 'clusterrolebinding', 'system:discovery', '-o', 'json']));
    expect(disc.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' }]);
    const piv = JSON.parse(await c.kubectlOk(['get', 'clusterrole', 'system:public-info-viewer', '-o', 'json']));
    expect(piv.rules ?? []).toEqual([]);
  });
});

// RBAC rule matching and evaluation (server/auth): verbs, groups, resources with subresources and
// `*/sub`, resourceNames, nonResourceURLs with prefixes, subjects of every kind, namespaces,
// aggregation, and SelfSubjectRulesReview contents.
import { describe, expect, it } from 'vitest';
import { RbacAuthorizer } from '../../server/auth/rbac';
import { ruleAllows, labelSelectorMatches } from '../../server/auth/rules';
import { aggregatedRules } from '../../server/auth/aggregation';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from '../../server/auth/bootstrap';

const user = (username: string, ...groups: string[]) => ({ username, groups: [...groups, 'system:authenticated'] });

describe('rule matching', () => {
  it('matches verbs, groups, resources, subresources and names', () => {
    const r = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'], resourceNames: [] };
    expect(ruleAllows({ verb: 'get', group: '', resource: 'pods' }, r)).toBe(true);
    expect(ruleAllows({ verb: 'get', group: '', resource: 'pods', subresource: 'log' }, r)).toBe(true);
    expect(ruleAllows({ verb: 'get', group: '', resource: 'pods', subresource: 'exec' }, r)).toBe(false);
    expect(ruleAllows({ verb: 'delete', group: '', resource: 'pods' }, r)).toBe(false);
    expect(ruleAllows({ verb: 'get', group: 'apps', resource: 'pods' }, r)).toBe(false);
    const star = { verbs: ['*'], apiGroups: ['*'], resources: ['*/scale'] };
    expect(ruleAllows({ verb: 'update', group: 'apps', resource: 'deployments', subresource: 'scale' }, star)).toBe(true);
    expect(ruleAllows({ verb: 'update', group: 'apps', resource: 'deployments' }, star)).toBe(false);
    const named = { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] };
    expect(ruleAllows({ verb: 'get', group: '', resource: 'configmaps', name: 'a' }, named)).toBe(true);
    expect(ruleAllows({ verb: 'get', group: '', resource: 'configmaps', name: 'b' }, named)).toBe(false);
    expect(ruleAllows({ verb: 'get', group: '', resource: 'configmaps' }, named)).toBe(false);
  });

  it('matches non-resource URLs exactly or by a trailing *', () => {
    const r = { verbs: ['get'], nonResourceURLs: ['/api', '/apis/*'] };
    expect(ruleAllows({ verb: 'get', group: '', resource: '', path: '/api' }, r)).toBe(true);
    expect(ruleAllows({ verb: 'get', group: '', resource: '', path: '/apis/apps/v1' }, r)).toBe(true);
    expect(ruleAllows({ verb: 'get', group: '', resource: '', path: '/api/v1' }, r)).toBe(false);
    expect(ruleAllows({ verb: 'post', group: '', resource: '', path: '/api' }, r)).toBe(false);
    // A resource rule never matches a path.
    expect(ruleAllows({ verb: 'get', group: '', resource: '', path: '/api' }, { verbs: ['*'], apiGroups: ['*'], resources: ['*'] })).toBe(false);
  });

  it('matches label selectors with expressions', () => {
    expect(labelSelectorMatches({ matchLabels: { a: '1' } }, { a: '1', b: '2' })).toBe(true);
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '2'] }, { key: 'c', operator: 'DoesNotExist' }] }, { a: '2' })).toBe(true);
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['2'] }] }, { a: '2' })).toBe(false);
    expect(labelSelectorMatches(undefined, { a: '1' })).toBe(false);
  });
});

describe('RbacAuthorizer', () => {
  const authz = (): RbacAuthorizer => {
    const a = new RbacAuthorizer();
    for (const r of bootstrapClusterRoles()) a.upsert('ClusterRole', r);
    for (const b of bootstrapClusterRoleBindings()) a.upsert('ClusterRoleBinding', b);
    // Repeated rounds settle the view -> edit -> admin chain, as the aggregation loop does.
    for (let i = 0; i < 3; i++) for (const r of a.allClusterRoles()) if (r.aggregationRule) a.upsert('ClusterRole', { ...r, rules: aggregatedRules(r, a.allClusterRoles()) });
    return a;
  };

  it('allows system:masters everything and authenticated users discovery and self reviews', () => {
    const a = authz();
    expect(a.authorize(user('root', 'system:masters'), { verb: 'delete', group: 'apps', resource: 'deployments', namespace: 'x' }).allowed).toBe(true);
    expect(a.authorize(user('alice'), { verb: 'get', group: '', resource: '', path: '/apis/apps' }).allowed).toBe(true);
    expect(a.authorize(user('alice'), { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' }).allowed).toBe(true);
    expect(a.authorize(user('alice'), { verb: 'list', group: '', resource: 'pods', namespace: 'default' })).toEqual({ allowed: false, reason: '' });
    expect(a.authorize({ username: 'system:anonymous', groups: ['system:unauthenticated'] }, { verb: 'get', group: '', resource: '', path: '/version' }).allowed).toBe(true);
    expect(a.authorize({ username: 'system:anonymous', groups: ['system:unauthenticated'] }, { verb: 'get', group: '', resource: '', path: '/api' }).allowed).toBe(false);
  });

  it('applies RoleBindings only in their namespace, to users, groups and service accounts', () => {
    const a = authz();
    a.upsert('RoleBinding', { metadata: { name: 'rb', namespace: 'team' }, roleRef: { kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'User', name: 'alice' }, { kind: 'Group', name: 'devs' }, { kind: 'ServiceAccount', name: 'builder' }] });
    const can = (u: any, ns: string, verb = 'create') => a.authorize(u, { verb, group: 'apps', resource: 'deployments', namespace: ns }).allowed;
    expect(can(user('alice'), 'team')).toBe(true);
    expect(can(user('alice'), 'other')).toBe(false);
    expect(can(user('bob', 'devs'), 'team')).toBe(true);
    expect(can(user('system:serviceaccount:team:builder', 'system:serviceaccounts'), 'team')).toBe(true);
    expect(can(user('system:serviceaccount:other:builder'), 'team')).toBe(false);
    const d = a.authorize(user('alice'), { verb: 'create', group: 'apps', resource: 'deployments', namespace: 'team' });
    expect(d.reason).toBe('RBAC: allowed by RoleBinding "rb/team" of ClusterRole "edit" to User "alice"');
    // Cluster-scoped resources ignore RoleBindings.
    expect(a.authorize(user('alice'), { verb: 'list', group: '', resource: 'nodes' }).allowed).toBe(false);
    a.remove('RoleBinding', { metadata: { name: 'rb', namespace: 'team' } });
    expect(can(user('alice'), 'team')).toBe(false);
  });

  it('evaluates Roles and reports a missing role', () => {
    const a = authz();
    a.upsert('RoleBinding', { metadata: { name: 'rb', namespace: 'ns' }, roleRef: { kind: 'Role', name: 'reader' }, subjects: [{ kind: 'User', name: 'u' }] });
    const attrs = { verb: 'get', group: '', resource: 'secrets', namespace: 'ns', name: 's1' };
    expect(a.authorize(user('u'), attrs)).toMatchObject({ allowed: false, evaluationError: 'RBAC: [role.rbac.authorization.k8s.io "reader" not found]' });
    a.upsert('Role', { metadata: { name: 'reader', namespace: 'ns' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['s1'] }] });
    expect(a.authorize(user('u'), attrs).allowed).toBe(true);
    expect(a.authorize(user('u'), { ...attrs, name: 's2' }).allowed).toBe(false);
    const rules = a.rulesFor(user('u'), 'ns');
    expect(rules.incomplete).toBe(false);
    expect(rules.resourceRules).toContainEqual({ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['s1'] });
    expect(rules.nonResourceRules.some((r) => r.nonResourceURLs?.includes('/api/*'))).toBe(true);
  });

  it('aggregates by label in name order without duplicates', () => {
    const role = { metadata: { name: 'agg' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] } };
    const r1 = { metadata: { name: 'b', labels: { x: 'y' } }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] };
    const r2 = { metadata: { name: 'a', labels: { x: 'y' } }, rules: [{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }, { verbs: ['get'], apiGroups: [''], resources: ['pods'] }] };
    const r3 = { metadata: { name: 'c' }, rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] };
    expect(aggregatedRules(role, [role, r1, r2, r3])).toEqual([{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }, { verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
  });
});

describe('escalation prevention', () => {
  it('covers tuple by tuple, across several owner rules', async () => {
    const { uncoveredRules } = await import('../../server/auth/escalation');
    const owner = [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, { verbs: ['list'], apiGroups: [''], resources: ['pods', 'services'] }];
    expect(uncoveredRules(owner, [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }])).toEqual([]);
    expect(uncoveredRules(owner, [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['services'] }])).toEqual([{ verbs: ['get'], apiGroups: [''], resources: ['services'] }]);
    // A name-restricted owner rule does not cover the whole resource; '*' needs '*'.
    expect(uncoveredRules([{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }])).toHaveLength(1);
    expect(uncoveredRules([{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }])).toEqual([]);
    expect(uncoveredRules(owner, [{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }])).toHaveLength(1);
    expect(uncoveredRules([{ verbs: ['*'], apiGroups: ['*'], resources: ['*/scale'] }], [{ verbs: ['update'], apiGroups: ['apps'], resources: ['deployments/scale'] }])).toEqual([]);
    expect(uncoveredRules([{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }], [{ verbs: ['get'], nonResourceURLs: ['/apis/apps', '/healthz'] }])).toEqual([{ verbs: ['get'], nonResourceURLs: ['/healthz'] }]);
  });

  it('lets a namespace admin grant view but not cluster-admin', async () => {
    const { checkRbacWrite } = await import('../../server/auth/escalation');
    const a = new RbacAuthorizer();
    for (const r of bootstrapClusterRoles()) a.upsert('ClusterRole', r);
    for (const b of bootstrapClusterRoleBindings()) a.upsert('ClusterRoleBinding', b);
    for (let i = 0; i < 3; i++) for (const r of a.allClusterRoles()) if (r.aggregationRule) a.upsert('ClusterRole', { ...r, rules: aggregatedRules(r, a.allClusterRoles()) });
    a.upsert('RoleBinding', { metadata: { name: 'bob-admin', namespace: 'team' }, roleRef: { kind: 'ClusterRole', name: 'admin' }, subjects: [{ kind: 'User', name: 'bob' }] });
    const bob = user('bob');
    const binding = (role: string, ns = 'team') => ({ metadata: { name: 'x', namespace: ns }, roleRef: { kind: 'ClusterRole', name: role }, subjects: [{ kind: 'User', name: 'carol' }] });
    expect(() => checkRbacWrite(a, 'RoleBinding', binding('view'), bob)).not.toThrow();
    expect(() => checkRbacWrite(a, 'RoleBinding', binding('edit'), bob)).not.toThrow();
    expect(() => checkRbacWrite(a, 'RoleBinding', binding('view', 'other'), bob)).toThrow(/is attempting to grant RBAC permissions not currently held/);
    expect(() => checkRbacWrite(a, 'RoleBinding', binding('cluster-admin'), bob)).toThrow(/rolebindings\.rbac\.authorization\.k8s\.io "x" is forbidden: user "bob" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}/);
    expect(() => checkRbacWrite(a, 'Role', { metadata: { name: 'r', namespace: 'team' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }] }, bob)).not.toThrow();
    expect(() => checkRbacWrite(a, 'Role', { metadata: { name: 'r', namespace: 'team' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }] }, bob)).toThrow(/Resources:\["nodes"\]/);
    // `bind` on a role, or `escalate` on roles, lifts the check.
    a.upsert('Role', { metadata: { name: 'binder', namespace: 'team' }, rules: [{ verbs: ['bind'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], resourceNames: ['cluster-admin'] }] });
    a.upsert('RoleBinding', { metadata: { name: 'bob-binder', namespace: 'team' }, roleRef: { kind: 'Role', name: 'binder' }, subjects: [{ kind: 'User', name: 'bob' }] });
    expect(() => checkRbacWrite(a, 'RoleBinding', binding('cluster-admin'), bob)).not.toThrow();
    expect(() => checkRbacWrite(a, 'RoleBinding', binding('cluster-admin'), user('root', 'system:masters'))).not.toThrow();
  });
});

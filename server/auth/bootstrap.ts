// The default RBAC policy created at start-up, after upstream's bootstrappolicy: the user-facing
// roles (cluster-admin, admin, edit, view — the last three aggregated from the
// system:aggregate-to-* roles by label), the discovery roles every client needs, system:node for
// agents, and their ClusterRoleBindings. Existing objects are left alone (a user may have edited them).
import type { PolicyRule } from './rules';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const READ_WRITE = [...WRITE, ...READ];

const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const AUTOUPDATE = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

export const AGGREGATE_TO_ADMIN = 'rbac.authorization.k8s.io/aggregate-to-admin';
export const AGGREGATE_TO_EDIT = 'rbac.authorization.k8s.io/aggregate-to-edit';
export const AGGREGATE_TO_VIEW = 'rbac.authorization.k8s.io/aggregate-to-view';

function rule(verbs: string[], groups: string[], resources: string[]): PolicyRule {
  return { verbs, apiGroups: groups, resources };
}

function urls(verbs: string[], paths: string[]): PolicyRule {
  return { verbs, nonResourceURLs: paths };
}

function clusterRole(name: string, rules: PolicyRule[], extra: { labels?: Record<string, string>; aggregateFrom?: string } = {}): any {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole',
    metadata: { name, labels: { ...BOOTSTRAP_LABELS, ...(extra.labels ?? {}) }, annotations: { ...AUTOUPDATE } },
    ...(extra.aggregateFrom ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [extra.aggregateFrom]: 'true' } }] } } : {}),
    rules,
  };
}

function clusterRoleBinding(name: string, role: string, subjects: Array<{ kind: 'User' | 'Group'; name: string }>): any {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...BOOTSTRAP_LABELS }, annotations: { ...AUTOUPDATE } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: subjects.map((s) => ({ apiGroup: 'rbac.authorization.k8s.io', ...s })),
  };
}

/** What `view` grants: reading the non-secret objects of a namespace. */
function viewRules(): PolicyRule[] {
  return [
    rule(READ, [''], ['pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'configmaps']),
    rule(READ, [''], ['limitranges', 'resourcequotas', 'bindings', 'events', 'pods/status', 'resourcequotas/status', 'namespaces/status', 'replicationcontrollers/status', 'pods/log']),
    rule(READ, [''], ['namespaces']),
    rule(READ, ['discovery.k8s.io'], ['endpointslices']),
    rule(READ, ['apps'], ['controllerrevisions', 'statefulsets', 'statefulsets/status', 'statefulsets/scale', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/status', 'deployments/scale', 'replicasets', 'replicasets/status', 'replicasets/scale']),
    rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
    rule(READ, ['batch'], ['jobs', 'cronjobs', 'cronjobs/status', 'jobs/status']),
    rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
    rule(READ, ['networking.k8s.io'], ['networkpolicies', 'ingresses', 'ingresses/status']),
    rule(READ, ['events.k8s.io'], ['events']),
  ];
}

/** What `edit` adds: writing workloads and their config, secrets included. */
function editRules(): PolicyRule[] {
  return [
    rule(['impersonate'], [''], ['serviceaccounts']),
    rule(WRITE, [''], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
    rule(['create'], [''], ['pods/eviction']),
    rule(WRITE, [''], ['replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/proxy', 'persistentvolumeclaims', 'configmaps', 'secrets', 'events']),
    rule(['create'], [''], ['serviceaccounts/token']),
    rule(READ, [''], ['secrets', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'services/proxy']),
    rule(WRITE, ['apps'], ['statefulsets', 'statefulsets/scale', 'daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'replicasets', 'replicasets/scale']),
    rule(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
    rule(WRITE, ['batch'], ['jobs', 'cronjobs']),
    rule(WRITE, ['policy'], ['poddisruptionbudgets']),
    rule(WRITE, ['networking.k8s.io'], ['networkpolicies', 'ingresses']),
    rule(READ_WRITE, ['coordination.k8s.io'], ['leases']),
    rule(WRITE, ['events.k8s.io'], ['events']),
  ];
}

/** What `admin` adds: granting access inside the namespace. */
function adminRules(): PolicyRule[] {
  return [
    rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
    rule(READ_WRITE, ['rbac.authorization.k8s.io'], ['roles', 'rolebindings']),
  ];
}

/** The ClusterRoles orch creates on first start. */
export function bootstrapClusterRoles(): any[] {
  return [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('admin', [], { aggregateFrom: AGGREGATE_TO_ADMIN }),
    clusterRole('edit', [], { aggregateFrom: AGGREGATE_TO_EDIT, labels: { [AGGREGATE_TO_ADMIN]: 'true' } }),
    clusterRole('view', [], { aggregateFrom: AGGREGATE_TO_VIEW, labels: { [AGGREGATE_TO_EDIT]: 'true' } }),
    clusterRole('system:aggregate-to-admin', adminRules(), { labels: { [AGGREGATE_TO_ADMIN]: 'true' } }),
    clusterRole('system:aggregate-to-edit', editRules(), { labels: { [AGGREGATE_TO_EDIT]: 'true' } }),
    clusterRole('system:aggregate-to-view', viewRules(), { labels: { [AGGREGATE_TO_VIEW]: 'true' } }),
    clusterRole('system:discovery', [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])]),
    clusterRole('system:public-info-viewer', [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
    clusterRole('system:basic-user', [
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ]),
    clusterRole('system:service-account-issuer-discovery', [urls(['get'], ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'])]),
    clusterRole('system:auth-delegator', [
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    ]),
    // What an agent (the kubelet) needs for its node and the pods bound to it.
    clusterRole('system:node', [
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews', 'localsubjectaccessreviews']),
      rule(READ, [''], ['services', 'endpoints']),
      rule(['create', 'get', 'list', 'watch', 'patch', 'update', 'delete'], [''], ['nodes']),
      rule(['patch', 'update'], [''], ['nodes/status']),
      rule(['create', 'patch', 'update'], [''], ['events']),
      rule(['create', 'patch', 'update'], ['events.k8s.io'], ['events']),
      rule([...READ, 'create', 'delete'], [''], ['pods']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(['create'], [''], ['pods/eviction']),
      rule(READ, [''], ['configmaps', 'secrets']),
      rule(['get'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
      rule(['update', 'patch'], [''], ['persistentvolumeclaims/status']),
      rule(['create'], [''], ['serviceaccounts/token']),
      rule(['get', 'list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
      rule(['get', 'list', 'watch'], ['storage.k8s.io'], ['storageclasses']),
      rule(READ_WRITE, ['coordination.k8s.io'], ['leases']),
      rule(['get', 'list', 'watch'], ['networking.k8s.io'], ['networkpolicies']),
    ]),
  ];
}

/** The ClusterRoleBindings orch creates on first start. */
export function bootstrapClusterRoleBindings(): any[] {
  return [
    clusterRoleBinding('cluster-admin', 'cluster-admin', [{ kind: 'Group', name: 'system:masters' }]),
    clusterRoleBinding('system:discovery', 'system:discovery', [{ kind: 'Group', name: 'system:authenticated' }]),
    clusterRoleBinding('system:basic-user', 'system:basic-user', [{ kind: 'Group', name: 'system:authenticated' }]),
    clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', [{ kind: 'Group', name: 'system:authenticated' }, { kind: 'Group', name: 'system:unauthenticated' }]),
    clusterRoleBinding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [{ kind: 'Group', name: 'system:serviceaccounts' }]),
    // Upstream leaves this binding empty and relies on the Node authorizer; orch binds the group.
    clusterRoleBinding('system:node', 'system:node', [{ kind: 'Group', name: 'system:nodes' }]),
  ];
}

// The scheme: which resources orch serves, and how group/version/kind, plural, singular and short
// names map to each other. Discovery, routing, RBAC, tables and kubectl's name resolution all read
// this one table, so its facts must match what a Kubernetes 1.32 apiserver reports.

export interface GroupVersionKind { group: string; version: string; kind: string }
export interface GroupVersionResource { group: string; version: string; resource: string }

export interface SubresourceInfo {
  name: string;
  /** The kind a subresource answers with when it is not the parent's kind (Scale, TokenRequest, ...). */
  kind?: string;
  group?: string;
  version?: string;
  verbs: string[];
}

export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Discovery verbs, from: get list watch create update patch delete deletecollection. */
  verbs: string[];
  subresources: SubresourceInfo[];
  /** OpenAPI definition name of the kind, e.g. 'io.k8s.api.core.v1.Pod'. */
  definition: string;
}

/** Every verb a plain stored resource supports, in the sorted order discovery reports them. */
const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
/** Namespaces cannot be deleted as a collection (upstream has no deletecollection for them). */
const NO_COLLECTION_DELETE = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
/** Review kinds (TokenReview, SubjectAccessReview, ...) are computed on create and never stored. */
const CREATE_ONLY = ['create'];

const STATUS: SubresourceInfo = { name: 'status', verbs: ['get', 'patch', 'update'] };
const SCALE: SubresourceInfo = { name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] };
/** Proxy subresources accept every HTTP method; discovery names them with the REST verbs. */
const PROXY_VERBS = ['create', 'delete', 'get', 'patch', 'update'];
const CONNECT_VERBS = ['create', 'get'];

/** The definition-name prefix of each API group's Go package, as OpenAPI names them. */
function definitionPrefix(group: string, version: string): string {
  if (group === '') return `io.k8s.api.core.${version}`;
  if (group === 'apiextensions.k8s.io') return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${version}`;
  const pkg = group === 'rbac.authorization.k8s.io' ? 'rbac' : group.replace(/\.k8s\.io$/, '');
  return `io.k8s.api.${pkg}.${version}`;
}

interface Spec {
  kind: string;
  plural: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs?: string[];
  subresources?: SubresourceInfo[];
}

function group(groupName: string, version: string, specs: Spec[]): ResourceInfo[] {
  return specs.map((s) => ({
    group: groupName,
    version,
    kind: s.kind,
    listKind: `${s.kind}List`,
    plural: s.plural,
    singular: s.kind.toLowerCase(),
    namespaced: s.namespaced,
    shortNames: s.shortNames ?? [],
    categories: s.categories ?? [],
    verbs: s.verbs ?? ALL_VERBS,
    subresources: s.subresources ?? [],
    definition: `${definitionPrefix(groupName, version)}.${s.kind}`,
  }));
}

/**
 * Every built-in resource, in discovery order: the core group first, then the named groups in
 * the order upstream lists them (apps, events, authentication, ...), resources sorted by plural.
 */
export const builtinResources: ResourceInfo[] = [
  ...group('', 'v1', [
    // The legacy top-level form of pods/binding: POST a Binding named after the pod (server/apiserver/binding.ts).
    { kind: 'Binding', plural: 'bindings', namespaced: true, verbs: ['create'] },
    { kind: 'ConfigMap', plural: 'configmaps', namespaced: true, shortNames: ['cm'] },
    { kind: 'Endpoints', plural: 'endpoints', namespaced: true, shortNames: ['ep'] },
    { kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'] },
    { kind: 'LimitRange', plural: 'limitranges', namespaced: true, shortNames: ['limits'] },
    {
      kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'], verbs: NO_COLLECTION_DELETE,
      subresources: [{ name: 'finalize', verbs: ['update'] }, STATUS],
    },
    {
      kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'],
      subresources: [{ name: 'proxy', kind: 'NodeProxyOptions', verbs: PROXY_VERBS }, STATUS],
    },
    { kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true, shortNames: ['pvc'], subresources: [STATUS] },
    { kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false, shortNames: ['pv'], subresources: [STATUS] },
    {
      kind: 'Pod', plural: 'pods', namespaced: true, shortNames: ['po'], categories: ['all'],
      subresources: [
        { name: 'attach', kind: 'PodAttachOptions', verbs: CONNECT_VERBS },
        { name: 'binding', kind: 'Binding', verbs: ['create'] },
        { name: 'ephemeralcontainers', verbs: ['get', 'patch', 'update'] },
        { name: 'eviction', group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
        { name: 'exec', kind: 'PodExecOptions', verbs: CONNECT_VERBS },
        { name: 'log', verbs: ['get'] },
        { name: 'portforward', kind: 'PodPortForwardOptions', verbs: CONNECT_VERBS },
        { name: 'proxy', kind: 'PodProxyOptions', verbs: PROXY_VERBS },
        STATUS,
      ],
    },
    { kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true, shortNames: ['quota'], subresources: [STATUS] },
    { kind: 'Secret', plural: 'secrets', namespaced: true },
    {
      kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, shortNames: ['sa'],
      subresources: [{ name: 'token', group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] }],
    },
    {
      kind: 'Service', plural: 'services', namespaced: true, shortNames: ['svc'], categories: ['all'],
      subresources: [{ name: 'proxy', kind: 'ServiceProxyOptions', verbs: PROXY_VERBS }, STATUS],
    },
  ]),
  ...group('apps', 'v1', [
    { kind: 'ControllerRevision', plural: 'controllerrevisions', namespaced: true },
    { kind: 'DaemonSet', plural: 'daemonsets', namespaced: true, shortNames: ['ds'], categories: ['all'], subresources: [STATUS] },
    { kind: 'Deployment', plural: 'deployments', namespaced: true, shortNames: ['deploy'], categories: ['all'], subresources: [SCALE, STATUS] },
    { kind: 'ReplicaSet', plural: 'replicasets', namespaced: true, shortNames: ['rs'], categories: ['all'], subresources: [SCALE, STATUS] },
    { kind: 'StatefulSet', plural: 'statefulsets', namespaced: true, shortNames: ['sts'], categories: ['all'], subresources: [SCALE, STATUS] },
  ]),
  ...group('events.k8s.io', 'v1', [
    { kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'] },
  ]),
  ...group('authentication.k8s.io', 'v1', [
    { kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', namespaced: false, verbs: CREATE_ONLY },
    { kind: 'TokenReview', plural: 'tokenreviews', namespaced: false, verbs: CREATE_ONLY },
  ]),
  ...group('authorization.k8s.io', 'v1', [
    { kind: 'LocalSubjectAccessReview', plural: 'localsubjectaccessreviews', namespaced: true, verbs: CREATE_ONLY },
    { kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', namespaced: false, verbs: CREATE_ONLY },
    { kind: 'SelfSubjectRulesReview', plural: 'selfsubjectrulesreviews', namespaced: false, verbs: CREATE_ONLY },
    { kind: 'SubjectAccessReview', plural: 'subjectaccessreviews', namespaced: false, verbs: CREATE_ONLY },
  ]),
  ...group('batch', 'v1', [
    { kind: 'CronJob', plural: 'cronjobs', namespaced: true, shortNames: ['cj'], categories: ['all'], subresources: [STATUS] },
    { kind: 'Job', plural: 'jobs', namespaced: true, categories: ['all'], subresources: [STATUS] },
  ]),
  ...group('networking.k8s.io', 'v1', [
    { kind: 'IngressClass', plural: 'ingressclasses', namespaced: false },
    { kind: 'Ingress', plural: 'ingresses', namespaced: true, shortNames: ['ing'], subresources: [STATUS] },
    { kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true, shortNames: ['netpol'] },
  ]),
  ...group('policy', 'v1', [
    { kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true, shortNames: ['pdb'], subresources: [STATUS] },
  ]),
  ...group('rbac.authorization.k8s.io', 'v1', [
    { kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false },
    { kind: 'ClusterRole', plural: 'clusterroles', namespaced: false },
    { kind: 'RoleBinding', plural: 'rolebindings', namespaced: true },
    { kind: 'Role', plural: 'roles', namespaced: true },
  ]),
  ...group('storage.k8s.io', 'v1', [
    { kind: 'StorageClass', plural: 'storageclasses', namespaced: false, shortNames: ['sc'] },
  ]),
  ...group('apiextensions.k8s.io', 'v1', [
    {
      kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', namespaced: false,
      shortNames: ['crd', 'crds'], categories: ['api-extensions'], subresources: [STATUS],
    },
  ]),
  ...group('scheduling.k8s.io', 'v1', [
    { kind: 'PriorityClass', plural: 'priorityclasses', namespaced: false, shortNames: ['pc'] },
  ]),
  ...group('coordination.k8s.io', 'v1', [
    { kind: 'Lease', plural: 'leases', namespaced: true },
  ]),
  ...group('discovery.k8s.io', 'v1', [
    { kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true },
  ]),
  // PodPreset left upstream in 1.20; orch keeps it because the seed notes describe it.
  ...group('settings.k8s.io', 'v1alpha1', [
    { kind: 'PodPreset', plural: 'podpresets', namespaced: true },
  ]),
];

/** 'v1' for the core group, 'apps/v1' otherwise: the apiVersion field of the resource's objects. */
export function apiVersionOf(info: { group: string; version: string }): string {
  return info.group === '' ? info.version : `${info.group}/${info.version}`;
}

/** Splits an apiVersion ('v1', 'apps/v1') into group and version. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** The group-versions orch serves, in discovery order, each with its resources. */
export function groupVersions(resources: ResourceInfo[] = builtinResources): Array<{ group: string; version: string; resources: ResourceInfo[] }> {
  const out: Array<{ group: string; version: string; resources: ResourceInfo[] }> = [];
  for (const r of resources) {
    let gv = out.find((g) => g.group === r.group && g.version === r.version);
    if (!gv) out.push(gv = { group: r.group, version: r.version, resources: [] });
    gv.resources.push(r);
  }
  return out;
}

const byResourceKey = new Map<string, ResourceInfo>();
const byKindKey = new Map<string, ResourceInfo>();
for (const r of builtinResources) {
  byResourceKey.set(`${r.group}/${r.version}/${r.plural}`, r);
  byKindKey.set(`${r.group}/${r.version}/${r.kind}`, r);
}

/** The built-in resource served at /apis/<group>/<version>/<plural> (group '' for /api/v1). */
export function resourceFor(group: string, version: string, plural: string): ResourceInfo | undefined {
  return byResourceKey.get(`${group}/${version}/${plural}`);
}

/** The built-in resource whose objects have this group/version/kind. */
export function resourceForKind(gvk: GroupVersionKind): ResourceInfo | undefined {
  return byKindKey.get(`${gvk.group}/${gvk.version}/${gvk.kind}`);
}

/**
 * Every resource a kubectl-style name may mean: plural, singular, short name or kind
 * (case-insensitive), optionally qualified by group ('deployments.apps', 'deploy.apps').
 * Core resources come first, as kubectl prefers them.
 */
export function resolveResourceName(name: string, resources: ResourceInfo[] = builtinResources): ResourceInfo[] {
  const lower = name.toLowerCase();
  const matches = (r: ResourceInfo, n: string) =>
    r.plural === n || r.singular === n || r.kind.toLowerCase() === n || r.shortNames.includes(n);
  const direct = resources.filter((r) => matches(r, lower));
  if (direct.length > 0) return direct;
  const dot = lower.indexOf('.');
  if (dot < 0) return [];
  const base = lower.slice(0, dot);
  const groupName = lower.slice(dot + 1);
  return resources.filter((r) => r.group === groupName && matches(r, base));
}

/** The built-in resources that carry a short name, e.g. 'deploy' -> deployments.apps. */
export function resourceForShortName(shortName: string): ResourceInfo | undefined {
  const lower = shortName.toLowerCase();
  return builtinResources.find((r) => r.shortNames.includes(lower));
}

/** Resources in a category ('all' for `kubectl get all`). */
export function resourcesInCategory(category: string, resources: ResourceInfo[] = builtinResources): ResourceInfo[] {
  return resources.filter((r) => r.categories.includes(category));
}

/** The group/version/kind a subresource's requests and answers carry (parent's kind unless named). */
export function subresourceKind(info: ResourceInfo, subresource: string): GroupVersionKind | undefined {
  const s = info.subresources.find((x) => x.name === subresource);
  if (!s) return undefined;
  if (!s.kind) return { group: info.group, version: info.version, kind: info.kind };
  return { group: s.group ?? info.group, version: s.version ?? info.version, kind: s.kind };
}

// Defaulting: the values a Kubernetes 1.32 apiserver fills in when a client leaves them out, for
// the fields users notice (kubectl get -o yaml shows them, controllers rely on them).
import type { GroupVersionKind } from './scheme';

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
function setIfAbsent(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value;
}
function child(o: Obj, key: string): Obj {
  if (!isObj(o[key])) o[key] = {};
  return o[key];
}

/** Always for ':latest' or untagged images, else IfNotPresent (digests count as tags). */
export function defaultImagePullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  if (colon < 0) return 'Always';
  return image.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(p: unknown): void {
  if (!isObj(p)) return;
  setIfAbsent(p, 'timeoutSeconds', 1);
  setIfAbsent(p, 'periodSeconds', 10);
  setIfAbsent(p, 'successThreshold', 1);
  setIfAbsent(p, 'failureThreshold', 3);
  if (isObj(p.httpGet)) setIfAbsent(p.httpGet, 'scheme', 'HTTP');
}

function defaultContainer(c: unknown): void {
  if (!isObj(c)) return;
  if (typeof c.image === 'string' && c.image !== '') setIfAbsent(c, 'imagePullPolicy', defaultImagePullPolicy(c.image));
  setIfAbsent(c, 'terminationMessagePath', '/dev/termination-log');
  setIfAbsent(c, 'terminationMessagePolicy', 'File');
  if (!isObj(c.resources)) c.resources = {};
  // Limits without requests: the requests equal the limits.
  const res = c.resources;
  if (isObj(res.limits)) {
    const requests = isObj(res.requests) ? res.requests : {};
    for (const [k, v] of Object.entries(res.limits)) if (requests[k] === undefined) requests[k] = v;
    if (Object.keys(requests).length > 0) res.requests = requests;
  }
  for (const p of Array.isArray(c.ports) ? c.ports : []) if (isObj(p)) setIfAbsent(p, 'protocol', 'TCP');
  for (const e of Array.isArray(c.env) ? c.env : []) {
    if (isObj(e) && isObj(e.valueFrom) && isObj(e.valueFrom.fieldRef)) setIfAbsent(e.valueFrom.fieldRef, 'apiVersion', 'v1');
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
}

function defaultVolume(v: unknown): void {
  if (!isObj(v)) return;
  if (isObj(v.configMap)) setIfAbsent(v.configMap, 'defaultMode', 420);
  if (isObj(v.secret)) setIfAbsent(v.secret, 'defaultMode', 420);
  if (isObj(v.downwardAPI)) setIfAbsent(v.downwardAPI, 'defaultMode', 420);
  if (isObj(v.projected)) setIfAbsent(v.projected, 'defaultMode', 420);
  if (isObj(v.hostPath)) setIfAbsent(v.hostPath, 'type', '');
}

/** Defaults of a PodSpec, wherever it appears (pods and every workload's template). */
export function applyPodSpecDefaults(spec: unknown): void {
  if (!isObj(spec)) return;
  setIfAbsent(spec, 'restartPolicy', 'Always');
  setIfAbsent(spec, 'dnsPolicy', 'ClusterFirst');
  setIfAbsent(spec, 'terminationGracePeriodSeconds', 30);
  setIfAbsent(spec, 'securityContext', {});
  setIfAbsent(spec, 'schedulerName', 'default-scheduler');
  setIfAbsent(spec, 'enableServiceLinks', true);
  for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
    for (const c of Array.isArray(spec[list]) ? spec[list] : []) defaultContainer(c);
  }
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) defaultVolume(v);
}

function templateSpec(obj: Obj, ...path: string[]): void {
  let cur: Obj = obj;
  for (const p of path) {
    if (!isObj(cur[p])) return;
    cur = cur[p];
  }
  applyPodSpecDefaults(cur);
}

/**
 * Fills in what the server defaults for a kind, in place. Idempotent: fields already set are kept.
 * Covers pods and pod templates, services, workloads (Deployment strategy 25%/25%, revision
 * history 10, progress deadline 600, ...), jobs, cronjobs, secrets (stringData folded into data),
 * namespaces, volumes and claims, storage classes, network policies, RBAC subjects and CRDs.
 */
export function applyDefaults(gvk: GroupVersionKind, obj: Obj): void {
  if (!isObj(obj)) return;
  const key = `${gvk.group}/${gvk.kind}`;
  switch (key) {
    case '/Pod':
      applyPodSpecDefaults(obj.spec);
      break;
    case '/PodTemplate':
      templateSpec(obj, 'template', 'spec');
      break;
    case '/ReplicationController':
      templateSpec(obj, 'spec', 'template', 'spec');
      break;
    case '/Service': {
      const spec = child(obj, 'spec');
      setIfAbsent(spec, 'type', 'ClusterIP');
      if (spec.type !== 'ExternalName') {
        setIfAbsent(spec, 'sessionAffinity', 'None');
        setIfAbsent(spec, 'internalTrafficPolicy', 'Cluster');
        if (spec.clusterIP !== 'None' || spec.selector) {
          setIfAbsent(spec, 'ipFamilies', ['IPv4']);
          setIfAbsent(spec, 'ipFamilyPolicy', 'SingleStack');
        }
      }
      if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') setIfAbsent(spec, 'externalTrafficPolicy', 'Cluster');
      if (spec.type === 'LoadBalancer') setIfAbsent(spec, 'allocateLoadBalancerNodePorts', true);
      for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
        if (!isObj(p)) continue;
        setIfAbsent(p, 'protocol', 'TCP');
        // An unset target port (or Go's zero IntOrString) means "the same as port".
        if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
      }
      break;
    }
    case '/Endpoints':
      for (const s of Array.isArray(obj.subsets) ? obj.subsets : []) {
        for (const p of isObj(s) && Array.isArray(s.ports) ? s.ports : []) if (isObj(p)) setIfAbsent(p, 'protocol', 'TCP');
      }
      break;
    case '/Secret': {
      setIfAbsent(obj, 'type', 'Opaque');
      // stringData is write-only: it is folded into data, winning over data's value for a key.
      if (isObj(obj.stringData)) {
        const data = child(obj, 'data');
        for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
        delete obj.stringData;
      }
      break;
    }
    case '/Namespace': {
      const spec = child(obj, 'spec');
      setIfAbsent(spec, 'finalizers', ['kubernetes']);
      setIfAbsent(child(obj, 'status'), 'phase', 'Active');
      break;
    }
    case '/PersistentVolumeClaim':
      setIfAbsent(child(obj, 'spec'), 'volumeMode', 'Filesystem');
      setIfAbsent(child(obj, 'status'), 'phase', 'Pending');
      break;
    case '/PersistentVolume': {
      const spec = child(obj, 'spec');
      setIfAbsent(spec, 'persistentVolumeReclaimPolicy', 'Retain');
      setIfAbsent(spec, 'volumeMode', 'Filesystem');
      setIfAbsent(child(obj, 'status'), 'phase', 'Pending');
      break;
    }
    case 'apps/Deployment': {
      const spec = child(obj, 'spec');
      setIfAbsent(spec, 'replicas', 1);
      const strategy = child(spec, 'strategy');
      setIfAbsent(strategy, 'type', 'RollingUpdate');
      if (strategy.type === 'RollingUpdate') {
        const ru = child(strategy, 'rollingUpdate');
        setIfAbsent(ru, 'maxUnavailable', '25%');
        setIfAbsent(ru, 'maxSurge', '25%');
      }
      setIfAbsent(spec, 'revisionHistoryLimit', 10);
      setIfAbsent(spec, 'progressDeadlineSeconds', 600);
      templateSpec(obj, 'spec', 'template', 'spec');
      break;
    }
    case 'apps/ReplicaSet':
      setIfAbsent(child(obj, 'spec'), 'replicas', 1);
      templateSpec(obj, 'spec', 'template', 'spec');
      break;
    case 'apps/StatefulSet': {
      const spec = child(obj, 'spec');
      setIfAbsent(spec, 'replicas', 1);
      setIfAbsent(spec, 'podManagementPolicy', 'OrderedReady');
      const us = child(spec, 'updateStrategy');
      setIfAbsent(us, 'type', 'RollingUpdate');
      if (us.type === 'RollingUpdate') setIfAbsent(child(us, 'rollingUpdate'), 'partition', 0);
      setIfAbsent(spec, 'revisionHistoryLimit', 10);
      const retention = child(spec, 'persistentVolumeClaimRetentionPolicy');
      setIfAbsent(retention, 'whenDeleted', 'Retain');
      setIfAbsent(retention, 'whenScaled', 'Retain');
      for (const t of Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : []) {
        if (isObj(t)) setIfAbsent(child(t, 'spec'), 'volumeMode', 'Filesystem');
      }
      templateSpec(obj, 'spec', 'template', 'spec');
      break;
    }
    case 'apps/DaemonSet': {
      const spec = child(obj, 'spec');
      const us = child(spec, 'updateStrategy');
      setIfAbsent(us, 'type', 'RollingUpdate');
      if (us.type === 'RollingUpdate') {
        const ru = child(us, 'rollingUpdate');
        setIfAbsent(ru, 'maxUnavailable', 1);
        setIfAbsent(ru, 'maxSurge', 0);
      }
      setIfAbsent(spec, 'revisionHistoryLimit', 10);
      templateSpec(obj, 'spec', 'template', 'spec');
      break;
    }
    case 'batch/Job':
      defaultJobSpec(child(obj, 'spec'));
      break;
    case 'batch/CronJob': {
      const spec = child(obj, 'spec');
      setIfAbsent(spec, 'concurrencyPolicy', 'Allow');
      setIfAbsent(spec, 'suspend', false);
      setIfAbsent(spec, 'successfulJobsHistoryLimit', 3);
      setIfAbsent(spec, 'failedJobsHistoryLimit', 1);
      if (isObj(spec.jobTemplate)) defaultJobSpec(child(spec.jobTemplate, 'spec'));
      break;
    }
    case 'storage.k8s.io/StorageClass':
      setIfAbsent(obj, 'reclaimPolicy', 'Delete');
      setIfAbsent(obj, 'volumeBindingMode', 'Immediate');
      break;
    case 'networking.k8s.io/NetworkPolicy': {
      const spec = child(obj, 'spec');
      if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) {
        spec.policyTypes = Array.isArray(spec.egress) && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
      }
      for (const dir of ['ingress', 'egress']) {
        for (const rule of Array.isArray(spec[dir]) ? spec[dir] : []) {
          for (const p of isObj(rule) && Array.isArray(rule.ports) ? rule.ports : []) if (isObj(p)) setIfAbsent(p, 'protocol', 'TCP');
        }
      }
      break;
    }
    case 'networking.k8s.io/Ingress':
      break;
    case 'discovery.k8s.io/EndpointSlice':
      for (const p of Array.isArray(obj.ports) ? obj.ports : []) if (isObj(p)) setIfAbsent(p, 'protocol', 'TCP');
      break;
    case 'rbac.authorization.k8s.io/RoleBinding':
    case 'rbac.authorization.k8s.io/ClusterRoleBinding':
      for (const s of Array.isArray(obj.subjects) ? obj.subjects : []) {
        if (isObj(s) && (s.kind === 'User' || s.kind === 'Group')) setIfAbsent(s, 'apiGroup', 'rbac.authorization.k8s.io');
      }
      break;
    case 'apiextensions.k8s.io/CustomResourceDefinition': {
      const spec = child(obj, 'spec');
      const names = child(spec, 'names');
      if (typeof names.kind === 'string') {
        setIfAbsent(names, 'singular', names.kind.toLowerCase());
        setIfAbsent(names, 'listKind', `${names.kind}List`);
      }
      setIfAbsent(child(spec, 'conversion'), 'strategy', 'None');
      break;
    }
    case 'settings.k8s.io/PodPreset':
      break;
    default:
      break;
  }
}

function defaultJobSpec(spec: Obj): void {
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setIfAbsent(spec, 'parallelism', 1);
  setIfAbsent(spec, 'backoffLimit', 6);
  setIfAbsent(spec, 'completionMode', 'NonIndexed');
  setIfAbsent(spec, 'suspend', false);
  setIfAbsent(spec, 'podReplacementPolicy', spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed');
  // A pod-condition pattern without a status means status True.
  if (isObj(spec.podFailurePolicy) && Array.isArray(spec.podFailurePolicy.rules)) {
    for (const rule of spec.podFailurePolicy.rules) {
      if (isObj(rule) && Array.isArray(rule.onPodConditions)) for (const p of rule.onPodConditions) if (isObj(p)) setIfAbsent(p, 'status', 'True');
    }
  }
  if (isObj(spec.template) && isObj(spec.template.spec)) applyPodSpecDefaults(spec.template.spec);
}

/**
 * Structural defaulting of custom resources: fills every field a CRD's openAPIV3Schema gives a
 * `default` for and the object leaves unset, then descends into objects, array items and map
 * values (defaults of a nested field apply only where its parent exists, as upstream does).
 */
export function applySchemaDefaults(schema: unknown, obj: unknown): void {
  if (!isObj(schema)) return;
  if (Array.isArray(obj)) {
    for (const item of obj) applySchemaDefaults(schema.items, item);
    return;
  }
  if (!isObj(obj)) return;
  const props = isObj(schema.properties) ? schema.properties : {};
  for (const [name, prop] of Object.entries(props)) {
    if (!isObj(prop)) continue;
    if (obj[name] === undefined && prop.default !== undefined) obj[name] = structuredClone(prop.default);
    if (obj[name] !== undefined) applySchemaDefaults(prop, obj[name]);
  }
  if (isObj(schema.additionalProperties)) {
    for (const [name, value] of Object.entries(obj)) if (!(name in props)) applySchemaDefaults(schema.additionalProperties, value);
  }
}

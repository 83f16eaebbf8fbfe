// Server-side Tables for `kubectl get` (kube-api-compat §3): the same columns upstream's printers
// (pkg/printers/internalversion) show for each built-in kind, additionalPrinterColumns for custom
// resources, NAME/AGE for the rest. Rows carry PartialObjectMetadata unless includeObject says otherwise.
import { apiVersionOf } from '../../api/scheme';
import type { ServedResource, PrinterColumn } from './resources';
import { labelSelectorToString } from './selectors';

export interface ColumnDefinition { name: string; type: string; format: string; description: string; priority: number }

type Cell = string | number | boolean;
interface Printer { columns: Array<[name: string, type: string, priority?: number, format?: string]>; row(obj: any, now: number): Cell[] }

export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/i.test(accept) && /g=meta\.k8s\.io/i.test(accept);
}

export function wantsPartialMetadata(accept: string | undefined): boolean {
  if (!accept || wantsTable(accept)) return false;
  const first = accept.split(',')[0] ?? '';
  return /as=PartialObjectMetadata/i.test(first);
}

export function toPartialObjectMetadata(obj: any): any {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj?.metadata ?? {} };
}

/** kubectl's human durations (apimachinery duration.HumanDuration). */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 192) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (d < 365 * 8) return (d % 365) === 0 ? `${y}y` : `${y}y${d % 365}d`;
  return `${y}y`;
}

function age(obj: any, now: number): string {
  const t = obj?.metadata?.creationTimestamp;
  if (!t) return '<unknown>';
  return humanDuration(now - Date.parse(t));
}

function since(t: string | undefined, now: number): string {
  return t ? humanDuration(now - Date.parse(t)) : '<unknown>';
}

/** kubectl's Selector column: upstream's FormatLabelSelector, `<none>` when empty. */
function selectorText(sel: any): string {
  return labelSelectorToString(sel) || '<none>';
}

function mapText(m: Record<string, string> | undefined): string {
  const e = Object.entries(m ?? {});
  return e.length ? e.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

function containersAndImages(spec: any): [string, string] {
  const cs: any[] = spec?.template?.spec?.containers ?? spec?.jobTemplate?.spec?.template?.spec?.containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image).join(',')];
}

function podStatusReason(pod: any): string {
  const st = pod.status ?? {};
  let reason: string = st.reason || st.phase || 'Unknown';
  const initStatuses: any[] = st.initContainerStatuses ?? [];
  let initializing = false;
  initStatuses.forEach((c, i) => {
    if (c.state?.terminated?.exitCode === 0) return;
    if (c.state?.terminated) { reason = c.state.terminated.reason ? `Init:${c.state.terminated.reason}` : `Init:ExitCode:${c.state.terminated.exitCode}`; initializing = true; return; }
    if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') { reason = `Init:${c.state.waiting.reason}`; initializing = true; return; }
    reason = `Init:${i}/${(pod.spec?.initContainers ?? []).length}`;
    initializing = true;
  });
  if (!initializing) {
    let hasRunning = false;
    for (const c of [...(st.containerStatuses ?? [])].reverse()) {
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state?.terminated) reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.ready && c.state?.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = (st.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  }
  if (pod.metadata?.deletionTimestamp) reason = st.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

function podRestarts(pod: any, now: number): string {
  let restarts = 0;
  let last: number | undefined;
  for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    restarts += c.restartCount ?? 0;
    const t = c.lastState?.terminated?.finishedAt;
    if (t) { const v = Date.parse(t); if (last === undefined || v > last) last = v; }
  }
  return last !== undefined && restarts > 0 ? `${restarts} (${humanDuration(now - last)} ago)` : String(restarts);
}

function ports(svc: any): string {
  const ps: any[] = svc.spec?.ports ?? [];
  if (ps.length === 0) return '<none>';
  return ps.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function externalIp(svc: any): string {
  const spec = svc.spec ?? {};
  const ext: string[] = spec.externalIPs ?? [];
  switch (spec.type) {
    case 'ExternalName': return spec.externalName ?? '<none>';
    case 'LoadBalancer': {
      const ing = (svc.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip || i.hostname);
      const all = [...ing, ...ext];
      return all.length ? all.join(',') : '<pending>';
    }
    default: return ext.length ? ext.join(',') : '<none>';
  }
}

function nodeStatus(node: any): string {
  const ready = (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const parts = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(node: any): string {
  const roles = Object.keys(node.metadata?.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice('node-role.kubernetes.io/'.length)).filter(Boolean);
  const kr = node.metadata?.labels?.['kubernetes.io/role'];
  if (kr) roles.push(kr);
  return roles.length ? roles.sort().join(',') : '<none>';
}

function nodeAddress(node: any, type: string): string {
  return (node.status?.addresses ?? []).find((a: any) => a.type === type)?.address ?? '<none>';
}

function count(n: unknown): number { return typeof n === 'number' ? n : 0; }

const N = 'Name';
const printers: Record<string, Printer> = {
  '/Pod': {
    columns: [[N, 'string'], ['Ready', 'string'], ['Status', 'string'], ['Restarts', 'string'], ['Age', 'string'], ['IP', 'string', 1], ['Node', 'string', 1], ['Nominated Node', 'string', 1], ['Readiness Gates', 'string', 1]],
    row: (p, now) => {
      const cs: any[] = p.status?.containerStatuses ?? [];
      const total = (p.spec?.containers ?? []).length;
      const ready = cs.filter((c) => c.ready).length;
      const gates: any[] = p.spec?.readinessGates ?? [];
      const gatesText = gates.length ? `${gates.filter((g) => (p.status?.conditions ?? []).some((c: any) => c.type === g.conditionType && c.status === 'True')).length}/${gates.length}` : '<none>';
      return [p.metadata.name, `${ready}/${total}`, podStatusReason(p), podRestarts(p, now), age(p, now), p.status?.podIP || '<none>', p.spec?.nodeName || '<none>', p.status?.nominatedNodeName || '<none>', gatesText];
    },
  },
  '/Namespace': { columns: [[N, 'string'], ['Status', 'string'], ['Age', 'string']], row: (o, now) => [o.metadata.name, o.status?.phase ?? '', age(o, now)] },
  '/Node': {
    columns: [[N, 'string'], ['Status', 'string'], ['Roles', 'string'], ['Age', 'string'], ['Version', 'string'], ['Internal-IP', 'string', 1], ['External-IP', 'string', 1], ['OS-Image', 'string', 1], ['Kernel-Version', 'string', 1], ['Container-Runtime', 'string', 1]],
    row: (o, now) => {
      const ni = o.status?.nodeInfo ?? {};
      return [o.metadata.name, nodeStatus(o), nodeRoles(o), age(o, now), ni.kubeletVersion ?? '', nodeAddress(o, 'InternalIP'), nodeAddress(o, 'ExternalIP'), ni.osImage || '<unknown>', ni.kernelVersion || '<unknown>', ni.containerRuntimeVersion || '<unknown>'];
    },
  },
  '/Service': {
    columns: [[N, 'string'], ['Type', 'string'], ['Cluster-IP', 'string'], ['External-IP', 'string'], ['Port(s)', 'string'], ['Age', 'string'], ['Selector', 'string', 1]],
    row: (o, now) => [o.metadata.name, o.spec?.type ?? 'ClusterIP', o.spec?.clusterIP || '<none>', externalIp(o), ports(o), age(o, now), mapText(o.spec?.selector)],
  },
  '/ConfigMap': { columns: [[N, 'string'], ['Data', 'integer'], ['Age', 'string']], row: (o, now) => [o.metadata.name, Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, age(o, now)] },
  '/Secret': { columns: [[N, 'string'], ['Type', 'string'], ['Data', 'integer'], ['Age', 'string']], row: (o, now) => [o.metadata.name, o.type ?? 'Opaque', Object.keys(o.data ?? {}).length, age(o, now)] },
  '/ServiceAccount': { columns: [[N, 'string'], ['Secrets', 'string'], ['Age', 'string']], row: (o, now) => [o.metadata.name, (o.secrets ?? []).length, age(o, now)] },
  '/Endpoints': {
    columns: [[N, 'string'], ['Endpoints', 'string'], ['Age', 'string']],
    row: (o, now) => {
      const eps: string[] = [];
      for (const s of o.subsets ?? []) for (const a of s.addresses ?? []) for (const p of s.ports ?? [{}]) eps.push(p.port ? `${a.ip}:${p.port}` : a.ip);
      const text = eps.length === 0 ? '<none>' : eps.length > 3 ? `${eps.slice(0, 3).join(',')} + ${eps.length - 3} more...` : eps.join(',');
      return [o.metadata.name, text, age(o, now)];
    },
  },
  '/Event': {
    columns: [['Last Seen', 'string'], ['Type', 'string'], ['Reason', 'string'], ['Object', 'string'], ['Subobject', 'string', 1], ['Source', 'string', 1], ['Message', 'string'], ['First Seen', 'string', 1], ['Count', 'string', 1], [N, 'string', 1]],
    row: (e, now) => {
      const io = e.involvedObject ?? {};
      const last = e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
      const first = e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
      const src = e.source?.component ? `${e.source.component}${e.source.host ? `, ${e.source.host}` : ''}` : e.reportingComponent ?? '';
      return [since(last, now), e.type ?? '', e.reason ?? '', `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`, io.fieldPath ?? '', src, String(e.message ?? '').trim(), since(first, now), String(e.count ?? 1), e.metadata.name];
    },
  },
  '/PersistentVolume': {
    columns: [[N, 'string'], ['Capacity', 'string'], ['Access Modes', 'string'], ['Reclaim Policy', 'string'], ['Status', 'string'], ['Claim', 'string'], ['StorageClass', 'string'], ['VolumeAttributesClass', 'string'], ['Reason', 'string'], ['Age', 'string'], ['VolumeMode', 'string', 1]],
    row: (o, now) => [o.metadata.name, o.spec?.capacity?.storage ?? '', accessModes(o.spec?.accessModes), o.spec?.persistentVolumeReclaimPolicy ?? '', o.status?.phase ?? '', o.spec?.claimRef ? `${o.spec.claimRef.namespace}/${o.spec.claimRef.name}` : '', o.spec?.storageClassName ?? '', o.spec?.volumeAttributesClassName ?? '<unset>', o.status?.reason ?? '', age(o, now), o.spec?.volumeMode ?? 'Filesystem'],
  },
  '/PersistentVolumeClaim': {
    columns: [[N, 'string'], ['Status', 'string'], ['Volume', 'string'], ['Capacity', 'string'], ['Access Modes', 'string'], ['StorageClass', 'string'], ['VolumeAttributesClass', 'string'], ['Age', 'string'], ['VolumeMode', 'string', 1]],
    row: (o, now) => [o.metadata.name, o.status?.phase ?? '', o.spec?.volumeName ?? '', o.status?.capacity?.storage ?? '', accessModes(o.status?.accessModes), o.spec?.storageClassName ?? '', o.spec?.volumeAttributesClassName ?? '<unset>', age(o, now), o.spec?.volumeMode ?? 'Filesystem'],
  },
  '/LimitRange': { columns: [[N, 'string'], ['Created At', 'date']], row: (o) => [o.metadata.name, o.metadata.creationTimestamp] },
  '/ResourceQuota': {
    columns: [[N, 'string'], ['Age', 'string'], ['Request', 'string'], ['Limit', 'string']],
    row: (o, now) => {
      const hard = o.status?.hard ?? o.spec?.hard ?? {};
      const used = o.status?.used ?? {};
      const fmt = (pred: (k: string) => boolean): string => Object.keys(hard).filter(pred).sort().map((k) => `${k}: ${used[k] ?? '0'}/${hard[k]}`).join(', ');
      return [o.metadata.name, age(o, now), fmt((k) => !k.startsWith('limits.')), fmt((k) => k.startsWith('limits.'))];
    },
  },
  'apps/Deployment': {
    columns: [[N, 'string'], ['Ready', 'string'], ['Up-to-date', 'integer'], ['Available', 'integer'], ['Age', 'string'], ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    row: (o, now) => { const [c, i] = containersAndImages(o.spec); return [o.metadata.name, `${count(o.status?.readyReplicas)}/${o.spec?.replicas ?? 1}`, count(o.status?.updatedReplicas), count(o.status?.availableReplicas), age(o, now), c, i, selectorText(o.spec?.selector)]; },
  },
  'apps/ReplicaSet': {
    columns: [[N, 'string'], ['Desired', 'integer'], ['Current', 'integer'], ['Ready', 'integer'], ['Age', 'string'], ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    row: (o, now) => { const [c, i] = containersAndImages(o.spec); return [o.metadata.name, o.spec?.replicas ?? 1, count(o.status?.replicas), count(o.status?.readyReplicas), age(o, now), c, i, selectorText(o.spec?.selector)]; },
  },
  'apps/StatefulSet': {
    columns: [[N, 'string'], ['Ready', 'string'], ['Age', 'string'], ['Containers', 'string', 1], ['Images', 'string', 1]],
    row: (o, now) => { const [c, i] = containersAndImages(o.spec); return [o.metadata.name, `${count(o.status?.readyReplicas)}/${o.spec?.replicas ?? 1}`, age(o, now), c, i]; },
  },
  'apps/DaemonSet': {
    columns: [[N, 'string'], ['Desired', 'integer'], ['Current', 'integer'], ['Ready', 'integer'], ['Up-to-date', 'integer'], ['Available', 'integer'], ['Node Selector', 'string'], ['Age', 'string'], ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    row: (o, now) => { const [c, i] = containersAndImages(o.spec); const st = o.status ?? {}; return [o.metadata.name, count(st.desiredNumberScheduled), count(st.currentNumberScheduled), count(st.numberReady), count(st.updatedNumberScheduled), count(st.numberAvailable), mapText(o.spec?.template?.spec?.nodeSelector), age(o, now), c, i, selectorText(o.spec?.selector)]; },
  },
  'apps/ControllerRevision': { columns: [[N, 'string'], ['Controller', 'string'], ['Revision', 'integer'], ['Age', 'string']], row: (o, now) => { const c = (o.metadata.ownerReferences ?? []).find((r: any) => r.controller); return [o.metadata.name, c ? `${String(c.kind).toLowerCase()}.${String(c.apiVersion).split('/')[0]}/${c.name}` : '<none>', o.revision ?? 0, age(o, now)]; } },
  'batch/Job': {
    columns: [[N, 'string'], ['Status', 'string'], ['Completions', 'string'], ['Duration', 'string'], ['Age', 'string'], ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    row: (o, now) => {
      const st = o.status ?? {};
      const conds: any[] = st.conditions ?? [];
      const has = (t: string): boolean => conds.some((c) => c.type === t && c.status === 'True');
      const status = has('Complete') ? 'Complete' : has('Failed') ? 'Failed' : o.metadata.deletionTimestamp ? 'Terminating' : has('Suspended') ? 'Suspended' : has('FailureTarget') ? 'FailureTarget' : has('SuccessCriteriaMet') ? 'SuccessCriteriaMet' : 'Running';
      const completions = o.spec?.completions !== undefined && o.spec?.completions !== null ? `${count(st.succeeded)}/${o.spec.completions}` : o.spec?.parallelism > 1 ? `${count(st.succeeded)}/1 of ${o.spec.parallelism}` : `${count(st.succeeded)}/1`;
      const dur = st.startTime ? humanDuration((st.completionTime ? Date.parse(st.completionTime) : now) - Date.parse(st.startTime)) : '';
      const [c, i] = containersAndImages(o.spec);
      return [o.metadata.name, status, completions, dur, age(o, now), c, i, selectorText(o.spec?.selector)];
    },
  },
  'batch/CronJob': {
    columns: [[N, 'string'], ['Schedule', 'string'], ['Timezone', 'string'], ['Suspend', 'boolean'], ['Active', 'integer'], ['Last Schedule', 'string'], ['Age', 'string'], ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    row: (o, now) => { const [c, i] = containersAndImages(o.spec); return [o.metadata.name, o.spec?.schedule ?? '', o.spec?.timeZone ?? '<none>', !!o.spec?.suspend, (o.status?.active ?? []).length, o.status?.lastScheduleTime ? since(o.status.lastScheduleTime, now) : '<none>', age(o, now), c, i, selectorText(o.spec?.jobTemplate?.spec?.selector)]; },
  },
  'networking.k8s.io/Ingress': {
    columns: [[N, 'string'], ['Class', 'string'], ['Hosts', 'string'], ['Address', 'string'], ['Ports', 'string'], ['Age', 'string']],
    row: (o, now) => {
      const hosts = (o.spec?.rules ?? []).map((r: any) => r.host).filter(Boolean);
      const addr = (o.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip || i.hostname).join(',');
      return [o.metadata.name, o.spec?.ingressClassName ?? '<none>', hosts.length ? hosts.join(',') : '*', addr, (o.spec?.tls ?? []).length ? '80, 443' : '80', age(o, now)];
    },
  },
  'networking.k8s.io/IngressClass': { columns: [[N, 'string'], ['Controller', 'string'], ['Parameters', 'string'], ['Age', 'string']], row: (o, now) => [o.metadata.name, o.spec?.controller ?? '', o.spec?.parameters ? `${o.spec.parameters.kind}/${o.spec.parameters.name}` : '<none>', age(o, now)] },
  'networking.k8s.io/NetworkPolicy': { columns: [[N, 'string'], ['Pod-Selector', 'string'], ['Age', 'string']], row: (o, now) => [o.metadata.name, selectorText(o.spec?.podSelector) === '<none>' ? '<none>' : selectorText(o.spec?.podSelector), age(o, now)] },
  'policy/PodDisruptionBudget': {
    columns: [[N, 'string'], ['Min Available', 'string'], ['Max Unavailable', 'string'], ['Allowed Disruptions', 'integer'], ['Age', 'string']],
    row: (o, now) => [o.metadata.name, o.spec?.minAvailable !== undefined ? String(o.spec.minAvailable) : 'N/A', o.spec?.maxUnavailable !== undefined ? String(o.spec.maxUnavailable) : 'N/A', count(o.status?.disruptionsAllowed), age(o, now)],
  },
  'rbac.authorization.k8s.io/Role': { columns: [[N, 'string'], ['Created At', 'date']], row: (o) => [o.metadata.name, o.metadata.creationTimestamp] },
  'rbac.authorization.k8s.io/ClusterRole': { columns: [[N, 'string'], ['Created At', 'date']], row: (o) => [o.metadata.name, o.metadata.creationTimestamp] },
  'rbac.authorization.k8s.io/RoleBinding': {
    columns: [[N, 'string'], ['Role', 'string'], ['Age', 'string'], ['Users', 'string', 1], ['Groups', 'string', 1], ['ServiceAccounts', 'string', 1]],
    row: (o, now) => bindingRow(o, now),
  },
  'rbac.authorization.k8s.io/ClusterRoleBinding': {
    columns: [[N, 'string'], ['Role', 'string'], ['Age', 'string'], ['Users', 'string', 1], ['Groups', 'string', 1], ['ServiceAccounts', 'string', 1]],
    row: (o, now) => bindingRow(o, now),
  },
  'storage.k8s.io/StorageClass': {
    columns: [[N, 'string'], ['Provisioner', 'string'], ['ReclaimPolicy', 'string'], ['VolumeBindingMode', 'string'], ['AllowVolumeExpansion', 'string'], ['Age', 'string']],
    row: (o, now) => [o.metadata.name + (o.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true' ? ' (default)' : ''), o.provisioner ?? '', o.reclaimPolicy ?? 'Delete', o.volumeBindingMode ?? 'Immediate', String(!!o.allowVolumeExpansion), age(o, now)],
  },
  'scheduling.k8s.io/PriorityClass': {
    columns: [[N, 'string'], ['Value', 'integer'], ['Global-Default', 'boolean'], ['Age', 'string'], ['PreemptionPolicy', 'string']],
    row: (o, now) => [o.metadata.name, o.value ?? 0, o.globalDefault === true, age(o, now), o.preemptionPolicy ?? ''],
  },
  'coordination.k8s.io/Lease': { columns: [[N, 'string'], ['Holder', 'string'], ['Age', 'string']], row: (o, now) => [o.metadata.name, o.spec?.holderIdentity ?? '', age(o, now)] },
  'discovery.k8s.io/EndpointSlice': {
    columns: [[N, 'string'], ['AddressType', 'string'], ['Ports', 'string'], ['Endpoints', 'string'], ['Age', 'string']],
    row: (o, now) => {
      const ps: any[] = o.ports ?? [];
      const addrs: string[] = (o.endpoints ?? []).flatMap((e: any) => e.addresses ?? []);
      return [o.metadata.name, o.addressType ?? '', ps.length ? ps.map((p) => String(p.port ?? '')).join(',') : '<unset>', addrs.length ? (addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',')) : '<unset>', age(o, now)];
    },
  },
  'events.k8s.io/Event': {
    columns: [['Last Seen', 'string'], ['Type', 'string'], ['Reason', 'string'], ['Object', 'string'], ['Message', 'string']],
    row: (e, now) => [since(e.deprecatedLastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp, now), e.type ?? '', e.reason ?? '', `${String(e.regarding?.kind ?? '').toLowerCase()}/${e.regarding?.name ?? ''}`, e.note ?? ''],
  },
  'apiextensions.k8s.io/CustomResourceDefinition': { columns: [[N, 'string'], ['Created At', 'date']], row: (o) => [o.metadata.name, o.metadata.creationTimestamp] },
};

function accessModes(modes: string[] | undefined): string {
  const short: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
  return (modes ?? []).map((m) => short[m] ?? m).join(',');
}

function bindingRow(o: any, now: number): Cell[] {
  const subs: any[] = o.subjects ?? [];
  const users = subs.filter((s) => s.kind === 'User').map((s) => s.name).join(', ');
  const groups = subs.filter((s) => s.kind === 'Group').map((s) => s.name).join(', ');
  const sas = subs.filter((s) => s.kind === 'ServiceAccount').map((s) => `${s.namespace ?? ''}/${s.name}`).join(', ');
  return [o.metadata.name, `${o.roleRef?.kind ?? ''}/${o.roleRef?.name ?? ''}`, age(o, now), users, groups, sas];
}

const DESCRIPTIONS: Record<string, string> = {
  Name: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
  Age: "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
};

/** NAME/AGE plus additionalPrinterColumns, as the CRD handler prints custom resources. */
function customPrinter(cols: PrinterColumn[]): Printer {
  const custom = cols.filter((c) => c.jsonPath !== '.metadata.creationTimestamp' || c.name.toLowerCase() !== 'age');
  const hasAge = cols.length === 0 || cols.some((c) => c.jsonPath === '.metadata.creationTimestamp');
  return {
    columns: [[N, 'string'], ...custom.map((c): [string, string, number, string] => [c.name, c.type, c.priority ?? 0, c.format ?? '']), ...(hasAge ? [['Age', 'date'] as [string, string]] : [])],
    row: (o, now) => [o.metadata.name, ...custom.map((c) => cellFor(getJsonPath(o, c.jsonPath), c.type, now)), ...(hasAge ? [age(o, now)] : [])],
  };
}

function getJsonPath(obj: any, path: string): unknown {
  const p = path.replace(/^\{?\.?/, '').replace(/\}$/, '');
  let v: any = obj;
  for (const seg of p.split('.').filter(Boolean)) {
    const m = /^([^[]+)(?:\[(\d+)\])?$/.exec(seg);
    if (!m) return undefined;
    v = v?.[m[1]!];
    if (m[2] !== undefined) v = v?.[Number(m[2])];
  }
  return v;
}

function cellFor(v: unknown, type: string, now: number): Cell {
  if (v === undefined || v === null) return '<none>' as Cell;
  if (type === 'date' && typeof v === 'string') return humanDuration(now - Date.parse(v));
  if (typeof v === 'object') return JSON.stringify(v);
  return v as Cell;
}

const DEFAULT_PRINTER: Printer = { columns: [[N, 'string'], ['Age', 'string']], row: (o, now) => [o.metadata?.name ?? '', age(o, now)] };

function printerFor(r: ServedResource): Printer {
  if (r.custom) return customPrinter(r.custom.printerColumns);
  return printers[`${r.group}/${r.kind}`] ?? DEFAULT_PRINTER;
}

export function columnDefinitions(r: ServedResource): ColumnDefinition[] {
  return printerFor(r).columns.map(([name, type, priority, format]) => ({
    name, type, format: format ?? (name === 'Name' ? 'name' : ''), description: DESCRIPTIONS[name] ?? name, priority: priority ?? 0,
  }));
}

function rowObject(r: ServedResource, obj: any, includeObject: string): any {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(r), kind: obj.kind ?? r.kind };
  return toPartialObjectMetadata(obj);
}

/** A meta.k8s.io/v1 Table of objects. */
export function toTable(r: ServedResource, items: any[], meta: { resourceVersion?: string; continue?: string; remainingItemCount?: number }, includeObject: string, withHeaders: boolean): any {
  const p = printerFor(r);
  const now = Date.now();
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: meta.resourceVersion, ...(meta.continue ? { continue: meta.continue } : {}), ...(meta.remainingItemCount !== undefined ? { remainingItemCount: meta.remainingItemCount } : {}) },
    ...(withHeaders ? { columnDefinitions: columnDefinitions(r) } : {}),
    rows: items.map((o) => ({ cells: p.row(o, now), object: rowObject(r, o, includeObject) })),
  };
}

/** One-row Table for a watch event; only the first event of a stream carries the column definitions. */
export function tableForWatchEvent(r: ServedResource, obj: any, includeObject: string, withHeaders: boolean): any {
  const t = toTable(r, [obj], { resourceVersion: obj?.metadata?.resourceVersion }, includeObject, withHeaders);
  if (!withHeaders) t.columnDefinitions = null;
  return t;
}

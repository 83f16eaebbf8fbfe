// Endpoints and EndpointSlice controllers: for every Service with a selector, the pods it selects
// become addresses (ready ones, or all with publishNotReadyAddresses), with named target ports
// resolved per pod. Services without a selector (like `kubernetes`) are left to their owners.
import { R, isAlreadyExists, isNotFound, type Informer } from '../client';
import { QueueController, type ControllerContext } from '../controller';
import { fromSet } from '../selectors';
import { clone, splitKey, type KubeObject } from '../types';
import { isPodReady, isPodTerminal, ownerRefFor, stableJSON } from '../util/pods';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface ResolvedPort { name?: string; port: number; protocol: string; appProtocol?: string }

export interface PodEndpoint {
  pod: KubeObject;
  ip: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  ports: ResolvedPort[];
}

/** podutil.FindPort: a numeric targetPort as is; a name looked up in the pod's container ports. */
export function findPort(pod: KubeObject, svcPort: any): number | undefined {
  const tp = svcPort.targetPort ?? svcPort.port;
  if (typeof tp === 'number') return tp;
  if (/^\d+$/.test(tp)) return Number(tp);
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === tp && (p.protocol ?? 'TCP') === (svcPort.protocol ?? 'TCP')) return p.containerPort;
  }
  return undefined;
}

/** The endpoints a Service selects now (shared by both controllers). */
export function podEndpoints(svc: KubeObject, pods: KubeObject[]): PodEndpoint[] {
  const sel = fromSet(svc.spec?.selector);
  const publishNotReady = !!svc.spec?.publishNotReadyAddresses;
  const out: PodEndpoint[] = [];
  for (const pod of pods) {
    if (!sel.matches(pod.metadata.labels) || isPodTerminal(pod)) continue;
    const ip = pod.status?.podIP;
    if (!ip) continue;
    const terminating = !!pod.metadata.deletionTimestamp;
    if (terminating && !publishNotReady) continue;
    const ready = isPodReady(pod);
    const ports: ResolvedPort[] = [];
    let missing = false;
    for (const sp of svc.spec?.ports ?? []) {
      const port = findPort(pod, sp);
      if (port === undefined) { missing = true; continue; }
      ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    if (missing && ports.length === 0) continue;
    out.push({ pod, ip, ready: publishNotReady || ready, serving: ready, terminating, ports });
  }
  return out.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
}

function targetRef(pod: KubeObject): any {
  return { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
}

function hostnameFor(svc: KubeObject, pod: KubeObject): string | undefined {
  return pod.spec?.hostname && pod.spec?.subdomain === svc.metadata.name ? pod.spec.hostname : undefined;
}

function isHeadless(svc: KubeObject): boolean { return svc.spec?.clusterIP === 'None'; }

/** Shared wiring: services and the pods they select feed one queue of service keys. */
abstract class ServiceEndpointsController extends QueueController {
  protected readonly svcInformer: Informer;
  protected readonly podInformer: Informer;

  constructor(name: string, ctx: ControllerContext, component: string) {
    super(name, ctx, component);
    this.svcInformer = this.informer(R.services);
    this.podInformer = this.informer(R.pods);
    this.svcInformer.addEventHandler({ onAdd: (s) => this.enqueue(s), onUpdate: (_o, n) => this.enqueue(n), onDelete: (s) => this.enqueue(s) });
    const podChanged = (p: KubeObject, old?: KubeObject) => {
      for (const s of this.svcInformer.store.list(p.metadata.namespace)) {
        if (!s.spec?.selector) continue;
        const sel = fromSet(s.spec.selector);
        if (sel.matches(p.metadata.labels) || (old && sel.matches(old.metadata.labels))) this.enqueue(s);
      }
    };
    this.podInformer.addEventHandler({ onAdd: (p) => podChanged(p), onUpdate: (o, n) => { if (o !== n) podChanged(n, o); }, onDelete: (p) => podChanged(p) });
  }

  protected selected(svc: KubeObject): PodEndpoint[] {
    return podEndpoints(svc, this.podInformer.store.list(svc.metadata.namespace));
  }
}

export class EndpointsController extends ServiceEndpointsController {
  private readonly epInformer: Informer;

  constructor(ctx: ControllerContext) {
    super('endpoints', ctx, 'endpoint-controller');
    this.epInformer = this.informer(R.endpoints);
    // Someone else changed our Endpoints: put them back.
    this.epInformer.addEventHandler({
      onDelete: (ep) => { const s = this.svcInformer.store.get(ep.metadata.namespace!, ep.metadata.name!); if (s) this.enqueue(s); },
    });
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.svcInformer.store.get(namespace, name);
    if (!svc) {
      try { await this.client.delete(R.endpoints, namespace, name); } catch (e) { if (!isNotFound(e)) throw e; }
      return;
    }
    if (!svc.spec?.selector) return;
    const eps = this.selected(svc);
    // Group addresses by their resolved port set (RepackSubsets).
    const groups = new Map<string, { ports: ResolvedPort[]; addresses: any[]; notReadyAddresses: any[] }>();
    for (const e of eps) {
      const ports = isHeadless(svc) && !(svc.spec.ports ?? []).length ? [] : e.ports;
      if (!ports.length && (svc.spec.ports ?? []).length) continue;
      const k = stableJSON(ports);
      let g = groups.get(k);
      if (!g) { g = { ports, addresses: [], notReadyAddresses: [] }; groups.set(k, g); }
      const addr: any = { ip: e.ip, ...(e.pod.spec?.nodeName ? { nodeName: e.pod.spec.nodeName } : {}), targetRef: targetRef(e.pod) };
      const hn = hostnameFor(svc, e.pod);
      if (hn) addr.hostname = hn;
      (e.ready ? g.addresses : g.notReadyAddresses).push(addr);
    }
    const subsets = [...groups.values()].map((g) => {
      const s: any = {};
      if (g.addresses.length) s.addresses = g.addresses;
      if (g.notReadyAddresses.length) s.notReadyAddresses = g.notReadyAddresses;
      if (g.ports.length) s.ports = g.ports.map((p) => ({ ...p }));
      return s;
    });
    const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
    if (isHeadless(svc)) labels['service.kubernetes.io/headless'] = '';
    const cur = this.epInformer.store.get(namespace, name);
    if (cur) {
      if (stableJSON(cur.subsets ?? []) === stableJSON(subsets) && stableJSON(cur.metadata.labels ?? {}) === stableJSON(labels)) return;
      const next = clone(cur);
      next.subsets = subsets;
      next.metadata.labels = labels;
      await this.client.update(R.endpoints, next);
      return;
    }
    try {
      await this.client.create(R.endpoints, namespace, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels }, subsets });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      this.queue.add(key); // raced with a stale cache: recompute against the existing object
    }
  }
}

export class EndpointSliceController extends ServiceEndpointsController {
  private readonly sliceInformer: Informer;

  constructor(ctx: ControllerContext) {
    super('endpointslice', ctx, 'endpointslice-controller');
    this.sliceInformer = this.informer(R.endpointslices);
    this.sliceInformer.addEventHandler({
      onDelete: (s) => {
        const svcName = s.metadata.labels?.[SERVICE_NAME_LABEL];
        const svc = svcName && this.svcInformer.store.get(s.metadata.namespace!, svcName);
        if (svc) this.enqueue(svc);
      },
    });
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.svcInformer.store.get(namespace, name);
    // Deleted services' slices go with the garbage collector (ownerReferences).
    if (!svc || !svc.spec?.selector) return;
    const existing = this.sliceInformer.store.list(namespace)
      .filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === name && s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY)
      .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
    // One group of slices per distinct resolved port set, at most 100 endpoints each.
    const groups = new Map<string, { ports: ResolvedPort[]; endpoints: any[] }>();
    for (const e of this.selected(svc)) {
      const k = stableJSON(e.ports);
      let g = groups.get(k);
      if (!g) { g = { ports: e.ports, endpoints: [] }; groups.set(k, g); }
      const ep: any = {
        addresses: [e.ip],
        conditions: { ready: e.ready && !e.terminating, serving: e.serving, terminating: e.terminating },
        targetRef: targetRef(e.pod),
      };
      if (e.pod.spec?.nodeName) ep.nodeName = e.pod.spec.nodeName;
      const hn = hostnameFor(svc, e.pod);
      if (hn) ep.hostname = hn;
      g.endpoints.push(ep);
    }
    const desired: Array<{ ports: ResolvedPort[]; endpoints: any[] }> = [];
    for (const g of groups.values()) {
      for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) desired.push({ ports: g.ports, endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
    }
    // A service with no endpoints still gets one (empty) slice, as upstream does.
    if (!desired.length) desired.push({ ports: (svc.spec.ports ?? []).filter((p: any) => typeof (p.targetPort ?? p.port) === 'number').map((p: any) => ({ ...(p.name ? { name: p.name } : {}), port: p.targetPort ?? p.port, protocol: p.protocol ?? 'TCP' })), endpoints: [] });
    const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}), [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY };
    if (isHeadless(svc)) labels['service.kubernetes.io/headless'] = '';
    const ownerRef = ownerRefFor(svc, 'v1', 'Service');
    for (let i = 0; i < desired.length; i++) {
      const d = desired[i];
      const cur = existing[i];
      if (cur) {
        if (stableJSON(cur.endpoints ?? []) === stableJSON(d.endpoints) && stableJSON(cur.ports ?? []) === stableJSON(d.ports)
          && stableJSON(cur.metadata.labels ?? {}) === stableJSON(labels)) continue;
        const next = clone(cur);
        next.endpoints = d.endpoints;
        next.ports = d.ports;
        next.metadata.labels = labels;
        await this.client.update(R.endpointslices, next);
      } else {
        await this.client.create(R.endpointslices, namespace, {
          apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
          metadata: { generateName: `${name}-`, namespace, labels, ownerReferences: [ownerRef] },
          addressType: 'IPv4', endpoints: d.endpoints, ports: d.ports,
        });
      }
    }
    for (const extra of existing.slice(desired.length)) {
      try { await this.client.delete(R.endpointslices, namespace, extra.metadata.name!); } catch (e) { if (!isNotFound(e)) throw e; }
    }
  }
}


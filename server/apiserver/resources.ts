// The table of resources this apiserver serves right now: the built-in ones from api/scheme plus
// the custom resources of every Established CRD. Discovery, routing, OpenAPI and the registry all
// read it; it changes when a CRD does, and listeners (discovery/OpenAPI caches) are told.
import { builtinResources, type ResourceInfo, type SubresourceInfo } from '../../api/scheme';

export interface PrinterColumn { name: string; type: string; format?: string; description?: string; priority?: number; jsonPath: string }

/** What the registry needs to serve a custom resource. */
export interface CustomResourceInfo {
  crdName: string;
  /** The version's openAPIV3Schema. */
  schema?: any;
  statusEnabled: boolean;
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  printerColumns: PrinterColumn[];
  /** Versions of this CR the CRD serves, storage version first. */
  storageVersion: string;
  selectableFields: string[];
}

export interface ServedResource extends ResourceInfo {
  /** Store prefix of every object of this resource, ending with '/'. */
  prefix: string;
  custom?: CustomResourceInfo;
}

/** `/registry/pods/`, `/registry/apps/deployments/`, `/registry/<crd group>/<plural>/` (etcd's layout, group-qualified outside the core group). */
export function storePrefix(group: string, plural: string): string {
  // events.k8s.io Events share core/v1 Events' storage (server/apiserver/events.ts).
  if (group === 'events.k8s.io' && plural === 'events') return '/registry/events/';
  return group === '' ? `/registry/${plural}/` : `/registry/${group}/${plural}/`;
}

export class ResourceTable {
  private builtins: ServedResource[];
  private custom: ServedResource[] = [];
  private byPath = new Map<string, ServedResource>();
  private listeners: Array<() => void> = [];
  private gen = 0;

  constructor() {
    this.builtins = builtinResources.map((r) => ({ ...r, prefix: storePrefix(r.group, r.plural) }));
    this.reindex();
  }

  private reindex(): void {
    this.byPath.clear();
    for (const r of [...this.builtins, ...this.custom]) this.byPath.set(`${r.group}/${r.version}/${r.plural}`, r);
    this.gen++;
  }

  /** Bumped on every change (cache key for discovery and OpenAPI). */
  generation(): number { return this.gen; }

  all(): ServedResource[] { return [...this.builtins, ...this.custom]; }

  customResources(): ServedResource[] { return this.custom; }

  lookup(group: string, version: string, plural: string): ServedResource | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  byKind(group: string, version: string, kind: string): ServedResource | undefined {
    return this.all().find((r) => r.group === group && r.version === version && r.kind === kind);
  }

  /** Whether any served version of the group exists (for /apis/<g>). */
  groupVersions(): Array<{ group: string; versions: string[] }> {
    const out: Array<{ group: string; versions: string[] }> = [];
    for (const r of this.all()) {
      let g = out.find((x) => x.group === r.group);
      if (!g) out.push(g = { group: r.group, versions: [] });
      if (!g.versions.includes(r.version)) g.versions.push(r.version);
    }
    return out;
  }

  onChange(fn: () => void): void { this.listeners.push(fn); }

  /** Replaces the custom resources (computed from the Established CRDs). */
  setCustom(resources: ServedResource[]): void {
    const before = JSON.stringify(this.custom.map((r) => [r.group, r.version, r.plural, r.kind, r.namespaced, r.custom?.schema, r.custom?.printerColumns, r.subresources, r.shortNames, r.categories]));
    const after = JSON.stringify(resources.map((r) => [r.group, r.version, r.plural, r.kind, r.namespaced, r.custom?.schema, r.custom?.printerColumns, r.subresources, r.shortNames, r.categories]));
    this.custom = resources;
    this.reindex();
    if (before !== after) for (const l of this.listeners) l();
  }
}

/** The served resources of one CRD (each served version), or [] when it is not Established. */
export function resourcesOfCrd(crd: any): ServedResource[] {
  const spec = crd?.spec ?? {};
  const names = spec.names ?? {};
  const established = (crd?.status?.conditions ?? []).some((c: any) => c.type === 'Established' && c.status === 'True');
  if (!established || !names.plural || !names.kind || crd?.metadata?.deletionTimestamp) return [];
  const versions: any[] = spec.versions ?? [];
  const storage = versions.find((v) => v.storage)?.name ?? versions[0]?.name;
  return versions.filter((v) => v.served !== false).map((v): ServedResource => {
    const subs: SubresourceInfo[] = [];
    const sr = v.subresources ?? {};
    if (sr.status) subs.push({ name: 'status', verbs: ['get', 'patch', 'update'] });
    if (sr.scale) subs.push({ name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
    return {
      group: spec.group,
      version: v.name,
      kind: names.kind,
      listKind: names.listKind ?? `${names.kind}List`,
      plural: names.plural,
      singular: names.singular ?? names.kind.toLowerCase(),
      namespaced: spec.scope !== 'Cluster',
      shortNames: names.shortNames ?? [],
      categories: names.categories ?? [],
      verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
      subresources: subs,
      definition: `${spec.group.split('.').reverse().join('.')}.${v.name}.${names.kind}`,
      prefix: storePrefix(spec.group, names.plural),
      custom: {
        crdName: crd.metadata.name,
        schema: v.schema?.openAPIV3Schema,
        statusEnabled: !!sr.status,
        scale: sr.scale,
        printerColumns: v.additionalPrinterColumns ?? [],
        storageVersion: storage,
        selectableFields: (v.selectableFields ?? []).map((f: any) => f.jsonPath),
      },
    };
  });
}

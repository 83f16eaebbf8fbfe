// Discovery documents (kube-api-compat §1): legacy /api, /apis, per-group and per-version
// documents, and aggregated discovery (apidiscovery.k8s.io/v2) chosen by the Accept header.
import { createHash } from 'node:crypto';
import type { ResourceTable, ServedResource } from './resources';

export const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

/** Which aggregated format the Accept header asks for, if any (first listed wins). */
export function wantsAggregated(accept: string | undefined): string | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(',')) {
    const p = part.replace(/\s+/g, '').toLowerCase();
    if (p.includes('g=apidiscovery.k8s.io') && p.includes('as=apigroupdiscoverylist')) {
      return p.includes('v=v2beta1') ? AGGREGATED_V2BETA1 : AGGREGATED_V2;
    }
    if (p.startsWith('application/json') && !p.includes('as=')) return undefined;
  }
  return undefined;
}

function subresourcesOf(r: ServedResource): Array<{ name: string; kind: string; group?: string; version?: string; verbs: string[] }> {
  return r.subresources.map((s) => ({ name: s.name, kind: s.kind ?? r.kind, group: s.group, version: s.version, verbs: s.verbs }));
}

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

/** Group order: upstream's priority order for built-ins, then custom groups by name. */
function groups(table: ResourceTable): Array<{ group: string; versions: string[] }> {
  return table.groupVersions().filter((g) => g.group !== '');
}

export function apiGroupList(table: ResourceTable): object {
  return {
    kind: 'APIGroupList', apiVersion: 'v1',
    groups: groups(table).map((g) => apiGroup(g.group, g.versions)),
  };
}

export function apiGroup(group: string, versions: string[]): object {
  return {
    kind: 'APIGroup', apiVersion: 'v1', name: group,
    versions: versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${group}/${versions[0]}`, version: versions[0] },
  };
}

export function apiResourceList(table: ResourceTable, group: string, version: string): object | undefined {
  const rs = table.all().filter((r) => r.group === group && r.version === version);
  if (rs.length === 0) return undefined;
  const resources: object[] = [];
  for (const r of rs) {
    resources.push({
      name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length ? { categories: r.categories } : {}),
      storageVersionHash: storageVersionHash(r),
    });
    for (const s of subresourcesOf(r)) {
      resources.push({
        name: `${r.plural}/${s.name}`, singularName: '', namespaced: r.namespaced, kind: s.kind, verbs: s.verbs,
        ...(s.group !== undefined ? { group: s.group, version: s.version } : {}),
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

function storageVersionHash(r: ServedResource): string {
  // upstream: base64 of the first 8 bytes of sha256("<group>/<version>/<kind>")
  return createHash('sha256').update(`${r.group}/${r.version}/${r.kind}`).digest().subarray(0, 8).toString('base64');
}

function discoveryResource(r: ServedResource): object {
  return {
    resource: r.plural,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
    ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length ? { categories: r.categories } : {}),
    ...(r.subresources.length ? {
      subresources: subresourcesOf(r).map((s) => ({
        subresource: s.name,
        responseKind: { group: s.group ?? r.group, version: s.version ?? r.version, kind: s.kind },
        verbs: s.verbs,
      })),
    } : {}),
  };
}

function discoveryGroup(table: ResourceTable, group: string, versions: string[]): object {
  return {
    metadata: { name: group },
    versions: versions.map((v) => ({
      version: v,
      resources: table.all().filter((r) => r.group === group && r.version === v).map(discoveryResource),
      freshness: 'Current',
    })),
  };
}

/** Aggregated discovery for /api (core only) or /apis (every named group). */
export function aggregated(table: ResourceTable, legacy: boolean, contentType: string): object {
  const apiVersion = contentType === AGGREGATED_V2BETA1 ? 'apidiscovery.k8s.io/v2beta1' : 'apidiscovery.k8s.io/v2';
  const items = legacy ? [discoveryGroup(table, '', ['v1'])] : groups(table).map((g) => discoveryGroup(table, g.group, g.versions));
  return { kind: 'APIGroupDiscoveryList', apiVersion, metadata: {}, items };
}

import { describe, expect, it } from 'vitest';
import {
  apiVersionOf, builtinResources, groupVersions, parseApiVersion, resolveResourceName, resourceFor,
  resourceForKind, resourceForShortName, resourcesInCategory, subresourceKind,
} from '../../api/scheme';

describe('api/scheme', () => {
  it('names every resource of issue 3 once per group/version', { timeout: 5000 }, () => {
    const keys = builtinResources.map((r) => `${r.plural}.${r.group}/${r.version}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of [
      'namespaces./v1', 'pods./v1', 'services./v1', 'endpoints./v1', 'configmaps./v1', 'secrets./v1',
      'serviceaccounts./v1', 'nodes./v1', 'events./v1', 'persistentvolumes./v1', 'persistentvolumeclaims./v1',
      'limitranges./v1', 'resourcequotas./v1', 'deployments.apps/v1', 'replicasets.apps/v1',
      'statefulsets.apps/v1', 'daemonsets.apps/v1', 'controllerrevisions.apps/v1', 'jobs.batch/v1',
      'cronjobs.batch/v1', 'endpointslices.discovery.k8s.io/v1', 'leases.coordination.k8s.io/v1',
      'events.events.k8s.io/v1', 'roles.rbac.authorization.k8s.io/v1', 'clusterroles.rbac.authorization.k8s.io/v1',
      'rolebindings.rbac.authorization.k8s.io/v1', 'clusterrolebindings.rbac.authorization.k8s.io/v1',
      'storageclasses.storage.k8s.io/v1', 'ingresses.networking.k8s.io/v1', 'networkpolicies.networking.k8s.io/v1',
      'ingressclasses.networking.k8s.io/v1', 'poddisruptionbudgets.policy/v1',
      'customresourcedefinitions.apiextensions.k8s.io/v1', 'tokenreviews.authentication.k8s.io/v1',
      'selfsubjectreviews.authentication.k8s.io/v1', 'subjectaccessreviews.authorization.k8s.io/v1',
      'selfsubjectaccessreviews.authorization.k8s.io/v1', 'selfsubjectrulesreviews.authorization.k8s.io/v1',
      'localsubjectaccessreviews.authorization.k8s.io/v1', 'podpresets.settings.k8s.io/v1alpha1',
    ]) expect(keys).toContain(key);
    expect(builtinResources[0].group).toBe('');
  });

  it('resolves kubectl names, short names and group-qualified names', { timeout: 5000 }, () => {
    expect(resolveResourceName('po').map((r) => r.plural)).toEqual(['pods']);
    expect(resolveResourceName('deploy')[0].group).toBe('apps');
    expect(resolveResourceName('Deployment')[0].plural).toBe('deployments');
    expect(resolveResourceName('crds')[0].kind).toBe('CustomResourceDefinition');
    expect(resolveResourceName('ev').map(apiVersionOf)).toEqual(['v1', 'events.k8s.io/v1']);
    expect(resolveResourceName('events.events.k8s.io').map(apiVersionOf)).toEqual(['events.k8s.io/v1']);
    expect(resolveResourceName('nope')).toEqual([]);
    expect(resourceForShortName('netpol')?.kind).toBe('NetworkPolicy');
    expect(resourceFor('apps', 'v1', 'statefulsets')?.shortNames).toEqual(['sts']);
    expect(resourceForKind({ group: '', version: 'v1', kind: 'Namespace' })?.namespaced).toBe(false);
  });

  it('reports upstream verbs, categories and subresources', { timeout: 5000 }, () => {
    expect(resourcesInCategory('all').map((r) => r.plural).sort()).toEqual(
      ['cronjobs', 'daemonsets', 'deployments', 'jobs', 'pods', 'replicasets', 'services', 'statefulsets']);
    const ns = resourceFor('', 'v1', 'namespaces')!;
    expect(ns.verbs).not.toContain('deletecollection');
    expect(resourceFor('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews')?.verbs).toEqual(['create']);
    const pods = resourceFor('', 'v1', 'pods')!;
    expect(pods.subresources.map((s) => s.name)).toEqual(
      ['attach', 'binding', 'ephemeralcontainers', 'eviction', 'exec', 'log', 'portforward', 'proxy', 'status']);
    const deploy = resourceFor('apps', 'v1', 'deployments')!;
    expect(subresourceKind(deploy, 'scale')).toEqual({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    expect(subresourceKind(deploy, 'status')).toEqual({ group: 'apps', version: 'v1', kind: 'Deployment' });
    expect(subresourceKind(resourceFor('', 'v1', 'serviceaccounts')!, 'token'))
      .toEqual({ group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' });
    expect(subresourceKind(pods, 'nope')).toBeUndefined();
  });

  it('names definitions and api versions like upstream', { timeout: 5000 }, () => {
    expect(resourceFor('', 'v1', 'pods')?.definition).toBe('io.k8s.api.core.v1.Pod');
    expect(resourceFor('rbac.authorization.k8s.io', 'v1', 'roles')?.definition).toBe('io.k8s.api.rbac.v1.Role');
    expect(resourceFor('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')?.definition)
      .toBe('io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition');
    expect(resourceFor('discovery.k8s.io', 'v1', 'endpointslices')?.definition).toBe('io.k8s.api.discovery.v1.EndpointSlice');
    expect(parseApiVersion('apps/v1')).toEqual({ group: 'apps', version: 'v1' });
    expect(parseApiVersion('v1')).toEqual({ group: '', version: 'v1' });
    expect(groupVersions().map((g) => apiVersionOf(g))[0]).toBe('v1');
  });
});

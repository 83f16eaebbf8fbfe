// The apiserver assembled: resource table, registry over the store, watch cache, HTTP handler,
// bootstrap objects (default namespaces, the `kubernetes` Service), CRD serving and the
// namespace lifecycle. `createApiServer` gives back the pieces a process (or a test) hosts.
import type { Store } from '../../embedded-store/types';
import { ApiHandler } from './handler';
import { Authenticator } from './auth';
import { OpenApiService } from './openapi';
import { Registry, nowRfc3339, type UserInfo, type WriteContext } from './registry';
import { ResourceTable, resourcesOfCrd } from './resources';
import { ReviewService } from './reviews';
import { ApiError } from './errors';
import { KUBERNETES_SERVICE_IP } from './allocators';
import { LocalClient } from './local-client';
import { createRbac, type RbacAuthorizer } from '../auth';
import { ServiceAccountTokens, TokenError } from '../serviceaccount/tokens';
import { TokenRequestService } from '../serviceaccount/token-request';
import { keyFromPem, type ServiceAccountKey } from '../serviceaccount/keys';
import { EvictionService } from './eviction';
import { LegacyTokenController } from '../serviceaccount/legacy-tokens';
import { generateKeyPairSync } from 'node:crypto';
import { PodAdmission } from '../admission';
import { SYSTEM_PRIORITY_CLASSES, systemPriorityClassObject } from './priorityclass';

export { Registry, ResourceTable, ApiHandler, Authenticator, LocalClient };
export type { UserInfo, WriteContext };
export { ApiError } from './errors';
export type { ObjectEvent, ObjectWatch } from './watchcache';

export interface ApiServerOptions {
  store: Store;
  /** Static bearer tokens (kube-apiserver --token-auth-file format). */
  tokenFile?: string;
  /** `host:port` advertised in /api. */
  serverAddress: string;
  /** The address the `kubernetes` Endpoints point at, and its port. */
  advertiseAddress: string;
  advertisePort: number;
  bookmarkIntervalMs?: number;
  log?: (msg: string) => void;
  /** The cluster CA, written into legacy ServiceAccount token Secrets (`ca.crt`); without it they are not populated. */
  rootCAPem?: string;
  /** Seconds Events live in the store (kube-apiserver --event-ttl); 3600 by default. */
  eventTtlSeconds?: number;
  /** The ServiceAccount token signing key (server/serviceaccount/keys.ts); an ephemeral one if absent. */
  serviceAccountKey?: ServiceAccountKey;
}

export interface ApiServer {
  registry: Registry;
  table: ResourceTable;
  handler: ApiHandler;
  authenticator: Authenticator;
  /** The RBAC authorizer every request goes through (reads memory only). */
  authorizer: RbacAuthorizer;
  /** ServiceAccount tokens: `tokenRequests.request(ns, sa, spec)` mints in-process, `tokens.authenticate` verifies. */
  tokenRequests: TokenRequestService;
  /** pods/eviction: `eviction.evict(ns, pod, deleteOptions, ctx)` honours PodDisruptionBudgets in-process too. */
  eviction: EvictionService;
  /** In-process client for controllers and the scheduler: same admission and validation, no network hop. */
  client: LocalClient;
  ready(): boolean;
  /** Creates the bootstrap objects and loads CRDs; resolves once the server is Ready. */
  start(): Promise<void>;
  stop(): void;
}

/** The identity the server itself writes as (bootstrap objects, namespace lifecycle). */
export const SYSTEM_USER: UserInfo = { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };

export function systemContext(manager = 'kube-apiserver'): WriteContext {
  return { user: SYSTEM_USER, fieldManager: manager, fieldValidation: 'Ignore', warnings: [] };
}

export function createApiServer(o: ApiServerOptions): ApiServer {
  const table = new ResourceTable();
  const registry = new Registry(o.store, (group, plural) => table.all().find((r) => r.group === group && r.plural === plural));
  const authenticator = new Authenticator(o.tokenFile);
  const openapi = new OpenApiService(table);
  if (o.eventTtlSeconds !== undefined) registry.hooks.eventTtlSeconds = o.eventTtlSeconds;
  const rbac = createRbac(registry, o.log);
  const saKey = o.serviceAccountKey ?? keyFromPem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const tokens = new ServiceAccountTokens({
    key: saKey,
    lookup: async (plural, ns, name) => (await registry.getRaw(registry.resource('', plural), ns, name))?.obj,
  });
  authenticator.addTokenAuthenticator(async (token, audiences) => {
    try {
      return await tokens.authenticate(token, audiences);
    } catch (err) {
      if (err instanceof TokenError) { o.log?.(`service account token rejected: ${err.message}`); return undefined; }
      throw err;
    }
  });
  const tokenRequests = new TokenRequestService(registry, tokens);
  const eviction = new EvictionService(registry);
  const podAdmission = new PodAdmission(registry, o.log);
  registry.hooks.admitPodCreate = (pod, ctx) => podAdmission.admit(pod, ctx);
  registry.hooks.podCreated = (pod) => podAdmission.created(pod);
  registry.hooks.admitEphemeralContainers = (pod) => podAdmission.admitEphemeralContainers(pod);
  const legacyTokens = o.rootCAPem ? new LegacyTokenController(registry, tokens, o.rootCAPem, o.log) : undefined;
  const reviews = new ReviewService(authenticator, rbac.authorizer, tokens.apiAudiences);
  let isReady = false;
  const handler = new ApiHandler({
    registry, table, authenticator, authorizer: rbac.authorizer, openapi, reviews, serverAddress: o.serverAddress, ready: () => isReady, bookmarkIntervalMs: o.bookmarkIntervalMs, log: o.log,
    extensions: {
      nonResource: (path) => {
        if (path === '/.well-known/openid-configuration') return { contentType: 'application/json', body: JSON.stringify(tokens.openidConfiguration()) };
        if (path === '/openid/v1/jwks') return { contentType: 'application/jwk-set+json', body: jwks };
        return undefined;
      },
      subresources: {
        '/serviceaccounts/token': tokenRequests.handle,
        '/pods/eviction': eviction.handle,
      },
    },
  });
  let jwks = '';
  const client = new LocalClient(registry, table);
  const terminating = new Set<string>();
  let stopped = false;

  const reloadCrds = async (): Promise<void> => {
    const crdRes = table.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
    const list = await registry.list(crdRes, undefined);
    table.setCustom(list.items.flatMap(resourcesOfCrd));
  };

  // Namespace lifecycle (upstream's namespace controller, minimal): delete the content, then finalize.
  const finalizeNamespace = async (name: string): Promise<void> => {
    if (terminating.has(name)) return;
    terminating.add(name);
    const ctx = systemContext('namespace-controller');
    try {
      for (let round = 0; !stopped; round++) {
        let remaining = 0;
        for (const r of table.all()) {
          if (!r.namespaced || !r.verbs.includes('delete') || !r.verbs.includes('list')) continue;
          const list = await registry.list(r, name);
          for (const item of list.items) {
            remaining++;
            if (item.metadata.deletionTimestamp) continue;
            await registry.delete(r, name, item.metadata.name, {}, ctx).catch((err) => {
              if (!(err instanceof ApiError && err.httpStatus === 404)) throw err;
            });
          }
        }
        if (remaining === 0) break;
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * (round + 1))));
      }
      if (stopped) return;
      const nsRes = table.lookup('', 'v1', 'namespaces')!;
      await registry.guaranteedUpdate(nsRes, undefined, name, async (cur) => {
        if (!cur) throw new ApiError(404, 'NotFound', `namespaces "${name}" not found`);
        cur.spec = { ...(cur.spec ?? {}), finalizers: (cur.spec?.finalizers ?? []).filter((f: string) => f !== 'kubernetes') };
        return cur;
      }, ctx, 'finalize').catch((err) => {
        if (!(err instanceof ApiError && err.httpStatus === 404)) throw err;
      });
    } catch (err) {
      o.log?.(`namespace ${name}: finalization failed: ${(err as Error).message}`);
    } finally {
      terminating.delete(name);
    }
  };
  registry.hooks.namespaceTerminating = (name) => { void finalizeNamespace(name); };
  registry.hooks.crdChanged = reloadCrds;

  const ensure = async (group: string, plural: string, namespace: string | undefined, obj: any): Promise<void> => {
    const r = table.all().find((x) => x.group === group && x.plural === plural)!;
    const existing = await registry.getRaw(r, namespace, obj.metadata.name);
    if (existing) return;
    try {
      await registry.create(r, namespace, obj, systemContext());
    } catch (err) {
      if (!(err instanceof ApiError && err.httpStatus === 409)) throw err;
    }
  };

  const start = async (): Promise<void> => {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      await ensure('', 'namespaces', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }
    // Upstream's scheduling post-start hook: the system classes exist before any pod names them.
    for (const pc of SYSTEM_PRIORITY_CLASSES) await ensure('scheduling.k8s.io', 'priorityclasses', undefined, systemPriorityClassObject(pc));
    await ensure('', 'services', 'default', {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: KUBERNETES_SERVICE_IP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: o.advertisePort }], sessionAffinity: 'None' },
    });
    const epRes = table.lookup('', 'v1', 'endpoints')!;
    const subsets = [{ addresses: [{ ip: o.advertiseAddress }], ports: [{ name: 'https', port: o.advertisePort, protocol: 'TCP' }] }];
    await registry.guaranteedUpdate(epRes, 'default', 'kubernetes', async (cur) => {
      const ep = cur ?? { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } } };
      ep.subsets = subsets;
      return ep;
    }, systemContext());
    await reloadCrds();
    jwks = JSON.stringify(await tokens.jwks());
    await rbac.start();
    await podAdmission.start();
    await legacyTokens?.start();
    // Resume namespaces that were terminating when the server stopped.
    const nsRes = table.lookup('', 'v1', 'namespaces')!;
    for (const ns of (await registry.list(nsRes, undefined)).items) {
      if (ns.metadata.deletionTimestamp) void finalizeNamespace(ns.metadata.name);
    }
    isReady = true;
  };

  return {
    registry, table, handler, authenticator, client, authorizer: rbac.authorizer, tokenRequests, eviction,
    ready: () => isReady,
    start,
    stop: () => { stopped = true; rbac.stop(); podAdmission.stop(); legacyTokens?.stop(); handler.closeWatches(); registry.watchCache.stop(); },
  };
}

export { nowRfc3339 };

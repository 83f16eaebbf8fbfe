// The HTTP face of the apiserver: routing of /api and /apis paths, authentication and
// authorization, content negotiation (JSON, Table, PartialObjectMetadata, aggregated discovery),
// verbs onto the registry, and watch streams over chunked HTTP and WebSocket.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { apiVersionOf } from '../../api/scheme';
import { GIT_VERSION, KUBERNETES_MAJOR, KUBERNETES_MINOR } from '../../api/version';
import { ApiError, badRequest, forbidden, internalError, methodNotAllowed, unauthorized, successStatus, expired, type StatusObject } from './errors';
import { ANONYMOUS, isPublicPath, type Authenticator } from './auth';
import { impersonatedUser, ImpersonationError, type Authorizer } from '../auth';
import type { HandlerExtensions } from './extensions';
import { decodeObjectBody, decodePatchBody, readBody } from './body';
import { aggregated, apiGroup, apiGroupList, apiResourceList, apiVersions, wantsAggregated } from './discovery';
import { PATCH_CONTENT_TYPES } from './patch';
import { serveEphemeralContainers } from './ephemeral-containers';
import type { Registry, UserInfo, WriteContext, DeleteOptions, ListOptions, FieldValidation } from './registry';
import type { ResourceTable, ServedResource } from './resources';
import { WatchClosedError, type ObjectEvent } from './watchcache';
import { toTable, wantsTable, tableForWatchEvent, wantsPartialMetadata, toPartialObjectMetadata } from './tables';
import { serveOpenAPIv2, type OpenApiService } from './openapi';
import { responseJson } from './written-json';
import type { ReviewService } from './reviews';
import { createBinding } from './binding';

/** Go's strconv.ParseBool: the Python client sends `True`. */
export function parseBool(v: string | null | undefined): boolean | undefined {
  if (v === null || v === undefined) return undefined;
  const l = v.toLowerCase();
  if (['1', 't', 'true'].includes(l)) return true;
  if (['0', 'f', 'false', ''].includes(l)) return false;
  return undefined;
}

export interface HandlerOptions {
  registry: Registry;
  table: ResourceTable;
  authenticator: Authenticator;
  /** Decides every request (server/auth's RBAC authorizer). */
  authorizer: Authorizer;
  /** Extra non-resource paths and subresource handlers (server/apiserver/extensions.ts). */
  extensions?: HandlerExtensions;
  openapi: OpenApiService;
  reviews: ReviewService;
  /** `host:port` clients reach the server at (for /api's serverAddressByClientCIDRs). */
  serverAddress: string;
  /** Readiness: false until start-up finished. */
  ready: () => boolean;
  /** Bookmark interval for watches that allow them (upstream: about a minute). */
  bookmarkIntervalMs?: number;
  log?: (msg: string) => void;
}

interface ResourceRequest {
  res: ServedResource;
  namespace?: string;
  name?: string;
  subresource?: string;
}

const JSON_TYPE = 'application/json';

function send(res: ServerResponse, status: number, body: unknown, contentType = JSON_TYPE, warnings: string[] = []): void {
  // An object the registry just wrote comes with its JSON (the stored text plus resourceVersion).
  const text = typeof body === 'string' ? body : (responseJson(body) ?? JSON.stringify(body));
  const headers: Record<string, string | string[]> = { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private', 'Content-Length': String(Buffer.byteLength(text)) };
  if (warnings.length) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  if (!res.headersSent) res.writeHead(status, headers);
  res.end(text);
}

function sendError(res: ServerResponse, err: ApiError, warnings: string[] = []): void {
  send(res, err.httpStatus, err.toStatus(), JSON_TYPE, warnings);
}

const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

export class ApiHandler {
  private wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (protocols) => [...protocols].find((p) => !p.startsWith('base64url.bearer')) ?? false });
  private watchers = new Set<{ stop(): void }>();

  constructor(private readonly o: HandlerOptions) {}

  /** Ends every open watch (server shutdown). */
  closeWatches(): void {
    for (const w of [...this.watchers]) w.stop();
    this.wss.close();
  }

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.serve(req, res, undefined).catch((err) => {
      const e = err instanceof ApiError ? err : internalError(err);
      if (!(err instanceof ApiError)) this.o.log?.(`internal error on ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) sendError(res, e);
      else res.end();
    });
  };

  /** `upgrade` events: WebSocket watches. */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    this.serve(req, undefined, { socket, head }).catch((err) => {
      const e = err instanceof ApiError ? err : internalError(err);
      const body = JSON.stringify(e.toStatus());
      socket.end(`HTTP/1.1 ${e.httpStatus} ${e.code}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
  };

  private async serve(req: IncomingMessage, res: ServerResponse | undefined, upgrade: { socket: Duplex; head: Buffer } | undefined): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://local');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const q = url.searchParams;
    const method = (req.method ?? 'GET').toUpperCase();

    const authed = await this.o.authenticator.authenticate(req);
    if (authed === null) throw unauthorized();
    const user: UserInfo = authed ? this.actingUser(req, authed) : ANONYMOUS;

    if (isPublicPath(path) || isPublicPath(url.pathname)) {
      if (!res) throw badRequest('upgrade not supported here');
      return this.servePublic(path, res);
    }
    if (!authed) throw unauthorized();

    if (path === '/api' || path === '/apis' || path.startsWith('/openapi') || path === '/' ) {
      if (!res) throw badRequest('upgrade not supported here');
      return this.serveNonResource(req, res, path, q, user);
    }
    const extra = method === 'GET' ? this.o.extensions?.nonResource?.(path) : undefined;
    if (extra) {
      if (!res) throw badRequest('upgrade not supported here');
      if (!this.o.authorizer.authorize(user, { verb: 'get', group: '', resource: '', path }).allowed) throw new ApiError(403, 'Forbidden', `forbidden: User "${user.username}" cannot get path "${path}"`);
      return send(res, 200, extra.body, extra.contentType);
    }
    const parsed = this.parsePath(path);
    if (!parsed) throw notFound404(path);
    if ('discovery' in parsed) {
      if (!res) throw badRequest('upgrade not supported here');
      const list = apiResourceList(this.o.table, parsed.group, parsed.version ?? '');
      if (parsed.version === undefined) {
        const g = this.o.table.groupVersions().find((x) => x.group === parsed.group);
        if (!g) throw notFound404(path);
        return send(res, 200, apiGroup(g.group, g.versions));
      }
      if (!list) throw notFound404(path);
      return send(res, 200, list);
    }
    const rr = parsed;
    const verb = this.verbOf(method, rr, q);
    // A namespace is authorized within itself (upstream's RequestInfo), so a RoleBinding may grant reading it.
    const authzNamespace = rr.res.group === '' && rr.res.plural === 'namespaces' ? rr.name : rr.namespace;
    const decision = this.o.authorizer.authorize(user, { verb, group: rr.res.group, resource: rr.res.plural, subresource: rr.subresource, namespace: authzNamespace, name: rr.name });
    if (!decision.allowed) throw forbidden(user.username, verb, rr.res.plural, rr.res.group, rr.res.namespaced || authzNamespace ? authzNamespace : undefined, rr.name, rr.subresource);

    if (verb === 'watch') return this.serveWatch(req, res, upgrade, rr, q);
    if (!res) throw badRequest('only watch requests may upgrade to WebSocket');
    return this.serveResource(req, res, rr, verb, q, user);
  }

  /** The user a request acts as: the authenticated one, or whom it impersonates (kubectl --as). */
  private actingUser(req: IncomingMessage, user: UserInfo): UserInfo {
    try {
      return impersonatedUser(req, user, this.o.authorizer);
    } catch (err) {
      if (!(err instanceof ImpersonationError)) throw err;
      const a = err.attrs;
      if (!a.name) throw new ApiError(403, 'Forbidden', err.message);
      throw forbidden(user.username, a.verb, a.resource, a.group, a.namespace, a.name, a.subresource);
    }
  }

  private servePublic(path: string, res: ServerResponse): void {
    if (path === '/version') {
      return send(res, 200, {
        major: KUBERNETES_MAJOR, minor: KUBERNETES_MINOR, gitVersion: GIT_VERSION, gitCommit: '', gitTreeState: 'clean',
        buildDate: '1970-01-01T00:00:00Z', goVersion: `node${process.versions.node}`, compiler: 'tsc', platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
      });
    }
    if (path.startsWith('/readyz') && !this.o.ready()) return send(res, 500, '[-]poststarthook/orch-bootstrap failed: not finished\nreadyz check failed\n', 'text/plain; charset=utf-8');
    return send(res, 200, 'ok', 'text/plain; charset=utf-8');
  }

  private async serveNonResource(req: IncomingMessage, res: ServerResponse, path: string, q: URLSearchParams, user: UserInfo): Promise<void> {
    if (!this.o.authorizer.authorize(user, { verb: 'get', group: '', resource: '', path }).allowed) {
      throw new ApiError(403, 'Forbidden', `forbidden: User "${user.username}" cannot get path "${path}"`);
    }
    const accept = req.headers.accept;
    if (path === '/api') {
      const agg = wantsAggregated(accept);
      if (agg) return send(res, 200, aggregated(this.o.table, true, agg), agg);
      return send(res, 200, apiVersions(this.o.serverAddress));
    }
    if (path === '/apis') {
      const agg = wantsAggregated(accept);
      if (agg) return send(res, 200, aggregated(this.o.table, false, agg), agg);
      return send(res, 200, apiGroupList(this.o.table));
    }
    if (path === '/') {
      return send(res, 200, { paths: ['/api', '/api/v1', '/apis', ...this.o.table.groupVersions().filter((g) => g.group).flatMap((g) => [`/apis/${g.group}`, ...g.versions.map((v) => `/apis/${g.group}/${v}`)]), '/healthz', '/livez', '/openapi/v2', '/openapi/v3', '/readyz', '/version'] });
    }
    if (path === '/openapi/v2') return serveOpenAPIv2(this.o.openapi, req, res);
    if (path === '/openapi/v3') return send(res, 200, this.o.openapi.index());
    if (path.startsWith('/openapi/v3/')) {
      const gv = path.slice('/openapi/v3/'.length);
      const doc = this.o.openapi.document(gv);
      if (!doc) throw notFound404(path);
      const want = q.get('hash');
      const etag = `"${doc.hash}"`;
      if (want && want !== doc.hash) {
        res.writeHead(301, { Location: `/openapi/v3/${gv}?hash=${doc.hash}`, 'Cache-Control': 'no-cache, private' });
        res.end();
        return;
      }
      if (req.headers['if-none-match'] === etag) { res.writeHead(304, { ETag: etag }); res.end(); return; }
      const headers: Record<string, string> = { 'Content-Type': 'application/json', ETag: etag, 'Content-Length': String(doc.body.length) };
      if (want) { headers['Cache-Control'] = 'public, immutable'; headers.Expires = new Date(Date.now() + ONE_YEAR_MS).toUTCString(); } else headers['Cache-Control'] = 'no-cache, private';
      res.writeHead(200, headers);
      res.end(doc.body);
      return;
    }
    throw notFound404(path);
  }

  /** Splits /api/v1/... and /apis/<g>/<v>/... into resource, namespace, name, subresource. */
  private parsePath(path: string): ResourceRequest | { discovery: true; group: string; version?: string } | undefined {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string | undefined;
    let rest: string[];
    if (parts[0] === 'api') {
      group = '';
      version = parts[1];
      rest = parts.slice(2);
      if (!version) return undefined;
    } else if (parts[0] === 'apis') {
      group = parts[1]!;
      version = parts[2];
      rest = parts.slice(3);
      if (!version) return { discovery: true, group };
    } else {
      return undefined;
    }
    if (rest.length === 0) return { discovery: true, group, version };
    if (rest[0] === 'watch') rest = rest.slice(1);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const res = this.o.table.lookup(group, version, rest[0]!);
    if (!res) return undefined;
    if (namespace !== undefined && !res.namespaced) return undefined;
    const name = rest[1];
    const subresource = rest.length > 2 ? rest.slice(2).join('/') : undefined;
    if (rest.length > 3 && !subresource?.startsWith('proxy')) return undefined;
    if (subresource && !res.subresources.some((s) => s.name === subresource.split('/')[0])) return undefined;
    return { res, namespace, name, subresource };
  }

  private verbOf(method: string, rr: ResourceRequest, q: URLSearchParams): string {
    const watch = parseBool(q.get('watch')) === true || /\/watch\//.test('');
    switch (method) {
      case 'GET': case 'HEAD': return watch ? 'watch' : rr.name ? 'get' : 'list';
      case 'POST': return 'create';
      case 'PUT': return 'update';
      case 'PATCH': return 'patch';
      case 'DELETE': return rr.name ? 'delete' : 'deletecollection';
      default: throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
  }

  private writeContext(q: URLSearchParams, user: UserInfo, req: IncomingMessage): WriteContext {
    const dry = q.getAll('dryRun');
    for (const d of dry) if (d !== 'All') throw badRequest(`Invalid dry run value: ${d}: valid values are "All"`);
    const fv = q.get('fieldValidation') ?? 'Warn';
    const norm = ({ strict: 'Strict', warn: 'Warn', ignore: 'Ignore' } as Record<string, FieldValidation>)[fv.toLowerCase()];
    if (!norm) throw badRequest(`fieldValidation parameter unsupported: ${fv}`);
    const fm = q.get('fieldManager') ?? undefined;
    if (fm !== undefined && fm.length > 128) throw badRequest('fieldManager: Too long: may not be more than 128 bytes');
    return { user, dryRun: dry.length > 0, fieldManager: fm ?? managerFromUserAgent(req.headers['user-agent']), fieldValidation: norm, warnings: [] };
  }

  private async serveResource(req: IncomingMessage, res: ServerResponse, rr: ResourceRequest, verb: string, q: URLSearchParams, user: UserInfo): Promise<void> {
    const { registry } = this.o;
    const r = rr.res;
    const ns = rr.res.namespaced ? rr.namespace : undefined;
    const accept = req.headers.accept;
    const sub = rr.subresource;

    // The legacy top-level `bindings`: create only, the pod named by the Binding (binding.ts).
    if (r.group === '' && r.plural === 'bindings') {
      if (verb !== 'create' || rr.name) throw methodNotAllowed('the server does not allow this method on the requested resource');
      return this.bind(req, res, rr, q, user);
    }
    // Review kinds are computed, never stored.
    if (r.verbs.length === 1 && r.verbs[0] === 'create' && !rr.name) {
      if (verb !== 'create') throw methodNotAllowed(`the server does not allow this method on the requested resource`);
      const body = decodeObjectBody(await readBody(req), req.headers['content-type'], false).obj;
      const out = await this.o.reviews.review(r, body, user, rr.namespace);
      return send(res, 201, out);
    }

    const ext = sub ? this.o.extensions?.subresources?.[`${r.group}/${r.plural}/${sub}`] : undefined;
    if (ext && rr.name) {
      if (verb !== 'create') throw methodNotAllowed('the server does not allow this method on the requested resource');
      const ctx = this.writeContext(q, user, req);
      const body = decodeObjectBody(await readBody(req), req.headers['content-type'], false).obj;
      const out = await ext({ resource: r, namespace: ns, name: rr.name, body, ctx, user });
      return send(res, out.status, out.body, JSON_TYPE, ctx.warnings);
    }
    // pods/ephemeralcontainers is an apiserver write (ephemeral-containers.ts); the agent starts what it adds.
    if (sub === 'ephemeralcontainers' && r.group === '' && r.plural === 'pods' && rr.name) {
      const ctx = this.writeContext(q, user, req);
      return send(res, 200, await serveEphemeralContainers(registry, r, rr.namespace!, rr.name, verb, req, ctx), JSON_TYPE, ctx.warnings);
    }
    if (sub && !['status', 'scale', 'finalize', 'binding'].includes(sub)) {
      throw new ApiError(503, 'ServiceUnavailable', `${sub} is served by the node agent, which is not running on this server`);
    }

    switch (verb) {
      case 'get': {
        const obj = await registry.get(r, ns, rr.name!);
        if (sub === 'scale') return send(res, 200, registry.scaleOf(r, obj));
        return this.sendObjectOrTable(res, r, obj, accept, q);
      }
      case 'list': {
        if (sub) throw methodNotAllowed('list of a subresource');
        const opts = listOptions(q);
        const list = await registry.list(r, ns, opts);
        if (wantsTable(accept)) return send(res, 200, toTable(r, list.items, { resourceVersion: list.resourceVersion, continue: list.continue, remainingItemCount: list.remainingItemCount }, q.get('includeObject') ?? 'Metadata', true));
        if (wantsPartialMetadata(accept)) {
          return send(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta(list), items: list.items.map(toPartialObjectMetadata) });
        }
        return send(res, 200, { kind: r.listKind, apiVersion: apiVersionOf(r), metadata: listMeta(list), items: list.items });
      }
      case 'create': {
        if (sub === 'binding') return this.bind(req, res, rr, q, user);
        if (rr.name && sub !== undefined) throw methodNotAllowed(`create on ${sub}`);
        if (rr.name) throw methodNotAllowed('the server does not allow this method on the requested resource');
        const ctx = this.writeContext(q, user, req);
        const decoded = decodeObjectBody(await readBody(req), req.headers['content-type'], ctx.fieldValidation !== 'Ignore');
        ctx.duplicateFields = decoded.duplicates;
        ctx.skipUnknownFieldCheck = decoded.typed;
        const obj = await registry.create(r, ns, decoded.obj, ctx);
        return send(res, 201, obj, JSON_TYPE, ctx.warnings);
      }
      case 'update': {
        const ctx = this.writeContext(q, user, req);
        const decoded = decodeObjectBody(await readBody(req), req.headers['content-type'], ctx.fieldValidation !== 'Ignore');
        ctx.duplicateFields = decoded.duplicates;
        ctx.skipUnknownFieldCheck = decoded.typed;
        if (sub === 'finalize') {
          const out = await registry.guaranteedUpdate(r, ns, rr.name!, async (cur) => {
            if (!cur) throw notFound404(rr.name!);
            cur.spec = { ...(cur.spec ?? {}), finalizers: decoded.obj?.spec?.finalizers ?? [] };
            return cur;
          }, ctx, 'finalize');
          return send(res, 200, out.object, JSON_TYPE, ctx.warnings);
        }
        const out = await registry.update(r, ns, rr.name!, decoded.obj, ctx, sub);
        return send(res, out.created ? 201 : 200, out.object, JSON_TYPE, ctx.warnings);
      }
      case 'patch': {
        const ctx = this.writeContext(q, user, req);
        const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        const type = PATCH_CONTENT_TYPES[ct];
        if (!type) {
          throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
        }
        const body = decodePatchBody(await readBody(req), type);
        const force = parseBool(q.get('force')) === true;
        if (force && type !== 'apply') throw badRequest('force is only allowed for apply patches');
        const out = await registry.patch(r, ns, rr.name!, type, body, ctx, sub, force);
        return send(res, out.created ? 201 : 200, out.object, JSON_TYPE, ctx.warnings);
      }
      case 'delete': {
        const ctx = this.writeContext(q, user, req);
        const opts = await deleteOptions(req, q);
        if (opts.dryRun?.includes('All')) ctx.dryRun = true;
        const out = await registry.delete(r, ns, rr.name!, opts, ctx);
        if (!out.deleted) return send(res, ctx.dryRun ? 200 : 200, out.object);
        // Pods answer with the object (ReturnDeletedObject); everything else with a Status.
        if (r.group === '' && r.kind === 'Pod') return send(res, 200, out.object);
        return send(res, 200, registry.deleteStatus(r, out.object));
      }
      case 'deletecollection': {
        const ctx = this.writeContext(q, user, req);
        const opts = await deleteOptions(req, q);
        if (opts.dryRun?.includes('All')) ctx.dryRun = true;
        const out = await registry.deleteCollection(r, ns, listOptions(q), opts, ctx);
        return send(res, 200, { kind: r.listKind, apiVersion: apiVersionOf(r), metadata: { resourceVersion: out.resourceVersion }, items: out.items });
      }
    }
    throw methodNotAllowed(`verb ${verb}`);
  }

  /** pods/binding and the legacy namespaced `bindings`: sets spec.nodeName once. */
  private async bind(req: IncomingMessage, res: ServerResponse, rr: ResourceRequest, q: URLSearchParams, user: UserInfo): Promise<void> {
    const ctx = this.writeContext(q, user, req);
    const binding = decodeObjectBody(await readBody(req), req.headers['content-type'], false).obj;
    await createBinding(this.o.registry, rr.namespace, rr.subresource === 'binding' ? rr.name : undefined, binding, ctx);
    // Upstream's create handler fills the Status's code with the 201 it answers.
    send(res, 201, { ...successStatus(), code: 201 });
  }

  private sendObjectOrTable(res: ServerResponse, r: ServedResource, obj: any, accept: string | undefined, q: URLSearchParams): void {
    if (wantsTable(accept)) return send(res, 200, toTable(r, [obj], { resourceVersion: obj.metadata?.resourceVersion }, q.get('includeObject') ?? 'Metadata', true));
    if (wantsPartialMetadata(accept)) return send(res, 200, toPartialObjectMetadata(obj));
    send(res, 200, obj);
  }

  /** A watch: initial events when asked, then the watch cache's events, filtered, as JSON lines or WebSocket messages. */
  private async serveWatch(req: IncomingMessage, res: ServerResponse | undefined, upgrade: { socket: Duplex; head: Buffer } | undefined, rr: ResourceRequest, q: URLSearchParams): Promise<void> {
    const { registry } = this.o;
    const r = rr.res;
    const ns = r.namespaced ? rr.namespace : undefined;
    const opts = listOptions(q);
    if (rr.name) opts.fieldSelector = [opts.fieldSelector, `metadata.name=${rr.name}`].filter(Boolean).join(',');
    const match = registry.matcher(r, opts);
    const table = wantsTable(req.headers.accept);
    const partial = wantsPartialMetadata(req.headers.accept);
    const includeObject = q.get('includeObject') ?? 'Metadata';
    const bookmarks = parseBool(q.get('allowWatchBookmarks')) === true;
    const timeoutSeconds = Number(q.get('timeoutSeconds') ?? 0) || (1800 + Math.floor(Math.random() * 1800));
    const rvParam = q.get('resourceVersion') ?? '';
    if (rvParam !== '' && !/^\d+$/.test(rvParam)) throw badRequest(`resourceVersion: Invalid value: "${rvParam}": must be a non-negative integer`);

    let initial: any[] = [];
    let from: number;
    if (rvParam === '' || rvParam === '0' || parseBool(q.get('sendInitialEvents')) === true) {
      const list = await registry.list(r, ns, { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector });
      initial = list.items;
      from = Number(list.resourceVersion);
    } else {
      from = Number(rvParam);
    }

    // Transport: a chunked HTTP response or a WebSocket, behind one writer.
    let ws: WebSocket | undefined;
    if (upgrade) {
      ws = await new Promise<WebSocket>((resolve) => this.wss.handleUpgrade(req, upgrade.socket, upgrade.head, resolve));
    } else {
      res!.writeHead(200, { 'Content-Type': table ? 'application/json;as=Table;v=v1;g=meta.k8s.io' : JSON_TYPE, 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
      res!.flushHeaders();
      req.socket.setNoDelay(true);
    }
    let closed = false;
    const write = (line: string): void => {
      if (closed) return;
      if (ws) ws.send(line); else res!.write(line + '\n');
    };

    let watch;
    try {
      watch = registry.watch(r, ns, from);
    } catch (err) {
      if (err instanceof WatchClosedError) {
        write(JSON.stringify({ type: 'ERROR', object: expired(err.message).toStatus() }));
        if (ws) ws.close(); else res!.end();
        return;
      }
      throw err;
    }
    let headerSent = false;
    const render = (type: string, obj: any, shared?: ObjectEvent): string => {
      if (table) {
        const t = tableForWatchEvent(r, obj, includeObject, !headerSent);
        headerSent = true;
        return JSON.stringify({ type, object: t });
      }
      if (partial) return JSON.stringify({ type, object: toPartialObjectMetadata(obj) });
      if (shared && shared.type === type) return shared.json ?? (shared.json = JSON.stringify({ type, object: obj }));
      return JSON.stringify({ type, object: obj });
    };

    let lastSentRv = from;
    const stop = (): void => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      clearInterval(bookmarkTimer);
      watch.close();
      this.watchers.delete(handle);
      if (ws) ws.close(); else res!.end();
    };
    const handle = { stop };
    this.watchers.add(handle);
    const timer = setTimeout(stop, timeoutSeconds * 1000);
    const bookmarkTimer = bookmarks && !table ? setInterval(() => {
      const rv = Math.max(lastSentRv, watch.lastRevision());
      write(JSON.stringify({ type: 'BOOKMARK', object: { kind: r.kind, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(rv) } } }));
    }, this.o.bookmarkIntervalMs ?? 60_000) : undefined;
    if (ws) ws.on('close', stop); else { req.on('close', stop); res!.on('close', stop); }

    for (const obj of initial) write(render('ADDED', obj));
    if (initial.length === 0 && table) {
      // kubectl get -w prints headers only once an event comes; nothing to send.
    }
    try {
      for await (const ev of watch.events()) {
        if (closed) break;
        const nowMatch = ev.type === 'DELETED' ? false : match(ev.object);
        const wasMatch = ev.type === 'ADDED' ? false : match(ev.oldObject ?? ev.object);
        let type: string | undefined;
        if (ev.type === 'ADDED') type = nowMatch ? 'ADDED' : undefined;
        else if (ev.type === 'DELETED') type = wasMatch ? 'DELETED' : undefined;
        else if (nowMatch && wasMatch) type = 'MODIFIED';
        else if (nowMatch) type = 'ADDED';
        else if (wasMatch) type = 'DELETED';
        lastSentRv = ev.revision;
        if (type) write(render(type, ev.object, ev));
      }
    } catch (err) {
      if (err instanceof WatchClosedError) write(JSON.stringify({ type: 'ERROR', object: expired(`too old resource version: ${from} (${err.message})`).toStatus() }));
      else throw err;
    } finally {
      stop();
    }
  }
}

function notFound404(path: string): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', { causes: [{ reason: 'UnexpectedServerResponse', message: `404 page not found: ${path}` }] });
}

function listMeta(list: { resourceVersion: string; continue?: string; remainingItemCount?: number }): object {
  return { resourceVersion: list.resourceVersion, ...(list.continue ? { continue: list.continue } : {}), ...(list.remainingItemCount !== undefined ? { remainingItemCount: list.remainingItemCount } : {}) };
}

function listOptions(q: URLSearchParams): ListOptions {
  const limit = q.get('limit');
  if (limit !== null && !/^\d+$/.test(limit)) throw badRequest(`limit: Invalid value: "${limit}": must be a non-negative integer`);
  return {
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
    limit: limit ? Number(limit) : undefined,
    continue: q.get('continue') ?? undefined,
    resourceVersion: q.get('resourceVersion') ?? undefined,
  };
}

/** DeleteOptions from a JSON body (kubectl) or query parameters (client-node), body first. */
async function deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
  const buf = await readBody(req);
  let body: any = {};
  if (buf.length > 0) body = decodeObjectBody(buf, req.headers['content-type'], false).obj ?? {};
  const opts: DeleteOptions = {};
  const grace = body.gracePeriodSeconds ?? (q.get('gracePeriodSeconds') !== null ? Number(q.get('gracePeriodSeconds')) : undefined);
  if (grace !== undefined) {
    if (!Number.isFinite(grace)) throw badRequest('gracePeriodSeconds must be an integer');
    opts.gracePeriodSeconds = Math.max(0, grace);
  }
  const policy = body.propagationPolicy ?? q.get('propagationPolicy') ?? undefined;
  if (policy !== undefined && !['Foreground', 'Background', 'Orphan'].includes(policy)) {
    throw new ApiError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`);
  }
  opts.propagationPolicy = policy;
  const orphan = body.orphanDependents ?? parseBool(q.get('orphanDependents'));
  if (orphan !== undefined) opts.orphanDependents = orphan;
  if (body.preconditions) opts.preconditions = body.preconditions;
  const dry = body.dryRun ?? q.getAll('dryRun');
  if (dry && dry.length) opts.dryRun = dry;
  return opts;
}

/** Upstream names the manager after the User-Agent's program name when none is given. */
function managerFromUserAgent(ua: string | undefined): string {
  if (!ua) return 'unknown';
  return ua.split('/')[0]!.slice(0, 128) || 'unknown';
}

export type { StatusObject };

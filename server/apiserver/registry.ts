// The generic registry: every resource's REST verbs over the store (upstream's
// apiserver/pkg/registry/generic/registry Store). Objects are JSON values under
// `<prefix><namespace>/<name>`; resourceVersion is the store's modRevision and is never stored.
// Per-kind behaviour (status reset, allocations, graceful pod deletion, ...) lives in strategies.ts.
import { randomUUID, randomInt } from 'node:crypto';
import type { KeyValue, Store } from '../../embedded-store/types';
import { apiVersionOf, type GroupVersionKind } from '../../api/scheme';
import { cloneJSON } from '../../api/patch/json';
import {
  ApiError, alreadyExists, badRequest, conflict, expired, invalid, notFound, STALE_OBJECT, successStatus, type FieldCause,
} from './errors';
import type { ServedResource } from './resources';
import { checkFieldSelector, labelSelectorToString, parseFieldSelector, parseLabelSelector, selectableFields, SelectorParseError, type FieldSelector, type LabelSelector } from './selectors';
import { decodeObject, WatchCache, type ObjectWatch } from './watchcache';
import { NamespaceCache, namespaceTerminating } from './namespace-cache';
import { encodeStored } from './written-json';
import * as api from './apideps';
import { applyPatchBody, type PatchType } from './patch';
import { strategyFor, type RegistryHooks, type StrategyEnv } from './strategies';

export type { UserInfo, FieldValidation, WriteContext, ListOptions, DeleteOptions, ListResult } from './types';
import type { UserInfo, WriteContext, ListOptions, DeleteOptions, ListResult } from './types';

export class RegistryError extends Error {
  readonly code = 'RegistryError';
  constructor(message: string) { super(message); this.name = 'RegistryError'; }
}

const GENERATE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** Groups whose kinds track metadata.generation upstream (workloads, policies, CRDs); core kinds do not. */
const GENERATION_GROUPS = new Set(['apps', 'batch', 'policy', 'networking.k8s.io', 'apiextensions.k8s.io', 'storage.k8s.io', 'settings.k8s.io']);

export function generateNameSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += GENERATE_CHARS[randomInt(GENERATE_CHARS.length)];
  return s;
}

/** RFC3339 in seconds, as Kubernetes writes metav1.Time. */
export function nowRfc3339(d = new Date()): string {
  // Every create stamps the time: format each second once.
  const second = Math.floor(d.getTime() / 1000);
  if (second !== lastRfc3339Second) { lastRfc3339Second = second; lastRfc3339 = d.toISOString().replace(/\.\d{3}Z$/, 'Z'); }
  return lastRfc3339;
}
let lastRfc3339Second = NaN;
let lastRfc3339 = '';

function clone<T>(v: T): T { return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T); }

function gvkOf(res: ServedResource): GroupVersionKind { return { group: res.group, version: res.version, kind: res.kind }; }

/** Everything but metadata and status: a change here bumps metadata.generation. */
function specOf(obj: any): string {
  const { metadata: _m, status: _s, ...rest } = obj ?? {};
  return JSON.stringify(rest);
}

function storeCode(err: unknown): string | undefined {
  return (err as { code?: string } | undefined)?.code;
}

/** The stored bytes (no resourceVersion); the text is kept as the write's response (written-json.ts). */
function encode(obj: any): Buffer {
  return encodeStored(obj);
}

function hasSub(res: ServedResource, name: string): boolean {
  return res.subresources.some((s) => s.name === name);
}

/** The generic store-backed registry of every served resource. */
export class Registry {
  readonly watchCache: WatchCache;
  /** Namespace existence and termination for creates, from the watch cache (store read on a miss). */
  readonly namespaces: NamespaceCache;
  /** Set by the server: namespace lifecycle and CRD changes. */
  readonly hooks: RegistryHooks = {};
  private env: StrategyEnv;

  constructor(readonly store: Store, private readonly lookupResource: (group: string, plural: string) => ServedResource | undefined) {
    this.watchCache = new WatchCache(store);
    this.namespaces = new NamespaceCache(store, this.watchCache);
    this.env = { store, hooks: this.hooks };
  }

  key(res: ServedResource, namespace: string | undefined, name: string): string {
    return res.namespaced ? `${res.prefix}${namespace}/${name}` : `${res.prefix}${name}`;
  }

  /** The resource served as `<group>/<plural>` (any version), for strategies that touch other kinds. */
  resource(group: string, plural: string): ServedResource {
    const r = this.lookupResource(group, plural);
    if (!r) throw new RegistryError(`resource ${plural}.${group} is not served`);
    return r;
  }

  private decode(res: ServedResource, kv: KeyValue): any {
    const obj = decodeObject(kv.value, kv.modRevision);
    // Custom resources are stored once; a request for another served version sees that apiVersion.
    obj.apiVersion = apiVersionOf(res);
    obj.kind = res.kind;
    const fromStorage = strategyFor(res).fromStorage;
    return fromStorage ? fromStorage(obj) : obj;
  }

  /** The form an object is stored in (a strategy may convert it, e.g. events.k8s.io Events to core/v1). */
  private stored(res: ServedResource, obj: any): any {
    const toStorage = strategyFor(res).toStorage;
    return toStorage ? toStorage(obj) : obj;
  }

  /** Store options of a write: the kind's TTL, on creates and updates alike. */
  private writeOptions(res: ServedResource, obj: any): { ttlSeconds: number } | undefined {
    const ttl = strategyFor(res).ttlSeconds;
    return ttl ? { ttlSeconds: ttl(obj, this.env) } : undefined;
  }

  async getRaw(res: ServedResource, namespace: string | undefined, name: string): Promise<{ obj: any; rev: number } | undefined> {
    const kv = await this.store.get(this.key(res, namespace, name));
    return kv ? { obj: this.decode(res, kv), rev: kv.modRevision } : undefined;
  }

  async get(res: ServedResource, namespace: string | undefined, name: string): Promise<any> {
    const r = await this.getRaw(res, namespace, name);
    if (!r) throw notFound(res.group, res.plural, name);
    return r.obj;
  }

  compileSelectors(res: ServedResource, opts: ListOptions): { label: LabelSelector; field: FieldSelector } {
    try {
      const label = parseLabelSelector(opts.labelSelector);
      const field = parseFieldSelector(opts.fieldSelector);
      if (!field.empty) {
        const known = selectableFields(res.kind, res.group, {}, res.namespaced, res.custom?.selectableFields);
        checkFieldSelector(field, known);
      }
      return { label, field };
    } catch (err) {
      if (err instanceof SelectorParseError) throw badRequest(err.message);
      throw err;
    }
  }

  matcher(res: ServedResource, opts: ListOptions): (obj: any) => boolean {
    const { label, field } = this.compileSelectors(res, opts);
    if (label.empty && field.empty) return () => true;
    return (obj) => label.matches(obj?.metadata?.labels) && (field.empty || field.matches(selectableFields(res.kind, res.group, obj, res.namespaced, res.custom?.selectableFields)));
  }

  listPrefix(res: ServedResource, namespace: string | undefined, field?: FieldSelector): string {
    const ns = namespace ?? (res.namespaced ? field?.exact('metadata.namespace') : undefined);
    return res.namespaced && ns ? `${res.prefix}${ns}/` : res.prefix;
  }

  async list(res: ServedResource, namespace: string | undefined, opts: ListOptions = {}): Promise<ListResult> {
    const { field } = this.compileSelectors(res, opts);
    const match = this.matcher(res, opts);
    const prefix = this.listPrefix(res, namespace, field);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const items: any[] = [];
    let token = opts.continue || undefined;
    let revision = 0;
    let remaining: number | undefined;
    try {
      for (;;) {
        const page = await this.store.list(prefix, { limit: limit ? limit - items.length : undefined, continue: token });
        revision = page.revision;
        for (const kv of page.items) {
          const obj = this.decode(res, kv);
          if (match(obj)) items.push(obj);
        }
        token = page.continue;
        remaining = page.remaining;
        if (!token || !limit || items.length >= limit) break;
      }
    } catch (err) {
      const code = storeCode(err);
      if (code === 'STORE_COMPACTED') throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
      if (code === 'STORE_INVALID_ARGUMENT') throw badRequest(`continue key is not valid: ${(err as Error).message}`);
      throw err;
    }
    const out: ListResult = { items, resourceVersion: String(revision) };
    if (token) {
      out.continue = token;
      if (remaining !== undefined && match === undefined) out.remainingItemCount = remaining;
    }
    return out;
  }

  /** Events of this resource (optionally one namespace) after `fromRevision`; see WatchCache. */
  watch(res: ServedResource, namespace: string | undefined, fromRevision: number): ObjectWatch {
    const prefix = res.namespaced && namespace ? `${res.prefix}${namespace}/` : res.prefix;
    const w = this.watchCache.watch(res.prefix, prefix, fromRevision);
    const fromStorage = strategyFor(res).fromStorage;
    return fromStorage ? convertedWatch(w, fromStorage) : w;
  }

  // ---- writes ------------------------------------------------------------------------------

  /** Checks kind/apiVersion against the URL's resource, filling them when absent. */
  private checkTypeMeta(res: ServedResource, obj: any, kind = res.kind, apiVersion = apiVersionOf(res)): void {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw badRequest('the body of the request must be an object');
    if (obj.apiVersion === undefined || obj.apiVersion === '') obj.apiVersion = apiVersion;
    if (obj.kind === undefined || obj.kind === '') obj.kind = kind;
    if (obj.apiVersion !== apiVersion) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersion})`);
    }
    if (obj.kind !== kind) {
      throw badRequest(`${kind} in version "${res.version}" cannot be handled as a ${obj.kind}: the kind in the data (${obj.kind}) does not match the expected kind (${kind})`);
    }
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    if (typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)) throw badRequest(`${kind} in version "${res.version}" cannot be handled as a ${kind}: metadata must be an object`);
  }

  /** Strict/Warn field validation: unknown and duplicate fields (kube-api-compat §2). */
  private checkFields(res: ServedResource, obj: any, ctx: WriteContext): void {
    const mode = ctx.fieldValidation ?? 'Warn';
    if (mode === 'Ignore') return;
    let unknown: string[] = [];
    if (!ctx.skipUnknownFieldCheck) {
      if (res.custom) unknown = res.custom.schema ? api.unknownCustomFields(res.custom.schema, obj) : [];
      else unknown = api.unknownFields(gvkOf(res), obj);
    }
    const msgs = [...unknown.map((f) => `unknown field "${f}"`), ...(ctx.duplicateFields ?? []).map((f) => `duplicate field "${f}"`)];
    if (msgs.length === 0) return;
    if (mode === 'Strict') throw badRequest(`strict decoding error: ${msgs.join(', ')}`);
    ctx.warnings.push(...msgs);
  }

  private validate(res: ServedResource, obj: any, old: any | undefined): void {
    const errs: FieldCause[] = [];
    const md = obj.metadata ?? {};
    if (!md.name && !md.generateName) errs.push({ type: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' });
    if (res.custom) {
      if (res.custom.schema) errs.push(...api.validateAgainstSchema(res.custom.schema, obj, ''));
    } else {
      errs.push(...api.validateObject(gvkOf(res), obj, old));
    }
    errs.push(...(strategyFor(res).validate?.(obj, old, res) ?? []));
    if (errs.length > 0) throw invalid(res.group, res.kind, md.name ?? md.generateName ?? '', dedupeCauses(errs));
  }

  private async checkNamespace(res: ServedResource, namespace: string | undefined): Promise<void> {
    if (!res.namespaced) return;
    if (!namespace) throw badRequest('the server could not find the requested resource: a namespace is required for namespaced resources');
    // The watch-fed cache answers for known namespaces; a miss (new or absent) reads the store.
    let terminating = this.namespaces.lookup(namespace)?.terminating;
    if (terminating === undefined) {
      const kv = await this.store.get(`/registry/namespaces/${namespace}`);
      if (!kv) throw notFound('', 'namespaces', namespace);
      terminating = namespaceTerminating(JSON.parse(kv.value.toString('utf8')));
    }
    if (terminating) {
      throw new ApiError(403, 'Forbidden', `${res.plural}${res.group ? `.${res.group}` : ''} is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
        group: res.group || undefined, kind: res.plural,
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }

  private updateManagedFields(res: ServedResource, old: any | undefined, obj: any, ctx: WriteContext, subresource?: string): void {
    if (ctx.applying) return;
    const manager = ctx.fieldManager ?? managerFromUser(ctx.user);
    api.updateManagedFields(gvkOf(res), res.custom?.schema, old, obj, manager, subresource, new Date());
  }

  /** Creates an object (POST). Returns the stored object with its resourceVersion. */
  async create(res: ServedResource, namespace: string | undefined, body: any, ctx: WriteContext): Promise<any> {
    this.checkTypeMeta(res, body);
    const md = body.metadata;
    if (res.namespaced) {
      if (md.namespace && namespace && md.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      md.namespace = namespace ?? md.namespace;
    } else {
      delete md.namespace;
    }
    this.checkFields(res, body, ctx);
    const strategy = strategyFor(res);
    // System-owned metadata is the server's, whatever the client sent.
    md.uid = randomUUID();
    md.creationTimestamp = nowRfc3339();
    delete md.resourceVersion;
    delete md.deletionTimestamp;
    delete md.deletionGracePeriodSeconds;
    delete md.selfLink;
    if (res.custom || GENERATION_GROUPS.has(res.group)) md.generation = 1; else delete md.generation;
    if (hasSub(res, 'status') && strategy.keepStatusOnCreate !== true) {
      if (res.custom) delete body.status; else body.status = {};
    }
    if (!res.custom) api.applyDefaults(gvkOf(res), body);
    if (res.custom?.schema) api.pruneUnknownFields(res.custom.schema, body);
    await strategy.prepareForCreate?.(body, this.env, ctx, res);
    const generated = !md.name && md.generateName;
    if (generated) md.name = `${String(md.generateName).slice(0, 58)}${generateNameSuffix()}`;
    this.validate(res, body, undefined);
    await this.checkNamespace(res, md.namespace);
    this.updateManagedFields(res, undefined, body, ctx);
    if (ctx.dryRun) {
      return body;
    }
    const allocated = await strategy.allocate?.(body, undefined, this.env, res);
    for (let attempt = 0; ; attempt++) {
      try {
        const kv = await this.store.create(this.key(res, md.namespace, md.name), encode(this.stored(res, body)), this.writeOptions(res, body));
        md.resourceVersion = String(kv.modRevision);
        await strategy.afterCreate?.(body, this.env, res);
        return body;
      } catch (err) {
        if (storeCode(err) === 'STORE_ALREADY_EXISTS') {
          if (generated && attempt < 7) { md.name = `${String(md.generateName).slice(0, 58)}${generateNameSuffix()}`; continue; }
          await allocated?.release();
          throw alreadyExists(res.group, res.plural, md.name);
        }
        await allocated?.release();
        throw err;
      }
    }
  }

  /**
   * Read-modify-write with compare-and-swap, retried on a concurrent write (upstream's
   * GuaranteedUpdate). `mutate` gets a private copy of the current object (undefined when absent)
   * and returns the new object, or undefined to create nothing. With `copyCurrent` false it gets
   * the current object itself and must not modify it (update and patch build a new one anyway).
   */
  async guaranteedUpdate(res: ServedResource, namespace: string | undefined, name: string, mutate: (current: any | undefined, rev: number) => Promise<any>, ctx: WriteContext, subresource?: string, copyCurrent = true): Promise<{ object: any; created: boolean }> {
    const key = this.key(res, namespace, name);
    for (let attempt = 0; attempt < 20; attempt++) {
      const kv = await this.store.get(key);
      const current = kv ? this.decode(res, kv) : undefined;
      // current was just decoded from the stored bytes: plain JSON, so cloneJSON copies it exactly.
      const next = await mutate(current && copyCurrent ? cloneJSON(current) : current, kv?.modRevision ?? 0);
      if (!current) {
        // create-on-update (PUT to a missing node, server-side apply of a new object)
        return { object: await this.create(res, namespace, next, ctx), created: true };
      }
      const out = await this.finishUpdate(res, current, next, ctx, subresource);
      if (ctx.dryRun && !out.unchanged) out.object.metadata.resourceVersion = current.metadata.resourceVersion;
      if (out.unchanged || ctx.dryRun) return { object: out.object, created: false };
      try {
        if (out.deleteNow) {
          const d = await this.store.delete(key, kv!.modRevision);
          await strategyFor(res).afterDelete?.(current, this.env, res);
          out.object.metadata.resourceVersion = String(d.revision);
          return { object: out.object, created: false };
        }
        const w = await this.store.update(key, encode(this.stored(res, out.object)), kv!.modRevision, this.writeOptions(res, out.object));
        out.object.metadata.resourceVersion = String(w.modRevision);
        await strategyFor(res).afterUpdate?.(out.object, this.env, res);
        return { object: out.object, created: false };
      } catch (err) {
        if (storeCode(err) === 'STORE_CONFLICT' || storeCode(err) === 'STORE_NOT_FOUND') continue;
        throw err;
      }
    }
    throw conflict(res.group, res.plural, name, STALE_OBJECT);
  }

  /** Shared tail of update/patch: subresource rules, metadata the server owns, defaults, validation, generation. */
  private async finishUpdate(res: ServedResource, current: any, next: any, ctx: WriteContext, subresource?: string): Promise<{ object: any; unchanged?: boolean; deleteNow?: boolean }> {
    // pods/binding (binding.ts) made exactly its changes on a private copy; upstream writes it straight to storage.
    if (subresource === 'binding') { delete next.metadata.resourceVersion; return { object: next }; }
    const strategy = strategyFor(res);
    let obj: any;
    if (subresource === 'status') {
      // A status write changes status only (metav1 ResetObjectMetaForStatus). The rest is
      // current's own (a private decode): shared, not copied, so comparisons see it unchanged.
      obj = { ...current, metadata: { ...current.metadata } };
      obj.status = next.status;
    } else if (subresource === 'finalize') {
      // namespaces/finalize changes spec.finalizers only.
      obj = cloneJSON(current);
      obj.spec = { ...(obj.spec ?? {}), finalizers: next.spec?.finalizers ?? [] };
    } else {
      obj = next;
      const md = obj.metadata;
      const cm = current.metadata;
      for (const f of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
        if (cm[f] === undefined) delete md[f]; else md[f] = cm[f];
      }
      md.name = cm.name;
      if (res.namespaced) md.namespace = cm.namespace; else delete md.namespace;
      if (hasSub(res, 'status') && subresource !== 'scale') {
        if (current.status === undefined) delete obj.status; else obj.status = cloneJSON(current.status);
      }
      if (!res.custom) api.applyDefaults(gvkOf(res), obj);
      if (res.custom?.schema) api.pruneUnknownFields(res.custom.schema, obj);
      await strategy.prepareForUpdate?.(obj, current, this.env, ctx, res);
    }
    delete obj.metadata.resourceVersion;
    this.validate(res, obj, current);
    if (current.metadata.generation !== undefined && specOf(obj) !== specOf(current)) {
      obj.metadata.generation = (current.metadata.generation ?? 0) + 1;
    }
    this.updateManagedFields(res, current, obj, ctx, subresource);
    if (sameButTimes(current, obj)) return { object: current, unchanged: true };
    if (!ctx.dryRun) await strategy.allocate?.(obj, current, this.env, res);
    const md = obj.metadata;
    const deleteNow = !!md.deletionTimestamp && (md.finalizers ?? []).length === 0 && (res.kind !== 'Pod' || res.group !== '' || (md.deletionGracePeriodSeconds ?? 0) === 0)
      && !(res.kind === 'Namespace' && res.group === '' && (obj.spec?.finalizers ?? []).length > 0);
    return { object: obj, deleteNow };
  }

  /** PUT: replaces the object (or its status). A stale resourceVersion is a 409. */
  async update(res: ServedResource, namespace: string | undefined, name: string, body: any, ctx: WriteContext, subresource?: string): Promise<{ object: any; created: boolean }> {
    if (subresource === 'scale') return this.updateScale(res, namespace, name, () => body, ctx);
    this.checkTypeMeta(res, body);
    const md = body.metadata;
    if (md.name && md.name !== name) throw badRequest(`the name of the object (${md.name}) does not match the name on the URL (${name})`);
    if (res.namespaced && md.namespace && namespace && md.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    md.name = name;
    if (res.namespaced) md.namespace = namespace;
    this.checkFields(res, body, ctx);
    const wantRv = md.resourceVersion ? String(md.resourceVersion) : undefined;
    const allowCreate = strategyFor(res).allowCreateOnUpdate === true;
    return this.guaranteedUpdate(res, namespace, name, async (current, rev) => {
      if (!current) {
        if (!allowCreate) throw notFound(res.group, res.plural, name);
        const b = clone(body);
        delete b.metadata.resourceVersion;
        return b;
      }
      if (wantRv !== undefined && wantRv !== String(rev)) throw conflict(res.group, res.plural, name, STALE_OBJECT);
      if (wantRv === undefined && strategyFor(res).requireResourceVersionOnUpdate) {
        throw invalid(res.group, res.kind, name, [{ type: 'FieldValueInvalid', field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
      }
      return clone(body);
    }, ctx, subresource, false);
  }

  /** PATCH: json, merge, strategic; 'apply' is server-side apply (creates a missing object). */
  async patch(res: ServedResource, namespace: string | undefined, name: string, type: PatchType, patchBody: unknown, ctx: WriteContext, subresource?: string, force = false): Promise<{ object: any; created: boolean }> {
    if (type === 'strategic' && res.custom) {
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
    }
    if (subresource === 'scale') {
      return this.updateScale(res, namespace, name, (scale) => this.patchDoc(type, { group: 'autoscaling', version: 'v1', kind: 'Scale' }, scale, patchBody, ctx, res, force), ctx);
    }
    if (type === 'apply') {
      const applied = patchBody as any;
      this.checkTypeMeta(res, applied);
      if (applied.metadata.name && applied.metadata.name !== name) throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
      if (!ctx.fieldManager) throw badRequest('PATCH, application/apply-patch+yaml requires fieldManager to be set');
    }
    return this.guaranteedUpdate(res, namespace, name, async (current) => {
      if (!current) {
        if (type !== 'apply') throw notFound(res.group, res.plural, name);
        const created = clone(patchBody as any);
        created.metadata.name = name;
        if (res.namespaced) created.metadata.namespace = namespace;
        const r = api.serverSideApply(gvkOf(res), res.custom?.schema, undefined, created, ctx.fieldManager!, force, new Date());
        const obj = r.object;
        delete obj.metadata.resourceVersion;
        return obj;
      }
      const patched = this.patchDoc(type, gvkOf(res), current, patchBody, ctx, res, force);
      this.checkTypeMeta(res, patched);
      const prv = patched.metadata.resourceVersion;
      if (prv !== undefined && prv !== '' && String(prv) !== current.metadata.resourceVersion) throw conflict(res.group, res.plural, name, STALE_OBJECT);
      if (type !== 'apply') this.checkFields(res, patched, ctx);
      return patched;
    }, type === 'apply' ? { ...ctx, applying: true } : ctx, subresource, false);
  }

  private patchDoc(type: PatchType, gvk: GroupVersionKind, current: any, patchBody: unknown, ctx: WriteContext, res: ServedResource, force: boolean): any {
    if (type !== 'apply') return applyPatchBody(type, gvk, current, patchBody);
    const r = api.serverSideApply(gvk, res.custom?.schema, current, clone(patchBody), ctx.fieldManager!, force, new Date());
    if (r.conflicts.length > 0 || !r.object) throw applyConflict(r.conflicts);
    return r.object;
  }

  /** The autoscaling/v1 Scale of a scalable object. */
  scaleOf(res: ServedResource, obj: any): any {
    const paths = scalePaths(res);
    const specReplicas = getPath(obj, paths.spec) ?? 0;
    const statusReplicas = getPath(obj, paths.status) ?? 0;
    let selector = '';
    if (paths.selector) selector = String(getPath(obj, paths.selector) ?? '');
    else if (obj.spec?.selector) selector = labelSelectorToString(obj.spec.selector);
    return {
      kind: 'Scale', apiVersion: 'autoscaling/v1',
      metadata: {
        name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp,
      },
      spec: { replicas: specReplicas },
      status: { replicas: statusReplicas, ...(selector ? { selector } : {}) },
    };
  }

  async updateScale(res: ServedResource, namespace: string | undefined, name: string, newScale: (current: any) => any, ctx: WriteContext): Promise<{ object: any; created: boolean }> {
    const r = await this.guaranteedUpdate(res, namespace, name, async (current, rev) => {
      if (!current) throw notFound(res.group, res.plural, name);
      const scale = newScale(this.scaleOf(res, current));
      if (scale?.kind && scale.kind !== 'Scale') throw badRequest(`the kind in the data (${scale.kind}) does not match the expected kind (Scale)`);
      const wantRv = scale?.metadata?.resourceVersion;
      if (wantRv && String(wantRv) !== String(rev)) throw conflict(res.group, res.plural, name, STALE_OBJECT);
      const replicas = scale?.spec?.replicas;
      if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
        throw invalid('autoscaling', 'Scale', name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
      }
      setPath(current, scalePaths(res).spec, replicas);
      return current;
    }, ctx, 'scale');
    return { object: this.scaleOf(res, r.object), created: false };
  }

  /**
   * DELETE. Returns the object and whether it is gone: pods with a grace period on a node and
   * objects with finalizers stay (deletionTimestamp set) and the caller answers 200 with them.
   */
  async delete(res: ServedResource, namespace: string | undefined, name: string, opts: DeleteOptions, ctx: WriteContext): Promise<{ object: any; deleted: boolean }> {
    const key = this.key(res, namespace, name);
    const strategy = strategyFor(res);
    for (let attempt = 0; attempt < 20; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw notFound(res.group, res.plural, name);
      const current = this.decode(res, kv);
      const md = current.metadata;
      const pre = opts.preconditions ?? {};
      if (pre.uid && pre.uid !== md.uid) {
        throw conflict(res.group, res.plural, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${md.uid}`);
      }
      if (pre.resourceVersion && pre.resourceVersion !== md.resourceVersion) {
        throw conflict(res.group, res.plural, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in meta: ${md.resourceVersion}`);
      }
      const next = clone(current);
      const nmd = next.metadata;
      let keep = false;
      // Graceful deletion: the object stays with deletionTimestamp until its owner (the kubelet) finishes.
      const grace = strategy.gracePeriod?.(current, opts);
      if (grace !== undefined && grace > 0) {
        const existingGrace = md.deletionGracePeriodSeconds;
        if (!md.deletionTimestamp || existingGrace === undefined || grace < existingGrace) {
          nmd.deletionTimestamp = nowRfc3339(new Date(Date.now() + grace * 1000));
          nmd.deletionGracePeriodSeconds = grace;
        }
        keep = true;
      } else if (grace === 0 && md.deletionTimestamp) {
        nmd.deletionGracePeriodSeconds = 0;
      }
      const fins = new Set<string>(nmd.finalizers ?? []);
      const policy = opts.propagationPolicy ?? (opts.orphanDependents ? 'Orphan' : undefined);
      if (policy === 'Foreground') { fins.add('foregroundDeletion'); fins.delete('orphan'); }
      if (policy === 'Orphan') { fins.add('orphan'); fins.delete('foregroundDeletion'); }
      if (fins.size > 0 && !md.deletionTimestamp && (md.finalizers ?? []).length + (policy === 'Foreground' || policy === 'Orphan' ? 1 : 0) > 0) {
        nmd.finalizers = [...fins];
      }
      if ((nmd.finalizers ?? []).length > 0) {
        keep = true;
        if (!nmd.deletionTimestamp) { nmd.deletionTimestamp = nowRfc3339(); nmd.deletionGracePeriodSeconds = nmd.deletionGracePeriodSeconds ?? 0; }
      }
      const special = await strategy.beforeDelete?.(next, current, this.env, ctx, res);
      if (special === 'keep') keep = true;
      if (ctx.dryRun) return { object: keep ? next : current, deleted: !keep };
      try {
        if (keep) {
          delete nmd.resourceVersion;
          if (JSON.stringify(stripTimes(clone(next))) === JSON.stringify(stripTimes(clone({ ...current, metadata: { ...md, resourceVersion: undefined } })))) {
            return { object: current, deleted: false };
          }
          const w = await this.store.update(key, encode(this.stored(res, next)), kv.modRevision, this.writeOptions(res, next));
          nmd.resourceVersion = String(w.modRevision);
          await strategy.afterMarkedForDeletion?.(next, this.env, res);
          return { object: next, deleted: false };
        }
        const d = await this.store.delete(key, kv.modRevision);
        md.resourceVersion = String(d.revision);
        await strategy.afterDelete?.(current, this.env, res);
        return { object: current, deleted: true };
      } catch (err) {
        if (storeCode(err) === 'STORE_CONFLICT') continue;
        if (storeCode(err) === 'STORE_NOT_FOUND') throw notFound(res.group, res.plural, name);
        throw err;
      }
    }
    throw conflict(res.group, res.plural, name, STALE_OBJECT);
  }

  /** DELETE on a collection: deletes every matching object; returns the deleted ones. */
  async deleteCollection(res: ServedResource, namespace: string | undefined, listOpts: ListOptions, opts: DeleteOptions, ctx: WriteContext): Promise<ListResult> {
    const list = await this.list(res, namespace, { labelSelector: listOpts.labelSelector, fieldSelector: listOpts.fieldSelector });
    const out: any[] = [];
    for (const item of list.items) {
      try {
        const r = await this.delete(res, item.metadata.namespace, item.metadata.name, opts, ctx);
        out.push(r.object);
      } catch (err) {
        if (err instanceof ApiError && err.httpStatus === 404) continue;
        throw err;
      }
    }
    return { items: out, resourceVersion: String(this.store.currentRevision()) };
  }

  /** The Status a finished delete answers (apiserver finalizeDelete). */
  deleteStatus(res: ServedResource, obj: any): any {
    return successStatus({ name: obj.metadata.name, group: res.group || undefined, kind: res.plural, uid: obj.metadata.uid });
  }
}

/** A watch whose events are served in another form than stored (fresh objects: the cache's stay shared). */
function convertedWatch(w: ObjectWatch, fromStorage: (o: any) => any): ObjectWatch {
  return {
    lastRevision: () => w.lastRevision(),
    close: () => w.close(),
    async *events() {
      for await (const ev of w.events()) {
        yield { type: ev.type, revision: ev.revision, key: ev.key, object: fromStorage(ev.object), ...(ev.oldObject ? { oldObject: fromStorage(ev.oldObject) } : {}) };
      }
    },
  };
}

function dedupeCauses(errs: FieldCause[]): FieldCause[] {
  const seen = new Set<string>();
  return errs.filter((e) => { const k = `${e.field}|${e.message}`; if (seen.has(k)) return false; seen.add(k); return true; });
}

/**
 * Whether an update writes what is stored: JSON-equal (same keys in the same order) but for
 * metadata.resourceVersion and managedFields times, which must not make an otherwise identical
 * write a new revision. Neither object is modified.
 */
export function sameButTimes(current: any, obj: any): boolean {
  return sameJSON(current, obj, 0);
}

// level 0: the object; 1: its metadata (no resourceVersion); 2: the managedFields list; 3: one
// entry of it (no time); 4: anything else.
function sameJSON(a: unknown, b: unknown, level: number): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    // As JSON.stringify writes them: undefined array items and non-finite numbers are null.
    return JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b);
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    const next = level === 2 ? 3 : 4;
    for (let i = 0; i < a.length; i++) if (!sameJSON(a[i], b[i], next)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (typeof (a as { toJSON?: unknown }).toJSON === 'function' || typeof (b as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(a) === JSON.stringify(b);
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const skip = level === 1 ? 'resourceVersion' : level === 3 ? 'time' : undefined;
  const ak = Object.keys(ao);
  const bk = Object.keys(bo);
  let j = 0;
  for (let i = 0; i < ak.length; i++) {
    const k = ak[i]!;
    const v = ao[k];
    if (!written(v) || k === skip) continue;
    while (j < bk.length && (!written(bo[bk[j]!]) || bk[j] === skip)) j++;
    if (j >= bk.length || bk[j] !== k) return false;
    if (!sameJSON(v, bo[k], level === 0 && k === 'metadata' ? 1 : level === 1 && k === 'managedFields' ? 2 : 4)) return false;
    j++;
  }
  while (j < bk.length && (!written(bo[bk[j]!]) || bk[j] === skip)) j++;
  return j >= bk.length;
}

/** Whether JSON.stringify writes an object property with this value. */
function written(v: unknown): boolean {
  return v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';
}

/** managedFields times and the like must not make an otherwise identical write a new revision. */
function stripTimes(obj: any): any {
  if (obj?.metadata?.managedFields) obj.metadata.managedFields = obj.metadata.managedFields.map((m: any) => ({ ...m, time: undefined }));
  return obj;
}

/** The manager name upstream derives from the User-Agent when fieldManager is not given. */
function managerFromUser(user: UserInfo): string {
  return user.username || 'unknown';
}

/** 409 with FieldManagerConflict causes (apimachinery managedfields conflict.go). */
export function applyConflict(conflicts: Array<{ manager: string; field: string; message: string }>): ApiError {
  return new ApiError(409, 'Conflict', api.conflictStatusMessage(conflicts), {
    causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: c.message, field: c.field })),
  });
}

function scalePaths(res: ServedResource): { spec: string; status: string; selector?: string } {
  const s = res.custom?.scale;
  if (s) return { spec: s.specReplicasPath, status: s.statusReplicasPath, selector: s.labelSelectorPath };
  return { spec: '.spec.replicas', status: '.status.replicas' };
}

export function getPath(obj: any, path: string): any {
  let v = obj;
  for (const p of path.replace(/^\./, '').split('.')) { if (v === undefined || v === null) return undefined; v = v[p]; }
  return v;
}

function setPath(obj: any, path: string, value: unknown): void {
  const parts = path.replace(/^\./, '').split('.');
  let v = obj;
  for (const p of parts.slice(0, -1)) { if (v[p] === undefined || v[p] === null) v[p] = {}; v = v[p]; }
  v[parts[parts.length - 1]!] = value;
}



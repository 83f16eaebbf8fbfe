// pods/ephemeralcontainers (what `kubectl debug <pod>` writes): GET answers the Pod; PUT and PATCH
// (json, merge, strategic) take a Pod and keep only its spec.ephemeralContainers, everything else
// comes from the stored pod (upstream's podEphemeralContainersStrategy). Ephemeral containers may
// be added, never changed or removed, and cannot have ports, probes, lifecycle or resources; then
// admission (RegistryHooks.admitEphemeralContainers: the ServiceAccount check) sees the updated pod.
// The node agent then starts the new containers; this is a plain apiserver write.
import type { IncomingMessage } from 'node:http';
import { applyDefaults } from '../../api/defaults';
import { duplicate, forbidden, invalid, notFound as fieldNotFound, required } from '../../api/validation';
import { decodeObjectBody, decodePatchBody, readBody } from './body';
import { ApiError, badRequest, conflict, invalid as invalidError, notFound, STALE_OBJECT, type FieldCause } from './errors';
import { applyPatchBody, PATCH_CONTENT_TYPES } from './patch';
import type { Registry } from './registry';
import type { ServedResource } from './resources';
import type { WriteContext } from './types';

const POD_GVK = { group: '', version: 'v1', kind: 'Pod' };
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Container fields an ephemeral container may not set (upstream's validateEphemeralContainers). */
const FORBIDDEN_FIELDS = ['ports', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'resources', 'resizePolicy', 'restartPolicy'];

/** Stable JSON for comparing two containers (key order differs between clients). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as any)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((v as any)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Upstream's ValidatePodEphemeralContainersUpdate, for a defaulted pod whose only change is
 * spec.ephemeralContainers: each one well-formed and uniquely named across every container of the
 * pod, and every existing ephemeral container still there, unchanged.
 */
export function validateEphemeralContainersUpdate(pod: any, old: any): FieldCause[] {
  const errs: FieldCause[] = [];
  const spec = pod.spec ?? {};
  const list: unknown = spec.ephemeralContainers ?? [];
  if (!Array.isArray(list)) return [invalid('spec.ephemeralContainers', list, 'must be a list')];
  const names = new Set<string>();
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) if (typeof c?.name === 'string') names.add(c.name);
  const regular = new Set(names);
  list.forEach((c: any, i: number) => {
    const p = `spec.ephemeralContainers[${i}]`;
    if (!c || typeof c !== 'object') { errs.push(invalid(p, c, 'must be an object')); return; }
    if (!c.name) errs.push(required(`${p}.name`));
    else if (typeof c.name !== 'string' || !DNS1123_LABEL.test(c.name) || c.name.length > 63) {
      errs.push(invalid(`${p}.name`, c.name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"));
    } else if (names.has(c.name)) errs.push(duplicate(`${p}.name`, c.name));
    else names.add(c.name);
    if (!c.image) errs.push(required(`${p}.image`));
    for (const f of FORBIDDEN_FIELDS) {
      if (c[f] !== undefined && c[f] !== null && !(f === 'resources' && Object.keys(c[f]).length === 0)) {
        errs.push(forbidden(`${p}.${f}`, 'cannot be set for an Ephemeral Container'));
      }
    }
    (c.volumeMounts ?? []).forEach((m: any, j: number) => {
      if (m?.subPath) errs.push(forbidden(`${p}.volumeMounts[${j}].subPath`, 'cannot be set for an Ephemeral Container'));
    });
    if (c.targetContainerName && !regular.has(c.targetContainerName)) errs.push(fieldNotFound(`${p}.targetContainerName`, c.targetContainerName));
  });
  const byName = new Map<string, any>();
  for (const c of list) if (c && typeof c === 'object' && typeof c.name === 'string') byName.set(c.name, c);
  for (const prev of old.spec?.ephemeralContainers ?? []) {
    const now = byName.get(prev.name);
    if (!now) errs.push(forbidden('spec.ephemeralContainers', `existing ephemeral containers "${prev.name}" may not be removed`));
    else if (canonical(now) !== canonical(prev)) errs.push(forbidden(`spec.ephemeralContainers[${prev.name}]`, `existing ephemeral containers "${prev.name}" may not be changed`));
  }
  return errs;
}

/** The stored pod with only spec.ephemeralContainers taken from `requested` (defaulted, validated). */
export function withEphemeralContainers(current: any, requested: any): any {
  const next = structuredClone(current);
  const wanted = requested?.spec?.ephemeralContainers;
  if (wanted === undefined || wanted === null) delete next.spec.ephemeralContainers;
  else next.spec.ephemeralContainers = structuredClone(wanted);
  applyDefaults(POD_GVK, next);
  const errs = validateEphemeralContainersUpdate(next, current);
  if (errs.length > 0) throw invalidError('', 'Pod', current.metadata.name, errs);
  return next;
}

/**
 * Serves one request on pods/<name>/ephemeralcontainers and returns the Pod to answer with.
 * `verb` is the handler's: get, update (PUT) or patch.
 */
export async function serveEphemeralContainers(registry: Registry, res: ServedResource, namespace: string, name: string, verb: string, req: IncomingMessage, ctx: WriteContext): Promise<any> {
  if (verb === 'get') return registry.get(res, namespace, name);
  let change: (current: any) => any;
  if (verb === 'update') {
    const body = decodeObjectBody(await readBody(req), req.headers['content-type'], false).obj;
    if (body?.kind !== undefined && body.kind !== 'Pod') throw badRequest(`the body of the request must be a Pod, not ${String(body.kind)}`);
    if (body?.metadata?.name && body.metadata.name !== name) throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    change = (current) => {
      const rv = body?.metadata?.resourceVersion;
      if (rv && String(rv) !== current.metadata.resourceVersion) throw conflict('', 'pods', name, STALE_OBJECT);
      return body;
    };
  } else if (verb === 'patch') {
    const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const type = PATCH_CONTENT_TYPES[ct];
    if (!type || type === 'apply') {
      throw new ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json');
    }
    const patch = decodePatchBody(await readBody(req), type);
    change = (current) => {
      const patched = applyPatchBody(type, POD_GVK, current, patch);
      const rv = patched?.metadata?.resourceVersion;
      if (rv && String(rv) !== current.metadata.resourceVersion) throw conflict('', 'pods', name, STALE_OBJECT);
      return patched;
    };
  } else {
    throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  }
  const out = await registry.guaranteedUpdate(res, namespace, name, async (current) => {
    if (!current) throw notFound('', 'pods', name);
    const next = withEphemeralContainers(current, change(current));
    await registry.hooks.admitEphemeralContainers?.(next);
    return next;
  }, ctx, 'ephemeralcontainers');
  return out.object;
}

// The one seam between the apiserver and the api/ helpers that land in parallel (defaults,
// validation, protobuf, OpenAPI, patch, managedFields). Every call the server makes into them goes
// through here, so switching from a stand-in to the real export is a change in this file only.
import type { GroupVersionKind } from '../../api/scheme';

export interface FieldError {
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueDuplicate' | 'FieldValueForbidden' | 'FieldValueTooLong' | string;
  field: string;
  message: string;
}

export class ProtobufUnavailableError extends Error {
  readonly code = 'ProtobufUnavailable';
  constructor() { super('protobuf request bodies are not decodable yet'); this.name = 'ProtobufUnavailableError'; }
}

/** Defaults for built-in kinds (restartPolicy, imagePullPolicy, ...). */
export function applyDefaults(_gvk: GroupVersionKind, _obj: any): void {
  // stand-in until api/defaults lands
}

/** Validation errors of a built-in object (old for updates). */
export function validateObject(_gvk: GroupVersionKind, _obj: any, _old?: any): FieldError[] {
  return [];
}

/** Unknown-field paths of a built-in object, for strict decoding. */
export function unknownFields(_gvk: GroupVersionKind, _obj: any): string[] {
  return [];
}

/** Validation of a custom resource against its CRD's openAPIV3Schema. */
export function validateAgainstSchema(_schema: any, _obj: any, _path: string): FieldError[] {
  return [];
}

export function decodeProtobufBody(_body: Buffer): any {
  throw new ProtobufUnavailableError();
}

/** OpenAPI v3 documents by group-version path ('api/v1', 'apis/apps/v1'); undefined until api/openapi lands. */
export function buildOpenAPIv3Documents(_resources: unknown[], _extra?: unknown): Map<string, object> | undefined {
  return undefined;
}

/** Records the write's manager in metadata.managedFields (stand-in: one Update entry per manager, no field sets). */
export function updateManagedFields(gvk: GroupVersionKind, _schema: unknown, _old: any, obj: any, manager: string, subresource: string | undefined, now: string): void {
  const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
  const list: any[] = (obj.metadata.managedFields ?? []).filter((m: any) => !(m.manager === manager && m.operation === 'Update' && (m.subresource ?? '') === (subresource ?? '')));
  list.push({ manager, operation: 'Update', apiVersion, time: now, fieldsType: 'FieldsV1', fieldsV1: {}, ...(subresource ? { subresource } : {}) });
  obj.metadata.managedFields = list;
}

/** Server-side apply (stand-in: a merge of the applied configuration, no conflicts detected). */
export function serverSideApply(gvk: GroupVersionKind, _schema: unknown, live: any, applied: any, manager: string, _force: boolean, now: string, subresource?: string): { object: any; conflicts: Array<{ manager: string; field: string }> } {
  const merge = (a: any, b: any): any => {
    if (b === null || typeof b !== 'object' || Array.isArray(b) || a === null || typeof a !== 'object' || Array.isArray(a)) return b;
    const out: any = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v);
    return out;
  };
  const object = live ? merge(live, applied) : applied;
  const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
  const list: any[] = (object.metadata.managedFields ?? []).filter((m: any) => !(m.manager === manager && m.operation === 'Apply'));
  list.push({ manager, operation: 'Apply', apiVersion, time: now, fieldsType: 'FieldsV1', fieldsV1: {}, ...(subresource ? { subresource } : {}) });
  object.metadata.managedFields = list;
  return { object, conflicts: [] };
}

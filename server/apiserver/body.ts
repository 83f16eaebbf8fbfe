// Request bodies: JSON (with duplicate-key detection for strict decoding), YAML, and Kubernetes
// protobuf; a 3 MiB limit like upstream's; every failure a 4xx Status naming the problem.
import type { IncomingMessage } from 'node:http';
import YAML from 'yaml';
import { ApiError, badRequest, tooLarge, unsupportedMediaType } from './errors';
import * as api from './apideps';

/** Upstream's maxRequestBodyBytes (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) { req.resume(); throw tooLarge(limit); }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Paths of keys that appear twice in the same JSON object (`metadata.name`, `spec.containers[0].image`). */
export function duplicateJsonKeys(text: string): string[] {
  const dups: string[] = [];
  let i = 0;
  const ws = (): void => { while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++; };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') { if (text[i] === '\\') i++; i++; }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        const k = str();
        const p = path ? `${path}.${k}` : k;
        if (seen.has(k)) dups.push(p);
        seen.add(k);
        ws(); i++; // ':'
        value(p);
        ws();
        if (text[i] === ',') { i++; continue; }
        i++; // '}'
        return;
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') { i++; return; }
      for (let n = 0; ; n++) {
        value(`${path}[${n}]`);
        ws();
        if (text[i] === ',') { i++; continue; }
        i++;
        return;
      }
    }
    if (ch === '"') { str(); return; }
    while (i < text.length && !',}] \n\r\t'.includes(text[i]!)) i++;
  };
  try { value(''); } catch { /* JSON.parse reports malformed input */ }
  return dups;
}

export interface DecodedBody {
  obj: any;
  duplicates: string[];
  /** Protobuf bodies are typed: they cannot carry unknown fields. */
  typed: boolean;
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
}

function parseJson(text: string, what: string): any {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`${what}: json parse error: ${(err as Error).message}`);
  }
}

function parseYaml(text: string): { obj: any; duplicates: string[] } {
  const doc = YAML.parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length > 0) {
    throw badRequest(`error converting YAML to JSON: yaml: ${doc.errors[0]!.message.split('\n')[0]}`);
  }
  const duplicates: string[] = [];
  YAML.visit(doc, {
    Map(_k, node, path) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = String((pair.key as { value?: unknown })?.value ?? pair.key);
        if (seen.has(key)) {
          const prefix = path.filter((p) => YAML.isPair(p)).map((p) => String(((p as YAML.Pair).key as { value?: unknown })?.value)).join('.');
          duplicates.push(prefix ? `${prefix}.${key}` : key);
        }
        seen.add(key);
      }
    },
  });
  return { obj: doc.toJS({ maxAliasCount: 100 }), duplicates };
}

/** Decodes a create/update body by its Content-Type. */
export function decodeObjectBody(body: Buffer, contentType: string | undefined, checkDuplicates: boolean): DecodedBody {
  const mt = mediaType(contentType);
  if (body.length === 0) throw badRequest('the body of the request is empty');
  switch (mt) {
    case 'application/json': case '*/*': case '': {
      const text = body.toString('utf8');
      const obj = parseJson(text, "couldn't get version/kind");
      return { obj, duplicates: checkDuplicates ? duplicateJsonKeys(text) : [], typed: false };
    }
    case 'application/yaml': case 'application/x-yaml': case 'text/yaml': {
      const r = parseYaml(body.toString('utf8'));
      return { obj: r.obj, duplicates: checkDuplicates ? r.duplicates : [], typed: false };
    }
    case 'application/vnd.kubernetes.protobuf': {
      try {
        return { obj: api.decodeProtobufBody(body), duplicates: [], typed: true };
      } catch (err) {
        if (err instanceof ApiError) throw err;
        throw badRequest(`the body of the request could not be decoded as protobuf: ${(err as Error).message}`);
      }
    }
    default:
      throw unsupportedMediaType(mt);
  }
}

/** Decodes a PATCH body: JSON for json/merge/strategic, YAML or JSON for apply. */
export function decodePatchBody(body: Buffer, type: 'json' | 'merge' | 'strategic' | 'apply'): any {
  if (body.length === 0) throw badRequest('the body of the request is empty');
  const text = body.toString('utf8');
  if (type === 'apply') {
    const t = text.trimStart();
    if (t.startsWith('{')) return parseJson(text, 'error decoding apply patch');
    return parseYaml(text).obj;
  }
  return parseJson(text, 'error decoding patch');
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

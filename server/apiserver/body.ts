// Request bodies: JSON (with duplicate-key detection for strict decoding), YAML, and Kubernetes
// protobuf; a 3 MiB limit like upstream's; every failure a 4xx Status naming the problem.
import type { IncomingMessage } from 'node:http';
import YAML from 'yaml';
import { ApiError, badRequest, tooLarge, unsupportedMediaType } from './errors';
import * as api from './apideps';

/** Upstream's maxRequestBodyBytes (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  // Already read to its end (a second read of the same request): nothing more comes.
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  // Stream events with module-level listeners: no async iterator and no closures per request
  // (each closure costs a defineProperty for its name in the keepNames build).
  return new Promise((resolve, reject) => {
    (req as BodyRequest)[BODY] = { chunks: [], size: 0, limit, resolve, reject };
    req.on('data', onBodyData);
    req.on('end', onBodyEnd);
    req.on('error', onBodyError);
    req.on('close', onBodyClose);
  });
}

const BODY = Symbol('orch.body');
interface BodyState { chunks: Buffer[]; size: number; limit: number; resolve: (b: Buffer) => void; reject: (e: Error) => void }
type BodyRequest = IncomingMessage & { [BODY]?: BodyState };

/** Detaches the listeners and hands back the read's state (once). */
function finishBody(req: BodyRequest): BodyState | undefined {
  const st = req[BODY];
  req[BODY] = undefined;
  req.off('data', onBodyData);
  req.off('end', onBodyEnd);
  req.off('error', onBodyError);
  req.off('close', onBodyClose);
  return st;
}
function onBodyData(this: BodyRequest, c: Buffer): void {
  const st = this[BODY];
  if (!st) return;
  st.size += c.length;
  if (st.size > st.limit) { finishBody(this); this.resume(); st.reject(tooLarge(st.limit)); return; }
  st.chunks.push(c);
}
function onBodyEnd(this: BodyRequest): void {
  const st = finishBody(this);
  st?.resolve(st.chunks.length === 1 ? st.chunks[0]! : Buffer.concat(st.chunks, st.size));
}
function onBodyError(this: BodyRequest, err: Error): void { finishBody(this)?.reject(err); }
function onBodyClose(this: BodyRequest): void {
  if (!this.complete) finishBody(this)?.reject(new ApiError(400, 'BadRequest', 'the request body was cut off'));
}

/**
 * Paths of keys that appear twice in the same JSON object (`metadata.name`, `spec.containers[0].image`).
 * One pass over char codes; keys without escapes are sliced, not parsed, and a path string is
 * built only for a duplicate (this runs on every JSON create and update).
 */
export function duplicateJsonKeys(text: string): string[] {
  const scan = new DuplicateKeyScan(text);
  try { scan.value(); } catch { /* JSON.parse reports malformed input */ }
  return scan.dups;
}

/** The scanner's state; methods rather than closures, which cost an allocation per call. */
class DuplicateKeyScan {
  readonly dups: string[] = [];
  private readonly path: Array<string | number> = [];
  private i = 0;
  private readonly n: number;
  constructor(private readonly text: string) { this.n = text.length; }

  private ws(): void {
    const t = this.text;
    for (;;) {
      const c = t.charCodeAt(this.i);
      if (c === 32 || c === 10 || c === 13 || c === 9) this.i++; else return;
    }
  }

  /** At an opening quote: the string's value; leaves i after the closing quote. */
  private str(): string {
    const t = this.text;
    const start = ++this.i;
    for (;;) {
      const q = t.indexOf('"', this.i);
      if (q < 0) { this.i = this.n + 1; return t.slice(start); }
      // A quote preceded by an odd number of backslashes is escaped.
      let b = q - 1;
      while (b >= start && t.charCodeAt(b) === 92) b--;
      this.i = q + 1;
      if ((q - 1 - b) % 2 === 0) break;
    }
    const raw = t.slice(start, this.i - 1);
    return raw.includes('\\') ? JSON.parse(t.slice(start - 1, this.i)) as string : raw;
  }

  private pathText(key: string): string {
    let p = '';
    for (const seg of this.path) p += typeof seg === 'number' ? `[${seg}]` : p ? `.${seg}` : seg;
    return p ? `${p}.${key}` : key;
  }

  value(): void {
    const t = this.text;
    this.ws();
    const ch = t.charCodeAt(this.i);
    if (ch === 123) { // {
      this.i++;
      this.ws();
      if (t.charCodeAt(this.i) === 125) { this.i++; return; }
      let seen: Set<string> | undefined;
      let first: string | undefined;
      for (;;) {
        this.ws();
        const k = this.str();
        // Most objects are small: a Set only from the second key on.
        if (first === undefined) first = k;
        else {
          seen ??= new Set([first]);
          if (seen.has(k)) this.dups.push(this.pathText(k));
          else seen.add(k);
        }
        this.ws(); this.i++; // ':'
        this.path.push(k);
        this.value();
        this.path.pop();
        this.ws();
        if (t.charCodeAt(this.i) === 44) { this.i++; continue; } // ,
        this.i++; // '}'
        return;
      }
    }
    if (ch === 91) { // [
      this.i++;
      this.ws();
      if (t.charCodeAt(this.i) === 93) { this.i++; return; }
      for (let k = 0; ; k++) {
        this.path.push(k);
        this.value();
        this.path.pop();
        this.ws();
        if (t.charCodeAt(this.i) === 44) { this.i++; continue; }
        this.i++;
        return;
      }
    }
    if (ch === 34) { this.str(); return; }
    for (;;) {
      const c = t.charCodeAt(this.i);
      if (this.i >= this.n || c === 44 || c === 125 || c === 93 || c === 32 || c === 10 || c === 13 || c === 9) return;
      this.i++;
    }
  }
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

// /openapi/v2: one Swagger 2.0 document, JSON or gnostic protobuf (what kubectl's client-side
// validation reads), built on first request and again only when the served resources change.
// /openapi/v3: the index and one document per group-version, built by api/openapi from the served
// resources (custom resources included), each with a content hash (sha512, uppercase hex, as
// kube-openapi does) so a changed document gets a new URL and kubectl's HTTP cache stays correct.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as api from './apideps';
import type { ResourceTable } from './resources';

export interface OpenApiDocument { body: Buffer; hash: string }

/** The v2 document in both encodings; each hash is its body's, so an ETag changes with its bytes. */
export interface OpenApiV2Documents { json: OpenApiDocument; protobuf: OpenApiDocument }

/** The media type kubectl asks /openapi/v2 for. */
export const OPENAPI_V2_PROTOBUF_ACCEPT = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/**
 * The Content-Type of the protobuf answer (also accepted in Accept), as kube-openapi sends it: the
 * '@' spelling is not a valid media type, and client-go's REST client fails on it in a response
 * ("mime: unexpected content after media subtype").
 */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

const hashOf = (body: Buffer) => createHash('sha512').update(body).digest('hex').toUpperCase();

export class OpenApiService {
  private docs = new Map<string, OpenApiDocument>();
  private builtFor = -1;
  private v2?: OpenApiV2Documents;
  private v2BuiltFor = -1;

  constructor(private readonly table: ResourceTable) {}

  private refresh(): void {
    if (this.builtFor === this.table.generation()) return;
    const built = api.buildOpenAPIv3Documents(this.table.all(), this.table.customResources());
    const next = new Map<string, OpenApiDocument>();
    for (const [path, doc] of built ?? []) {
      const body = Buffer.from(JSON.stringify(doc));
      next.set(path, { body, hash: hashOf(body) });
    }
    this.docs = next;
    this.builtFor = this.table.generation();
  }

  index(): object {
    this.refresh();
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const [p, d] of this.docs) paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${d.hash}` };
    return { paths };
  }

  document(path: string): OpenApiDocument | undefined {
    this.refresh();
    return this.docs.get(path);
  }

  /** /openapi/v2, rebuilt when the resource table's generation moved (a CRD was added or changed). */
  documentV2(): OpenApiV2Documents {
    const gen = this.table.generation();
    if (!this.v2 || this.v2BuiltFor !== gen) {
      const built = api.buildOpenAPIv2(this.table.all(), this.table.customResources());
      const json = Buffer.from(JSON.stringify(built.json));
      const protobuf = Buffer.from(built.protobuf);
      this.v2 = { json: { body: json, hash: hashOf(json) }, protobuf: { body: protobuf, hash: hashOf(protobuf) } };
      this.v2BuiltFor = gen;
    }
    return this.v2;
  }
}

/**
 * Answers GET /openapi/v2: protobuf when Accept names gnostic's media type (either spelling), JSON otherwise. The
 * ETag is the body's hash and `Vary: Accept` keeps the two encodings apart in HTTP caches, so
 * kubectl's disk cache revalidates (If-None-Match) and sees a new document once a CRD changes it.
 */
export function serveOpenAPIv2(service: OpenApiService, req: IncomingMessage, res: ServerResponse): void {
  const wanted = (req.headers.accept ?? '').split(',').map((t) => t.split(';')[0]!.trim().toLowerCase());
  const proto = wanted.includes(OPENAPI_V2_PROTOBUF_ACCEPT) || wanted.includes(OPENAPI_V2_PROTOBUF);
  const docs = service.documentV2();
  const doc = proto ? docs.protobuf : docs.json;
  const etag = `"${doc.hash}"`;
  const common = { ETag: etag, Vary: 'Accept', 'Cache-Control': 'no-cache, private' };
  const match = req.headers['if-none-match'];
  if (match && match.split(',').map((t) => t.trim()).includes(etag)) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  res.writeHead(200, { ...common, 'Content-Type': proto ? OPENAPI_V2_PROTOBUF : 'application/json', 'Content-Length': String(doc.body.length) });
  res.end(doc.body);
}

// /openapi/v3: the index and one document per group-version, built by api/openapi from the served
// resources (custom resources included), each with a content hash (sha512, uppercase hex, as
// kube-openapi does) so a changed document gets a new URL and kubectl's HTTP cache stays correct.
import { createHash } from 'node:crypto';
import * as api from './apideps';
import type { ResourceTable } from './resources';

export interface OpenApiDocument { body: Buffer; hash: string }

export class OpenApiService {
  private docs = new Map<string, OpenApiDocument>();
  private builtFor = -1;

  constructor(private readonly table: ResourceTable) {}

  private refresh(): void {
    if (this.builtFor === this.table.generation()) return;
    const built = api.buildOpenAPIv3Documents(this.table.all(), this.table.customResources());
    const next = new Map<string, OpenApiDocument>();
    for (const [path, doc] of built ?? []) {
      const body = Buffer.from(JSON.stringify(doc));
      next.set(path, { body, hash: createHash('sha512').update(body).digest('hex').toUpperCase() });
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
}

// Seams through which features outside the generic REST verbs plug into the HTTP handler:
// extra non-resource paths (the ServiceAccount issuer's OIDC discovery and JWKS) and POST
// subresources with their own logic (serviceaccounts/token, pods/eviction).
import type { ServedResource } from './resources';
import type { UserInfo, WriteContext } from './types';

export interface SubresourceCall {
  resource: ServedResource;
  namespace?: string;
  name: string;
  /** The decoded request body (JSON, YAML or protobuf). */
  body: any;
  ctx: WriteContext;
  user: UserInfo;
}

/** Answers a create on a subresource; throws ApiError for failures. */
export type SubresourceHandler = (call: SubresourceCall) => Promise<{ status: number; body: unknown }>;

export interface HandlerExtensions {
  /** A GET on a non-resource path this extension serves, or undefined. */
  nonResource?: (path: string) => { contentType: string; body: string } | undefined;
  /** POST handlers keyed `<group>/<plural>/<subresource>` (`/serviceaccounts/token`, `/pods/eviction`). */
  subresources?: Record<string, SubresourceHandler>;
}

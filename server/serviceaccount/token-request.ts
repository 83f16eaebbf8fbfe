// TokenRequest (POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token, `kubectl create
// token`): validates the request as upstream's token REST does (expiration bounds, the bound
// object's kind, existence, UID and ServiceAccount), then signs a token. `request()` is the same
// path for in-process callers (the ServiceAccount controller, token projection for pods).
import { badRequest, conflict, invalid, notFound } from '../apiserver/errors';
import type { Registry } from '../apiserver/registry';
import type { SubresourceCall, SubresourceHandler } from '../apiserver/extensions';
import { DEFAULT_EXPIRATION_SECONDS, MAX_EXPIRATION_SECONDS, MIN_EXPIRATION_SECONDS, type ServiceAccountTokens } from './tokens';

export interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string };
}

/** A TokenRequest as the API returns it: spec defaulted, status {token, expirationTimestamp}. */
export interface TokenRequestObject {
  apiVersion: 'authentication.k8s.io/v1';
  kind: 'TokenRequest';
  metadata: { name: string; namespace: string; creationTimestamp: string };
  spec: { audiences: string[]; expirationSeconds: number; boundObjectRef: TokenRequestSpec['boundObjectRef'] | null };
  status: { token: string; expirationTimestamp: string };
}

const BINDABLE: Record<string, 'pods' | 'secrets' | 'nodes'> = { Pod: 'pods', Secret: 'secrets', Node: 'nodes' };

export class TokenRequestService {
  constructor(private readonly registry: Registry, readonly tokens: ServiceAccountTokens) {}

  /** The `/serviceaccounts/token` subresource handler. */
  readonly handle: SubresourceHandler = async (call: SubresourceCall) => {
    const body = call.body ?? {};
    if (body.kind && body.kind !== 'TokenRequest') throw badRequest(`the kind in the data (${body.kind}) does not match the expected kind (TokenRequest)`);
    const out = await this.request(call.namespace ?? '', call.name, body.spec ?? {}, call.ctx.dryRun === true);
    return { status: 201, body: out };
  };

  /**
   * Issues a token for ServiceAccount `namespace/name`. Throws ApiError: 404 for a missing
   * ServiceAccount or bound object, 422 for a bad expiration, 400 for an unbindable kind or a pod
   * running as another ServiceAccount, 409 for a bound object whose UID changed.
   */
  async request(namespace: string, name: string, spec: TokenRequestSpec, dryRun = false): Promise<TokenRequestObject> {
    const expirationSeconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
    if (!Number.isInteger(expirationSeconds) || expirationSeconds < MIN_EXPIRATION_SECONDS) {
      throw invalid('authentication.k8s.io', 'TokenRequest', name, [{ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', message: `Invalid value: ${JSON.stringify(expirationSeconds)}: may not specify a duration less than 10 minutes` }]);
    }
    if (expirationSeconds > MAX_EXPIRATION_SECONDS) {
      throw invalid('authentication.k8s.io', 'TokenRequest', name, [{ type: 'FieldValueTooLong', field: 'spec.expirationSeconds', message: `Invalid value: ${expirationSeconds}: may not specify a duration larger than 2^32 seconds` }]);
    }
    const saRes = this.registry.resource('', 'serviceaccounts');
    const sa = (await this.registry.getRaw(saRes, namespace, name))?.obj;
    if (!sa) throw notFound('', 'serviceaccounts', name);
    const audiences = spec.audiences && spec.audiences.length ? spec.audiences : this.tokens.apiAudiences;
    const ref = spec.boundObjectRef ?? undefined;
    let pod: { name: string; uid: string } | undefined;
    let secret: { name: string; uid: string } | undefined;
    let node: { name: string; uid: string } | undefined;
    if (ref) {
      const resource = BINDABLE[ref.kind ?? ''];
      if (!resource || (ref.apiVersion && ref.apiVersion !== 'v1')) throw badRequest(`cannot bind token to object of type ${ref.apiVersion ?? ''}, Kind=${ref.kind ?? ''}`);
      if (!ref.name) throw invalid('authentication.k8s.io', 'TokenRequest', name, [{ type: 'FieldValueRequired', field: 'spec.boundObjectRef.name', message: 'Required value' }]);
      const res = this.registry.resource('', resource);
      const obj = (await this.registry.getRaw(res, resource === 'nodes' ? undefined : namespace, ref.name))?.obj;
      if (!obj) throw notFound('', resource, ref.name);
      if (ref.uid && ref.uid !== obj.metadata.uid) {
        throw conflict('', resource, ref.name, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
      }
      const bound = { name: obj.metadata.name, uid: obj.metadata.uid };
      if (resource === 'pods') {
        if ((obj.spec?.serviceAccountName ?? 'default') !== name) throw badRequest(`cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`);
        pod = bound;
        // Where the pod runs goes into the token too (upstream's ServiceAccountTokenPodNodeInfo).
        const nodeName = obj.spec?.nodeName;
        if (nodeName) {
          const n = (await this.registry.getRaw(this.registry.resource('', 'nodes'), undefined, nodeName))?.obj;
          if (n) node = { name: nodeName, uid: n.metadata.uid };
        }
      } else if (resource === 'secrets') secret = bound;
      else node = bound;
    }
    // A dry run validates everything and signs nothing (upstream answers without a token).
    const minted = dryRun ? { token: '', expirationTimestamp: '', expirationSeconds } : await this.tokens.sign({ namespace, serviceAccount: { name, uid: sa.metadata.uid }, audiences, expirationSeconds, pod, secret, node });
    return {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
      metadata: { name, namespace, creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') },
      spec: { audiences, expirationSeconds: minted.expirationSeconds, boundObjectRef: ref ? { kind: ref.kind, apiVersion: ref.apiVersion ?? 'v1', name: ref.name, ...(ref.uid ? { uid: ref.uid } : {}) } : null },
      status: { token: minted.token, expirationTimestamp: minted.expirationTimestamp },
    };
  }
}

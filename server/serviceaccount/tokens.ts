// Bound ServiceAccount tokens (upstream's pkg/serviceaccount and the TokenRequest REST of
// pkg/registry/core/serviceaccount/storage/token.go): JWTs signed with the server's key, carrying
// the `kubernetes.io` private claims, and the authenticator that accepts them only while the
// ServiceAccount (same UID) and any bound Pod/Secret/Node (same UID, not long deleted) still exist.
import { randomUUID } from 'node:crypto';
import { SignJWT, decodeJwt, exportJWK, jwtVerify } from 'jose';
import type { UserInfo } from '../apiserver/types';
import type { ServiceAccountKey } from './keys';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** The issuer of legacy Secret-based tokens (upstream's LegacyIssuer). */
export const LEGACY_ISSUER = 'kubernetes/serviceaccount';
/** TokenRequest's defaulted and minimum expirations (seconds). */
export const DEFAULT_EXPIRATION_SECONDS = 3600;
export const MIN_EXPIRATION_SECONDS = 600;
export const MAX_EXPIRATION_SECONDS = 2 ** 32;
/** The kubelet asks for this odd duration; upstream then issues a year-long token with `warnafter` (ExtendExpiration). */
export const KUBELET_EXPIRATION_SECONDS = 3607;
const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 3600;
const VERIFIED_CACHE_MS = 10_000;
const VERIFIED_CACHE_SIZE = 4096;
/** Tokens bound to an object deleted longer ago than this are refused (upstream's leeway). */
const DELETION_LEEWAY_MS = 60_000;

export class TokenError extends Error {
  readonly code: 'TokenInvalid' | 'TokenBindingInvalid';
  constructor(code: TokenError['code'], message: string) { super(message); this.code = code; this.name = 'TokenError'; }
}

export interface ObjectRef { name: string; uid: string }

export interface MintRequest {
  namespace: string;
  serviceAccount: ObjectRef;
  audiences: string[];
  expirationSeconds: number;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
}

export interface MintedToken { token: string; expirationTimestamp: string; expirationSeconds: number }

/** Reads an object the authenticator checks (a ServiceAccount, Pod, Secret or Node); undefined when absent. */
export type ObjectLookup = (resource: 'serviceaccounts' | 'pods' | 'secrets' | 'nodes', namespace: string | undefined, name: string) => Promise<any | undefined>;

export interface ServiceAccountTokenOptions {
  key: ServiceAccountKey;
  lookup: ObjectLookup;
  issuer?: string;
  /** The audiences the API itself accepts (default: [issuer]). */
  apiAudiences?: string[];
  now?: () => number;
}

function rfc3339(ms: number): string { return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'); }

/**
 * Contract: `sign` only encodes and signs (callers check that the objects exist); `authenticate`
 * returns undefined for tokens that are not this issuer's, and throws TokenError for tokens that
 * are but fail a check, so a TokenReview and the request log can say why.
 */
export class ServiceAccountTokens {
  readonly issuer: string;
  readonly apiAudiences: string[];
  private readonly now: () => number;
  private readonly verifiedCache = new Map<string, { payload: Record<string, any>; from: number; until: number }>();

  constructor(private readonly o: ServiceAccountTokenOptions) {
    this.issuer = o.issuer ?? DEFAULT_ISSUER;
    this.apiAudiences = o.apiAudiences ?? [this.issuer];
    this.now = o.now ?? Date.now;
  }

  async sign(r: MintRequest): Promise<MintedToken> {
    const nowMs = this.now();
    const iat = Math.floor(nowMs / 1000);
    let seconds = r.expirationSeconds;
    let warnafter: number | undefined;
    if (seconds === KUBELET_EXPIRATION_SECONDS && r.pod) { warnafter = iat + seconds; seconds = EXTENDED_EXPIRATION_SECONDS; }
    const exp = iat + seconds;
    const k8s: Record<string, unknown> = {
      namespace: r.namespace,
      serviceaccount: { name: r.serviceAccount.name, uid: r.serviceAccount.uid },
      ...(r.pod ? { pod: { name: r.pod.name, uid: r.pod.uid } } : {}),
      ...(r.secret ? { secret: { name: r.secret.name, uid: r.secret.uid } } : {}),
      ...(r.node ? { node: { name: r.node.name, uid: r.node.uid } } : {}),
      ...(warnafter ? { warnafter } : {}),
    };
    const token = await new SignJWT({ 'kubernetes.io': k8s })
      .setProtectedHeader({ alg: this.o.key.alg, kid: this.o.key.kid })
      .setIssuer(this.issuer)
      .setSubject(`system:serviceaccount:${r.namespace}:${r.serviceAccount.name}`)
      .setAudience(r.audiences)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.o.key.privateKey);
    return { token, expirationTimestamp: rfc3339(exp * 1000), expirationSeconds: seconds };
  }

  /**
   * A legacy token for a `kubernetes.io/service-account-token` Secret (what upstream's tokens
   * controller writes): no expiry and no audience; valid while the Secret holds exactly it.
   */
  async signLegacy(namespace: string, serviceAccount: ObjectRef, secretName: string): Promise<string> {
    return new SignJWT({
      'kubernetes.io/serviceaccount/namespace': namespace,
      'kubernetes.io/serviceaccount/secret.name': secretName,
      'kubernetes.io/serviceaccount/service-account.name': serviceAccount.name,
      'kubernetes.io/serviceaccount/service-account.uid': serviceAccount.uid,
    })
      .setProtectedHeader({ alg: this.o.key.alg, kid: this.o.key.kid })
      .setIssuer(LEGACY_ISSUER)
      .setSubject(`system:serviceaccount:${namespace}:${serviceAccount.name}`)
      .sign(this.o.key.privateKey);
  }

  /** The user of a token this issuer signed, and the wanted audiences it is valid for. */
  async authenticate(token: string, audiences?: string[]): Promise<{ user: UserInfo; audiences: string[] } | undefined> {
    if (token.split('.').length !== 3) return undefined;
    let unverified: Record<string, unknown>;
    try { unverified = decodeJwt(token); } catch { return undefined; }
    if (unverified.iss === LEGACY_ISSUER) return this.authenticateLegacy(token, audiences);
    if (unverified.iss !== this.issuer) return undefined;
    const payload = await this.verified(token);
    const wanted = audiences && audiences.length ? audiences : this.apiAudiences;
    const tokenAud: string[] = Array.isArray(payload.aud) ? payload.aud : payload.aud ? [payload.aud] : [];
    const matched = wanted.filter((a) => tokenAud.includes(a));
    if (matched.length === 0) throw new TokenError('TokenInvalid', 'service account token has an invalid audience');
    const k8s = payload['kubernetes.io'] ?? {};
    const ns: string | undefined = k8s.namespace;
    const sa = k8s.serviceaccount ?? {};
    if (!ns || !sa.name || !sa.uid || payload.sub !== `system:serviceaccount:${ns}:${sa.name}`) throw new TokenError('TokenInvalid', 'service account token has malformed kubernetes.io claims');
    const live = await this.o.lookup('serviceaccounts', ns, sa.name);
    if (!live || live.metadata?.uid !== sa.uid) throw new TokenError('TokenBindingInvalid', `service account ${ns}/${sa.name} ${live ? 'was recreated (UID mismatch)' : 'not found'}`);
    if (live.metadata?.deletionTimestamp) throw new TokenError('TokenBindingInvalid', `service account ${ns}/${sa.name} is being deleted`);
    const extra: Record<string, string[]> = {};
    const checkBound = async (resource: 'pods' | 'secrets' | 'nodes', ref: ObjectRef | undefined): Promise<void> => {
      if (!ref) return;
      const o = await this.o.lookup(resource, resource === 'nodes' ? undefined : ns, ref.name);
      if (!o || o.metadata?.uid !== ref.uid) throw new TokenError('TokenBindingInvalid', `the bound ${resource.slice(0, -1)} ${ref.name} ${o ? 'was recreated (UID mismatch)' : 'no longer exists'}`);
      const del = o.metadata?.deletionTimestamp;
      if (del && Date.parse(del) < this.now() - DELETION_LEEWAY_MS) throw new TokenError('TokenBindingInvalid', `the bound ${resource.slice(0, -1)} ${ref.name} has been deleted`);
    };
    await checkBound('pods', k8s.pod);
    await checkBound('secrets', k8s.secret);
    // A node claim alongside a pod only describes where the pod ran; it is checked only when the token is bound to the node itself.
    if (!k8s.pod) await checkBound('nodes', k8s.node);
    if (k8s.pod) { extra['authentication.kubernetes.io/pod-name'] = [k8s.pod.name]; extra['authentication.kubernetes.io/pod-uid'] = [k8s.pod.uid]; }
    if (k8s.node) { extra['authentication.kubernetes.io/node-name'] = [k8s.node.name]; extra['authentication.kubernetes.io/node-uid'] = [k8s.node.uid]; }
    if (payload.jti) extra['authentication.kubernetes.io/credential-id'] = [`JTI=${payload.jti}`];
    return {
      user: { username: payload.sub, uid: sa.uid, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`], ...(Object.keys(extra).length ? { extra } : {}) },
      audiences: matched,
    };
  }

  /**
   * The verified claims of a token. A signature check costs about 0.5 ms (WebCrypto ES256), so a
   * verified payload is remembered for 10 s (never past its exp), like upstream's token cache; the
   * object checks that follow run on every request, so a deleted pod's token dies at once.
   */
  private async verified(token: string): Promise<Record<string, any>> {
    const now = this.now();
    const hit = this.verifiedCache.get(token);
    if (hit && hit.until > now && hit.from <= now) return hit.payload;
    let payload: Record<string, any>;
    try {
      ({ payload } = await jwtVerify(token, this.o.key.publicKey, { issuer: this.issuer, algorithms: [this.o.key.alg], currentDate: new Date(now) }));
    } catch (err) {
      if (hit) this.verifiedCache.delete(token);
      throw new TokenError('TokenInvalid', `service account token is not valid: ${(err as Error).message}`);
    }
    if (this.verifiedCache.size >= VERIFIED_CACHE_SIZE) this.verifiedCache.delete(this.verifiedCache.keys().next().value as string);
    this.verifiedCache.set(token, { payload, from: (payload.nbf ?? 0) * 1000, until: Math.min(now + VERIFIED_CACHE_MS, (payload.exp ?? 0) * 1000) });
    return payload;
  }

  private async authenticateLegacy(token: string, audiences?: string[]): Promise<{ user: UserInfo; audiences: string[] }> {
    let payload: Record<string, any>;
    try {
      ({ payload } = await jwtVerify(token, this.o.key.publicKey, { issuer: LEGACY_ISSUER, algorithms: [this.o.key.alg] }));
    } catch (err) {
      throw new TokenError('TokenInvalid', `service account token is not valid: ${(err as Error).message}`);
    }
    // Legacy tokens carry no audience: they are good for the API's own audiences only.
    const wanted = audiences && audiences.length ? audiences : this.apiAudiences;
    const matched = wanted.filter((a) => this.apiAudiences.includes(a));
    if (matched.length === 0) throw new TokenError('TokenInvalid', 'service account token has an invalid audience');
    const ns = payload['kubernetes.io/serviceaccount/namespace'];
    const secretName = payload['kubernetes.io/serviceaccount/secret.name'];
    const saName = payload['kubernetes.io/serviceaccount/service-account.name'];
    const saUid = payload['kubernetes.io/serviceaccount/service-account.uid'];
    if (!ns || !secretName || !saName || !saUid || payload.sub !== `system:serviceaccount:${ns}:${saName}`) throw new TokenError('TokenInvalid', 'service account token has malformed claims');
    const secret = await this.o.lookup('secrets', ns, secretName);
    if (!secret || Buffer.from(secret.data?.token ?? '', 'base64').toString() !== token) throw new TokenError('TokenBindingInvalid', `the token secret ${ns}/${secretName} no longer holds this token`);
    const del = secret.metadata?.deletionTimestamp;
    if (del && Date.parse(del) < this.now() - DELETION_LEEWAY_MS) throw new TokenError('TokenBindingInvalid', `the token secret ${ns}/${secretName} has been deleted`);
    const sa = await this.o.lookup('serviceaccounts', ns, saName);
    if (!sa || sa.metadata?.uid !== saUid) throw new TokenError('TokenBindingInvalid', `service account ${ns}/${saName} ${sa ? 'was recreated (UID mismatch)' : 'not found'}`);
    return { user: { username: payload.sub!, uid: saUid, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`] }, audiences: matched };
  }

  /** `/openid/v1/jwks`: the public key(s) that verify this issuer's tokens. */
  async jwks(): Promise<{ keys: unknown[] }> {
    const jwk = await exportJWK(this.o.key.publicKey);
    return { keys: [{ use: 'sig', kty: jwk.kty, kid: this.o.key.kid, alg: this.o.key.alg, ...jwk }] };
  }

  /** `/.well-known/openid-configuration` (upstream's ServiceAccountIssuerDiscovery). */
  openidConfiguration(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: `${this.issuer}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [this.o.key.alg],
    };
  }
}

// Authentication (client certificates: user = CN, groups = O; bearer tokens from a static token
// file) and authorization (system:masters may do anything; RBAC evaluation is a later step, so
// every other user is Forbidden except for the self-review kinds every authenticated user has).
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { existsSync, readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import type { UserInfo } from './registry';

export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Non-resource requests (/version, /api, /openapi/v3 ...). */
  path?: string;
}

interface StaticToken { token: string; user: UserInfo }

/**
 * A static token file in kube-apiserver's --token-auth-file format: `token,user,uid,"group1,group2"`.
 */
export function loadTokenFile(path: string): StaticToken[] {
  if (!existsSync(path)) return [];
  const out: StaticToken[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const l = line.trim();
    if (!l || l.startsWith('#')) continue;
    const m = /^([^,]+),([^,]+),([^,]*)(?:,"?([^"]*)"?)?$/.exec(l);
    if (!m) continue;
    out.push({ token: m[1]!, user: { username: m[2]!, uid: m[3] || undefined, groups: (m[4] ?? '').split(',').map((g) => g.trim()).filter(Boolean) } });
  }
  return out;
}

/** Extra authenticators (ServiceAccount JWTs, node tokens) plug in here later. */
export type TokenAuthenticator = (token: string) => Promise<UserInfo | undefined>;

export class Authenticator {
  private tokens: StaticToken[];
  private extra: TokenAuthenticator[] = [];
  constructor(tokenFile: string | undefined) {
    this.tokens = tokenFile ? loadTokenFile(tokenFile) : [];
  }

  addTokenAuthenticator(a: TokenAuthenticator): void { this.extra.push(a); }

  async authenticateToken(token: string): Promise<UserInfo | undefined> {
    const b = Buffer.from(token);
    for (const t of this.tokens) {
      const tb = Buffer.from(t.token);
      if (tb.length === b.length && timingSafeEqual(tb, b)) return withAuthenticated(t.user);
    }
    for (const a of this.extra) {
      const u = await a(token);
      if (u) return withAuthenticated(u);
    }
    return undefined;
  }

  /** The user of a request: a verified client certificate, else a bearer token; undefined if neither (anonymous); null if a token was given and is invalid. */
  async authenticate(req: IncomingMessage): Promise<UserInfo | undefined | null> {
    const sock = req.socket as TLSSocket;
    if (sock.authorized) {
      const cert = sock.getPeerCertificate?.();
      if (cert && cert.subject) {
        const cn = cert.subject.CN;
        const o = cert.subject.O;
        const user = Array.isArray(cn) ? cn[0] : cn;
        if (user) return withAuthenticated({ username: user, groups: o === undefined ? [] : Array.isArray(o) ? o : [o] });
      }
    }
    const auth = req.headers.authorization;
    let token: string | undefined;
    if (auth && /^bearer\s+/i.test(auth)) token = auth.replace(/^bearer\s+/i, '').trim();
    // WebSocket clients that cannot set headers put the token in the subprotocol (upstream's convention).
    const proto = req.headers['sec-websocket-protocol'];
    if (!token && typeof proto === 'string') {
      const p = proto.split(',').map((s) => s.trim()).find((s) => s.startsWith('base64url.bearer.authorization.k8s.io.'));
      if (p) token = Buffer.from(p.slice('base64url.bearer.authorization.k8s.io.'.length), 'base64url').toString();
    }
    if (token) return (await this.authenticateToken(token)) ?? null;
    return undefined;
  }
}

function withAuthenticated(u: UserInfo): UserInfo {
  const groups = u.groups.includes('system:authenticated') ? u.groups : [...u.groups, 'system:authenticated'];
  return { ...u, groups };
}

export const ANONYMOUS: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

/** Paths anyone may read (upstream's system:public-info-viewer). */
export function isPublicPath(path: string): boolean {
  return path === '/version' || path === '/version/' || path === '/healthz' || path === '/livez' || path === '/readyz'
    || path.startsWith('/healthz/') || path.startsWith('/livez/') || path.startsWith('/readyz/');
}

/** Resources every authenticated user may create (upstream's system:basic-user). */
const SELF_REVIEWS = new Set(['selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'selfsubjectreviews']);

export interface Decision { allowed: boolean; reason: string }

/** The authorizer: system:masters may do everything; RBAC rules are not evaluated yet. */
export function authorize(user: UserInfo, attrs: RequestAttributes): Decision {
  if (user.groups.includes('system:masters')) return { allowed: true, reason: 'user is in system:masters' };
  if (attrs.path !== undefined) {
    // Discovery and OpenAPI are readable by every authenticated user (system:discovery).
    if (user.groups.includes('system:authenticated') && attrs.verb === 'get') return { allowed: true, reason: 'discovery is public to authenticated users' };
    return { allowed: false, reason: '' };
  }
  if (attrs.verb === 'create' && (attrs.group === 'authorization.k8s.io' || attrs.group === 'authentication.k8s.io') && SELF_REVIEWS.has(attrs.resource)) {
    return { allowed: true, reason: 'self reviews are allowed to authenticated users' };
  }
  return { allowed: false, reason: '' };
}

/** The rules a user has, for SelfSubjectRulesReview. */
export function rulesFor(user: UserInfo): { resourceRules: any[]; nonResourceRules: any[]; incomplete: boolean } {
  if (user.groups.includes('system:masters')) {
    return { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false };
  }
  return {
    resourceRules: [{ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] }, { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] }],
    nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/readyz', '/version', '/version/', '/openapi', '/openapi/*'] }],
    incomplete: false,
  };
}

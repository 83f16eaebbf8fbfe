// Authentication: client certificates (user = CN, groups = O), bearer tokens from a static token
// file, and pluggable token authenticators (ServiceAccount JWTs, node tokens). Authorization is
// server/auth's RBAC authorizer; this file only says which paths need no user at all.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { existsSync, readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import type { UserInfo } from './registry';

export type { RequestAttributes } from '../auth/rules';

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

/**
 * A bearer-token authenticator (ServiceAccount JWTs, node tokens): the token's user, or undefined
 * when the token is not one of its kind or is invalid. `audiences` are the ones a TokenReview asks
 * for (the API's own audiences otherwise); the result says which of them the token is good for.
 */
export type TokenAuthenticator = (token: string, audiences?: string[]) => Promise<{ user: UserInfo; audiences?: string[] } | undefined>;

export class Authenticator {
  private tokens: StaticToken[];
  private extra: TokenAuthenticator[] = [];
  constructor(tokenFile: string | undefined) {
    this.tokens = tokenFile ? loadTokenFile(tokenFile) : [];
  }

  addTokenAuthenticator(a: TokenAuthenticator): void { this.extra.push(a); }

  async authenticateToken(token: string): Promise<UserInfo | undefined> {
    return (await this.reviewToken(token))?.user;
  }

  /** What a TokenReview answers: the user and the audiences the token is valid for. */
  async reviewToken(token: string, audiences?: string[]): Promise<{ user: UserInfo; audiences?: string[] } | undefined> {
    const b = Buffer.from(token);
    for (const t of this.tokens) {
      const tb = Buffer.from(t.token);
      if (tb.length === b.length && timingSafeEqual(tb, b)) return { user: withAuthenticated(t.user), audiences };
    }
    for (const a of this.extra) {
      const r = await a(token, audiences);
      if (r) return { user: withAuthenticated(r.user), audiences: r.audiences };
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

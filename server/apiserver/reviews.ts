// The review kinds, computed on create and never stored: TokenReview, SubjectAccessReview,
// SelfSubjectAccessReview, LocalSubjectAccessReview, SelfSubjectRulesReview, SelfSubjectReview
// (`kubectl auth can-i`, `kubectl auth whoami`).
import { apiVersionOf } from '../../api/scheme';
import { authorize, rulesFor, type Authenticator } from './auth';
import { badRequest } from './errors';
import type { ServedResource } from './resources';
import type { UserInfo } from './registry';

export class ReviewService {
  constructor(private readonly authn: Authenticator) {}

  async review(r: ServedResource, body: any, user: UserInfo, namespace: string | undefined): Promise<any> {
    if (!body || typeof body !== 'object') throw badRequest('the body of the request must be an object');
    const out = { ...body, apiVersion: apiVersionOf(r), kind: r.kind, metadata: { ...(body.metadata ?? {}), creationTimestamp: null } };
    const spec = body.spec ?? {};
    switch (r.kind) {
      case 'SelfSubjectReview':
        out.status = { userInfo: userInfoOut(user) };
        return out;
      case 'TokenReview': {
        const u = spec.token ? await this.authn.authenticateToken(spec.token) : undefined;
        out.status = u ? { authenticated: true, user: userInfoOut(u), audiences: spec.audiences ?? [] } : { authenticated: false, user: {}, error: 'invalid bearer token' };
        return out;
      }
      case 'SelfSubjectAccessReview':
      case 'SubjectAccessReview':
      case 'LocalSubjectAccessReview': {
        const subject: UserInfo = r.kind === 'SelfSubjectAccessReview' ? user : { username: spec.user ?? '', uid: spec.uid, groups: spec.groups ?? [] };
        const ra = spec.resourceAttributes;
        const na = spec.nonResourceAttributes;
        const d = ra
          ? authorize(subject, { verb: ra.verb ?? '', group: ra.group ?? '', resource: ra.resource ?? '', subresource: ra.subresource || undefined, namespace: r.kind === 'LocalSubjectAccessReview' ? namespace : ra.namespace || undefined, name: ra.name || undefined })
          : authorize(subject, { verb: na?.verb ?? '', group: '', resource: '', path: na?.path ?? '' });
        out.status = { allowed: d.allowed, ...(d.allowed ? { reason: d.reason } : { denied: false, reason: 'orch evaluates no RBAC rules yet: only system:masters is authorized' }) };
        return out;
      }
      case 'SelfSubjectRulesReview':
        out.status = rulesFor(user);
        return out;
    }
    throw badRequest(`${r.kind} is not a review kind`);
  }
}

function userInfoOut(u: UserInfo): any {
  return { username: u.username, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra ? { extra: u.extra } : {}) };
}

// The review kinds, computed on create and never stored: TokenReview, SubjectAccessReview,
// SelfSubjectAccessReview, LocalSubjectAccessReview, SelfSubjectRulesReview, SelfSubjectReview
// (`kubectl auth can-i [--list]`, `kubectl auth whoami`). Access reviews ask the same authorizer
// that guards every request, so `can-i` never disagrees with what the server then does.
import { apiVersionOf } from '../../api/scheme';
import type { Authenticator } from './auth';
import type { Authorizer, RequestAttributes } from '../auth';
import { badRequest, invalid } from './errors';
import type { ServedResource } from './resources';
import type { UserInfo } from './registry';

export class ReviewService {
  constructor(private readonly authn: Authenticator, private readonly authz: Authorizer, private readonly apiAudiences: string[] = []) {}

  async review(r: ServedResource, body: any, user: UserInfo, namespace: string | undefined): Promise<any> {
    if (!body || typeof body !== 'object') throw badRequest('the body of the request must be an object');
    const out = { ...body, apiVersion: apiVersionOf(r), kind: r.kind, metadata: { ...(body.metadata ?? {}), creationTimestamp: null } };
    const spec = body.spec ?? {};
    switch (r.kind) {
      case 'SelfSubjectReview':
        out.status = { userInfo: userInfoOut(user) };
        return out;
      case 'TokenReview': {
        if (!spec.token) throw invalid('authentication.k8s.io', 'TokenReview', '', [{ type: 'FieldValueRequired', field: 'spec.token', message: 'Required value' }]);
        const wanted: string[] = Array.isArray(spec.audiences) && spec.audiences.length ? spec.audiences : this.apiAudiences;
        const rv = await this.authn.reviewToken(spec.token, wanted);
        out.status = rv
          ? { authenticated: true, user: userInfoOut(rv.user), audiences: rv.audiences ?? wanted }
          : { user: {}, error: '[invalid bearer token, service account token is not valid]' };
        return out;
      }
      case 'SelfSubjectAccessReview':
      case 'SubjectAccessReview':
      case 'LocalSubjectAccessReview': {
        const subject: UserInfo = r.kind === 'SelfSubjectAccessReview' ? user : { username: spec.user ?? '', uid: spec.uid, groups: spec.groups ?? [], extra: spec.extra };
        const ra = spec.resourceAttributes;
        const na = spec.nonResourceAttributes;
        if (!ra && !na) throw invalid('authorization.k8s.io', r.kind, '', [{ type: 'FieldValueRequired', field: 'spec.resourceAttributes', message: 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified' }]);
        if (r.kind === 'LocalSubjectAccessReview' && ra?.namespace && ra.namespace !== namespace) {
          throw invalid('authorization.k8s.io', r.kind, '', [{ type: 'FieldValueInvalid', field: 'spec.resourceAttributes.namespace', message: `Invalid value: "${ra.namespace}": must match metadata.namespace` }]);
        }
        const attrs: RequestAttributes = ra
          ? { verb: ra.verb ?? '', group: ra.group ?? '', resource: ra.resource ?? '', subresource: ra.subresource || undefined, namespace: (r.kind === 'LocalSubjectAccessReview' ? namespace : ra.namespace) || undefined, name: ra.name || undefined }
          : { verb: na.verb ?? '', group: '', resource: '', path: na.path ?? '' };
        const d = this.authz.authorize(subject, attrs);
        out.status = { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}), ...(d.evaluationError ? { evaluationError: d.evaluationError } : {}) };
        return out;
      }
      case 'SelfSubjectRulesReview': {
        const ns = spec.namespace ?? '';
        out.status = this.authz.rulesFor(user, ns);
        return out;
      }
    }
    throw badRequest(`${r.kind} is not a review kind`);
  }
}

function userInfoOut(u: UserInfo): any {
  return { username: u.username, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra ? { extra: u.extra } : {}) };
}

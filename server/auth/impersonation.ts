// User impersonation (kubectl --as / --as-group / --as-uid): the Impersonate-* headers replace the
// request's user once the real user is authorized for the `impersonate` verb on each requested
// part (users or serviceaccounts, groups, uids, userextras/<key>), as upstream's
// WithImpersonation filter does.
import type { IncomingMessage } from 'node:http';
import type { UserInfo } from '../apiserver/types';
import type { Authorizer } from './rbac';
import type { RequestAttributes } from './rules';

export class ImpersonationError extends Error {
  readonly code = 'ImpersonationForbidden';
  constructor(message: string, readonly attrs: RequestAttributes) { super(message); this.name = 'ImpersonationError'; }
}

const SA_PREFIX = 'system:serviceaccount:';

function headerValues(req: IncomingMessage, name: string): string[] {
  const v = req.headers[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(',')).map((x) => x.trim()).filter((x) => x.length > 0);
}

/**
 * The user a request acts as: `user` itself without Impersonate-* headers, else the impersonated
 * one. Throws ImpersonationError (a 403) naming the first part the real user may not impersonate,
 * and a plain Error for malformed headers (groups or extras without a user).
 */
export function impersonatedUser(req: IncomingMessage, user: UserInfo, authz: Authorizer): UserInfo {
  const name = headerValues(req, 'impersonate-user')[0];
  const groups = headerValues(req, 'impersonate-group');
  const uid = headerValues(req, 'impersonate-uid')[0];
  const extraKeys = Object.keys(req.headers).filter((h) => h.startsWith('impersonate-extra-'));
  if (name === undefined) {
    if (groups.length || uid !== undefined || extraKeys.length) throw new ImpersonationError('requested impersonation of groups or extras without impersonating a user', { verb: 'impersonate', group: '', resource: 'users' });
    return user;
  }
  const check = (attrs: RequestAttributes): void => {
    if (!authz.authorize(user, attrs).allowed) throw new ImpersonationError(`User "${user.username}" cannot impersonate`, attrs);
  };
  const out: UserInfo = { username: name, groups: [] };
  if (name.startsWith(SA_PREFIX)) {
    const [ns, sa] = name.slice(SA_PREFIX.length).split(':');
    check({ verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: ns, name: sa });
    out.groups.push('system:serviceaccounts', `system:serviceaccounts:${ns}`);
  } else {
    check({ verb: 'impersonate', group: '', resource: 'users', name });
  }
  for (const g of groups) {
    check({ verb: 'impersonate', group: '', resource: 'groups', name: g });
    if (!out.groups.includes(g)) out.groups.push(g);
  }
  if (uid !== undefined) {
    check({ verb: 'impersonate', group: 'authentication.k8s.io', resource: 'uids', name: uid });
    out.uid = uid;
  }
  for (const h of extraKeys) {
    const key = decodeURIComponent(h.slice('impersonate-extra-'.length));
    for (const v of headerValues(req, h)) check({ verb: 'impersonate', group: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: v });
    (out.extra ??= {})[key] = headerValues(req, h);
  }
  if (name !== 'system:anonymous' && !out.groups.includes('system:authenticated')) out.groups.push('system:authenticated');
  if (name === 'system:anonymous' && !out.groups.includes('system:unauthenticated')) out.groups.push('system:unauthenticated');
  return out;
}

// ServiceAccount tokens against `orch server` with the real kubectl: `kubectl create token`
// (a protobuf TokenRequest), the token used as a bearer credential, pod-bound tokens dying with
// their pod, audiences, TokenReview, the OIDC discovery document and JWKS (verified with jose),
// and the signing key surviving a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { startTestCluster, tempDir, waitFor, type TestCluster } from './helpers/cluster';
import { kubeconfigYaml } from '../../server/pki';

let c: TestCluster;
let dispatcher: Agent;

function tokenKubeconfig(token: string): string {
  const path = join(tempDir('kc'), 'token.kubeconfig');
  writeFileSync(path, kubeconfigYaml(c.url, c.server!.pki.ca.certPem, { token }), { mode: 0o600 });
  return path;
}

async function get(path: string, token: string): Promise<{ status: number; json: any; type: string }> {
  const res = await request(`${c.url}${path}`, { dispatcher, headers: { authorization: `Bearer ${token}` } });
  const text = await res.body.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.statusCode, json, type: String(res.headers['content-type']) };
}

async function tokenReview(token: string, audiences?: string[]): Promise<any> {
  return JSON.parse(await c.kubectlOk(['create', '-o', 'json', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } }),
  }));
}

beforeAll(async () => {
  c = await startTestCluster();
  dispatcher = new Agent({ connect: { ca: c.server!.pki.ca.certPem } });
  // The ServiceAccount controller creates `default` in every namespace.
  await waitFor(async () => (await c.kubectl(['get', 'serviceaccount', 'default'])).code === 0, 15_000, 'default ServiceAccount');
}, 60_000);

afterAll(async () => { await dispatcher?.close(); await c?.stop(); });

describe('ServiceAccount tokens', () => {
  it('kubectl create token gives a JWT with upstream\'s claims that kubectl can use', async () => {
    const token = (await c.kubectlOk(['create', 'token', 'default'])).trim();
    const claims: any = decodeJwt(token);
    const sa = JSON.parse(await c.kubectlOk(['get', 'sa', 'default', '-o', 'json']));
    expect(claims).toMatchObject({
      iss: 'https://kubernetes.default.svc.cluster.local',
      sub: 'system:serviceaccount:default:default',
      aud: ['https://kubernetes.default.svc.cluster.local'],
      'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'default', uid: sa.metadata.uid } },
    });
    expect(claims.exp - claims.iat).toBe(3600);
    expect(claims.nbf).toBe(claims.iat);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    const kc = tokenKubeconfig(token);
    const who = JSON.parse(await c.kubectlOk(['--kubeconfig', kc, 'auth', 'whoami', '-o', 'json']));
    expect(who.status.userInfo).toMatchObject({
      username: 'system:serviceaccount:default:default',
      uid: sa.metadata.uid,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
    });
    expect(who.status.userInfo.extra['authentication.kubernetes.io/credential-id']).toEqual([`JTI=${claims.jti}`]);
    // Without bindings the ServiceAccount is Forbidden; a RoleBinding to it grants access.
    const denied = await c.kubectl(['--kubeconfig', kc, 'get', 'configmaps']);
    expect(denied.stderr).toContain('configmaps is forbidden: User "system:serviceaccount:default:default" cannot list resource "configmaps" in API group "" in the namespace "default"');
    await c.kubectlOk(['create', 'rolebinding', 'sa-view', '--clusterrole=view', '--serviceaccount=default:default']);
    await waitFor(async () => (await c.kubectl(['--kubeconfig', kc, 'get', 'configmaps'])).code === 0, 10_000, 'ServiceAccount can list configmaps');
  });

  it('honours --duration and refuses less than 10 minutes', async () => {
    const token = (await c.kubectlOk(['create', 'token', 'default', '--duration=2h'])).trim();
    const claims = decodeJwt(token);
    expect(claims.exp! - claims.iat!).toBe(7200);
    const short = await c.kubectl(['create', 'token', 'default', '--duration=5m']);
    expect(short.code).not.toBe(0);
    expect(short.stderr).toContain('may not specify a duration less than 10 minutes');
    const missing = await c.kubectl(['create', 'token', 'nobody']);
    expect(missing.stderr).toContain('serviceaccounts "nobody" not found');
  });

  it('rejects a token bound to a pod once the pod is deleted', async () => {
    await c.kubectlOk(['run', 'bound', '--image=busybox']);
    const pod = JSON.parse(await c.kubectlOk(['get', 'pod', 'bound', '-o', 'json']));
    const token = (await c.kubectlOk(['create', 'token', 'default', '--bound-object-kind=Pod', '--bound-object-name=bound', `--bound-object-uid=${pod.metadata.uid}`])).trim();
    expect(decodeJwt(token)['kubernetes.io']).toMatchObject({ pod: { name: 'bound', uid: pod.metadata.uid } });
    const kc = tokenKubeconfig(token);
    const who = JSON.parse(await c.kubectlOk(['--kubeconfig', kc, 'auth', 'whoami', '-o', 'json']));
    expect(who.status.userInfo.extra).toMatchObject({ 'authentication.kubernetes.io/pod-name': ['bound'], 'authentication.kubernetes.io/pod-uid': [pod.metadata.uid] });
    await c.kubectlOk(['delete', 'pod', 'bound', '--wait=true']);
    const after = await c.kubectl(['--kubeconfig', kc, 'auth', 'whoami']);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toMatch(/Unauthorized|You must be logged in/);
    expect((await tokenReview(token)).status.authenticated).toBeUndefined();
    // A token bound to a Secret lives as long as the Secret.
    await c.kubectlOk(['create', 'secret', 'generic', 'anchor', '--from-literal=a=b']);
    const secretToken = (await c.kubectlOk(['create', 'token', 'default', '--bound-object-kind=Secret', '--bound-object-name=anchor'])).trim();
    expect((await tokenReview(secretToken)).status.authenticated).toBe(true);
    await c.kubectlOk(['delete', 'secret', 'anchor']);
    expect((await tokenReview(secretToken)).status.authenticated).toBeUndefined();
    // Binding to a pod that does not exist, or to another kind, fails like upstream.
    expect((await c.kubectl(['create', 'token', 'default', '--bound-object-kind=Pod', '--bound-object-name=ghost'])).stderr).toContain('pods "ghost" not found');
    await c.kubectlOk(['create', 'sa', 'other']);
    await c.kubectlOk(['run', 'as-other', '--image=busybox', '--overrides={"spec":{"serviceAccountName":"other"}}']);
    const wrong = await c.kubectl(['create', 'token', 'default', '--bound-object-kind=Pod', '--bound-object-name=as-other']);
    expect(wrong.stderr).toContain('cannot bind token for serviceaccount "default" to pod running with different serviceaccount name.');
  });

  it('rejects a token of a deleted and recreated ServiceAccount', async () => {
    await c.kubectlOk(['create', 'sa', 'temp']);
    const token = (await c.kubectlOk(['create', 'token', 'temp'])).trim();
    expect((await tokenReview(token)).status.authenticated).toBe(true);
    await c.kubectlOk(['delete', 'sa', 'temp']);
    await c.kubectlOk(['create', 'sa', 'temp']);
    expect((await tokenReview(token)).status.authenticated).toBeUndefined();
    expect((await get('/api', token)).status).toBe(401);
  });

  it('answers TokenReview with the user, extras and audiences', async () => {
    const token = (await c.kubectlOk(['create', 'token', 'default', '--audience=vault', '--audience=other'])).trim();
    // The API itself accepts only its own audience.
    expect((await get('/api', token)).status).toBe(401);
    const ok = await tokenReview(token, ['vault']);
    expect(ok.status).toMatchObject({
      authenticated: true,
      audiences: ['vault'],
      user: { username: 'system:serviceaccount:default:default', groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'] },
    });
    expect(ok.status.user.extra['authentication.kubernetes.io/credential-id'][0]).toMatch(/^JTI=/);
    const wrongAud = await tokenReview(token, ['elsewhere']);
    expect(wrongAud.status.authenticated).toBeUndefined();
    expect(wrongAud.status.error).toBeTruthy();
    const garbage = await tokenReview('not-a-token');
    expect(garbage.status.authenticated).toBeUndefined();
  });

  it('publishes the OIDC discovery document and JWKS that verify its tokens', async () => {
    const token = (await c.kubectlOk(['create', 'token', 'default'])).trim();
    // system:service-account-issuer-discovery is bound to every ServiceAccount.
    const conf = await get('/.well-known/openid-configuration', token);
    expect(conf.status).toBe(200);
    expect(conf.json).toMatchObject({ issuer: 'https://kubernetes.default.svc.cluster.local', jwks_uri: 'https://kubernetes.default.svc.cluster.local/openid/v1/jwks', response_types_supported: ['id_token'], subject_types_supported: ['public'] });
    const jwks = await get('/openid/v1/jwks', token);
    expect(jwks.status).toBe(200);
    expect(jwks.type).toBe('application/jwk-set+json');
    expect(jwks.json.keys).toHaveLength(1);
    expect(jwks.json.keys[0]).toMatchObject({ use: 'sig', alg: conf.json.id_token_signing_alg_values_supported[0] });
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks.json), { issuer: conf.json.issuer });
    expect(payload.sub).toBe('system:serviceaccount:default:default');
    expect((await c.kubectlOk(['get', '--raw', '/openid/v1/jwks']))).toContain(jwks.json.keys[0].kid);
  });

  it('populates legacy token Secrets, accepts their tokens, and cleans them up with their ServiceAccount', async () => {
    await c.kubectlOk(['create', 'sa', 'legacy']);
    await c.kubectlOk(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name: 'legacy-token', annotations: { 'kubernetes.io/service-account.name': 'legacy' } } }),
    });
    const secret = await waitFor(async () => {
      const s = JSON.parse(await c.kubectlOk(['get', 'secret', 'legacy-token', '-o', 'json']));
      return s.data?.token ? s : undefined;
    }, 10_000, 'the tokens controller fills the Secret');
    const sa = JSON.parse(await c.kubectlOk(['get', 'sa', 'legacy', '-o', 'json']));
    expect(secret.metadata.annotations['kubernetes.io/service-account.uid']).toBe(sa.metadata.uid);
    expect(Buffer.from(secret.data['ca.crt'], 'base64').toString()).toBe(c.server!.pki.ca.certPem);
    expect(Buffer.from(secret.data.namespace, 'base64').toString()).toBe('default');
    const token = Buffer.from(secret.data.token, 'base64').toString();
    const claims: any = decodeJwt(token);
    expect(claims).toMatchObject({ iss: 'kubernetes/serviceaccount', sub: 'system:serviceaccount:default:legacy', 'kubernetes.io/serviceaccount/secret.name': 'legacy-token' });
    expect(claims.exp).toBeUndefined();
    expect(JSON.parse(await c.kubectlOk(['--kubeconfig', tokenKubeconfig(token), 'auth', 'whoami', '-o', 'json'])).status.userInfo.username).toBe('system:serviceaccount:default:legacy');
    // Deleting the ServiceAccount deletes its token Secret, and the token stops working.
    await c.kubectlOk(['delete', 'sa', 'legacy']);
    await waitFor(async () => (await c.kubectl(['get', 'secret', 'legacy-token'])).code !== 0, 10_000, 'the token Secret goes with its ServiceAccount');
    expect((await get('/api', token)).status).toBe(401);
    // A Secret for a ServiceAccount that does not exist is deleted.
    await c.kubectlOk(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name: 'orphan-token', annotations: { 'kubernetes.io/service-account.name': 'ghost' } } }),
    });
    await waitFor(async () => (await c.kubectl(['get', 'secret', 'orphan-token'])).code !== 0, 10_000, 'the orphan token Secret is deleted');
  });

  it('keeps the signing key across a restart', async () => {
    const token = (await c.kubectlOk(['create', 'token', 'default'])).trim();
    await c.restart();
    await dispatcher.close();
    dispatcher = new Agent({ connect: { ca: c.server!.pki.ca.certPem } });
    const who = await waitFor(async () => {
      const r = await get('/apis/authentication.k8s.io/v1/selfsubjectreviews', token);
      return r.status !== 503 ? r : undefined;
    }, 10_000, 'server answers');
    expect(who.status).not.toBe(401);
    const kc = tokenKubeconfig(token);
    expect(JSON.parse(await c.kubectlOk(['--kubeconfig', kc, 'auth', 'whoami', '-o', 'json'])).status.userInfo.username).toBe('system:serviceaccount:default:default');
  });
});

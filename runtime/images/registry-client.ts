// The OCI distribution client (containerd's remotes/docker resolver and fetcher are the model):
// GET /v2/<name>/manifests/<ref> with every manifest and index type in Accept, blobs with Range for
// resume, the WWW-Authenticate challenge flow (Bearer: fetch a token from the realm with the
// configured credentials; Basic: send them), plain-HTTP fallback for insecure endpoints, and a
// registry's own error bodies surfaced as RegistryError ("MANIFEST_UNKNOWN: manifest unknown").
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import type { BlobOpener } from './content-store';
import { digestOf } from './content-store';
import { DigestMismatchError, RegistryError, RegistryUnreachableError, UnsupportedMediaTypeError } from './errors';
import type { ImageReference } from './reference';
import type { Endpoint } from './registries';
import { MANIFEST_ACCEPT, MediaType, isIndexType, isManifestType } from './types';

const MAX_MANIFEST_BYTES = 4 << 20;
const USER_AGENT = 'orch-images/0.1';

export interface FetchedManifest {
  endpoint: Endpoint;
  data: Buffer;
  digest: string;
  mediaType: string;
}

interface Token { value: string; expiresAt: number }

/** Parses `Bearer realm="...",service="...",scope="..."` (also Basic) into scheme + params. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } | undefined {
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (let p = re.exec(m[2]); p; p = re.exec(m[2])) params[p[1].toLowerCase()] = (p[2] ?? p[3]).replace(/\\(.)/g, '$1');
  return { scheme: m[1].toLowerCase(), params };
}

function isConnectionError(err: unknown): boolean {
  return err instanceof Error && !(err instanceof RegistryError) && !(err instanceof DigestMismatchError);
}

/**
 * One client per pull (or shared): holds connection pools per TLS setting and tokens per
 * endpoint and scope. Contract: every manifest returned hashes to its digest (and to the
 * requested digest when pulling by digest); close() releases the connection pools.
 */
export class RegistryClient {
  private readonly dispatchers = new Map<string, Agent>();
  private readonly tokens = new Map<string, Token>();
  /** Endpoints found to speak plain HTTP although tried as HTTPS. */
  private readonly plainHTTP = new Set<string>();
  /** Endpoints that asked for Basic auth (send credentials up front after that). */
  private readonly basicHosts = new Set<string>();

  constructor(private readonly opts: { timeoutMs?: number } = {}) {}

  async close(): Promise<void> {
    await Promise.all([...this.dispatchers.values()].map((d) => d.close()));
    this.dispatchers.clear();
  }

  private dispatcher(ep: Endpoint): Dispatcher {
    const key = `${ep.insecureSkipVerify}|${ep.caFile ?? ''}|${ep.certFile ?? ''}|${ep.keyFile ?? ''}`;
    let d = this.dispatchers.get(key);
    if (!d) {
      d = new Agent({
        connect: {
          timeout: this.opts.timeoutMs ?? 15_000,
          rejectUnauthorized: !ep.insecureSkipVerify,
          ...(ep.caFile ? { ca: readFileSync(ep.caFile) } : {}),
          ...(ep.certFile ? { cert: readFileSync(ep.certFile) } : {}),
          ...(ep.keyFile ? { key: readFileSync(ep.keyFile) } : {}),
        },
        headersTimeout: this.opts.timeoutMs ?? 60_000,
        bodyTimeout: this.opts.timeoutMs ?? 120_000,
      });
      this.dispatchers.set(key, d);
    }
    return d;
  }

  private baseURL(ep: Endpoint): string {
    return this.plainHTTP.has(ep.url) ? ep.url.replace(/^https:/, 'http:') : ep.url;
  }

  /**
   * Sends a GET to `path` (below /v2/) on the endpoint, answering auth challenges once, following
   * redirects (without credentials to other hosts) and falling back to plain HTTP when allowed.
   */
  private async get(ep: Endpoint, ref: ImageReference, path: string, headers: Record<string, string>, scope: string): Promise<Dispatcher.ResponseData> {
    // The URL is rebuilt per send: an endpoint found to speak plain HTTP stays on HTTP.
    const urlNow = () => `${this.baseURL(ep)}${ep.pathPrefix}/v2/${path}`;
    const send = async (auth: string | undefined): Promise<Dispatcher.ResponseData> => {
      const h: Record<string, string> = { 'user-agent': USER_AGENT, ...headers };
      if (auth) h.authorization = auth;
      const url = urlNow();
      try {
        return await request(url, { method: 'GET', headers: h, dispatcher: this.dispatcher(ep) });
      } catch (err) {
        if (url.startsWith('https:') && ep.httpFallback) {
          this.plainHTTP.add(ep.url);
          return send(auth);
        }
        throw new RegistryUnreachableError(ref.name, new URL(url).host, err);
      }
    };
    let auth = this.cachedAuth(ep, scope);
    let res = await send(auth);
    if (res.statusCode === 401) {
      const challenge = parseChallenge(String(res.headers['www-authenticate'] ?? ''));
      const body = await res.body.text();
      if (!challenge) throw this.registryError(ref, ep, 401, body);
      auth = await this.authorize(ep, ref, challenge, scope, body);
      res = await send(auth);
    }
    const url = urlNow();
    for (let hops = 0; hops < 5 && [301, 302, 303, 307, 308].includes(res.statusCode); hops++) {
      const location = String(res.headers.location ?? '');
      await res.body.dump();
      const next = new URL(location, url);
      // Credentials only go back to the endpoint that asked for them (blob storage URLs are pre-signed).
      const sameHost = next.host === new URL(url).host;
      try {
        res = await request(next, { method: 'GET', headers: { 'user-agent': USER_AGENT, ...headers, ...(sameHost && auth ? { authorization: auth } : {}) }, dispatcher: this.dispatcher(ep) });
      } catch (err) {
        throw new RegistryUnreachableError(ref.name, next.host, err);
      }
    }
    return res;
  }

  private cachedAuth(ep: Endpoint, scope: string): string | undefined {
    const tok = this.tokens.get(`${ep.url}|${scope}`);
    if (tok && tok.expiresAt > Date.now()) return `Bearer ${tok.value}`;
    if (this.basicHosts.has(ep.url) && ep.credentials && 'username' in ep.credentials) return basicAuth(ep.credentials);
    return undefined;
  }

  private async authorize(ep: Endpoint, ref: ImageReference, challenge: { scheme: string; params: Record<string, string> }, scope: string, body: string): Promise<string> {
    if (challenge.scheme === 'basic') {
      if (!ep.credentials || !('username' in ep.credentials)) throw this.registryError(ref, ep, 401, body);
      this.basicHosts.add(ep.url);
      return basicAuth(ep.credentials);
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) throw this.registryError(ref, ep, 401, body);
    const realm = new URL(challenge.params.realm);
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    // Ask for the scope the registry named, and at least pull on this repository.
    const scopes = new Set([scope, ...(challenge.params.scope ? challenge.params.scope.split(' ') : [])]);
    for (const s of scopes) realm.searchParams.append('scope', s);
    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    let res: Dispatcher.ResponseData;
    try {
      if (ep.credentials && 'identityToken' in ep.credentials) {
        // OAuth2 refresh token grant (docker's identitytoken).
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: ep.credentials.identityToken, service: challenge.params.service ?? '', scope: [...scopes].join(' '), client_id: 'orch' });
        res = await request(`${realm.origin}${realm.pathname}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(), dispatcher: this.dispatcher(ep) });
      } else {
        if (ep.credentials) headers.authorization = basicAuth(ep.credentials);
        res = await request(realm, { method: 'GET', headers, dispatcher: this.dispatcher(ep) });
      }
    } catch (err) {
      throw new RegistryUnreachableError(ref.name, `${realm.host} (token service)`, err);
    }
    const text = await res.body.text();
    if (res.statusCode !== 200) throw this.registryError(ref, { ...ep, url: realm.origin }, res.statusCode, text, 'UNAUTHORIZED');
    let parsed: { token?: string; access_token?: string; expires_in?: number };
    try { parsed = JSON.parse(text) as typeof parsed; } catch { parsed = {}; }
    const value = parsed.token ?? parsed.access_token;
    if (!value) throw this.registryError(ref, { ...ep, url: realm.origin }, res.statusCode, 'token service returned no token', 'UNAUTHORIZED');
    const ttl = Math.max(10, parsed.expires_in ?? 60) * 1000;
    this.tokens.set(`${ep.url}|${scope}`, { value, expiresAt: Date.now() + ttl - 5_000 });
    return `Bearer ${value}`;
  }

  /** Turns an error response into a RegistryError with the registry's own code and message. */
  private registryError(ref: ImageReference, ep: Endpoint, status: number, body: string, fallbackCode?: string): RegistryError {
    let code = fallbackCode ?? httpCode(status);
    let message = body.trim().slice(0, 500) || `HTTP ${status}`;
    try {
      const parsed = JSON.parse(body) as { errors?: Array<{ code?: string; message?: string }>; details?: string };
      const first = parsed.errors?.[0];
      if (first) {
        code = first.code ?? code;
        message = first.message ?? message;
      } else if (parsed.details) {
        message = parsed.details;
      }
    } catch { /* not JSON: keep the text */ }
    return new RegistryError(ref.name, ep.url, status, code, message);
  }

  /**
   * Fetches a manifest or index by tag or digest from the first endpoint that has it. Verifies
   * the bytes against `expectDigest` (when given) and against the registry's
   * Docker-Content-Digest. Throws the last endpoint's error if none succeeds.
   */
  async getManifest(ref: ImageReference, endpoints: Endpoint[], reference: string, expectDigest?: string): Promise<FetchedManifest> {
    let lastErr: unknown;
    for (const ep of endpoints) {
      try {
        return await this.getManifestFrom(ep, ref, reference, expectDigest);
      } catch (err) {
        lastErr = err;
        // A bad digest is never retried elsewhere silently: it means tampering or corruption.
        if (err instanceof DigestMismatchError || err instanceof UnsupportedMediaTypeError) throw err;
      }
    }
    throw lastErr;
  }

  private async getManifestFrom(ep: Endpoint, ref: ImageReference, reference: string, expectDigest?: string): Promise<FetchedManifest> {
    const res = await this.get(ep, ref, `${ref.repository}/manifests/${reference}`, { accept: MANIFEST_ACCEPT }, `repository:${ref.repository}:pull`);
    if (res.statusCode !== 200) throw this.registryError(ref, ep, res.statusCode, await res.body.text());
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res.body) {
      size += (c as Buffer).length;
      if (size > MAX_MANIFEST_BYTES) throw new UnsupportedMediaTypeError(String(res.headers['content-type']), `manifest larger than ${MAX_MANIFEST_BYTES} bytes`);
      chunks.push(c as Buffer);
    }
    const data = Buffer.concat(chunks);
    const digest = digestOf(data);
    if (expectDigest && digest !== expectDigest) throw new DigestMismatchError(`manifest ${ref.locator}@${expectDigest}`, expectDigest, digest);
    const claimed = res.headers['docker-content-digest'];
    if (typeof claimed === 'string' && claimed.startsWith('sha256:') && claimed !== digest) {
      throw new DigestMismatchError(`manifest ${ref.locator}:${reference} (Docker-Content-Digest)`, claimed, digest);
    }
    const mediaType = manifestMediaType(String(res.headers['content-type'] ?? ''), data);
    if (!isIndexType(mediaType) && !isManifestType(mediaType)) throw new UnsupportedMediaTypeError(mediaType, `manifest of ${ref.name}`);
    return { endpoint: ep, data, digest, mediaType };
  }

  /** A BlobOpener for the content store: GET the blob, with Range when resuming. */
  blobOpener(ref: ImageReference, endpoints: Endpoint[], digest: string): BlobOpener {
    return async (offset: number) => {
      let lastErr: unknown;
      for (const ep of endpoints) {
        try {
          const res = await this.get(ep, ref, `${ref.repository}/blobs/${digest}`, offset > 0 ? { range: `bytes=${offset}-` } : {}, `repository:${ref.repository}:pull`);
          if (res.statusCode === 206 && offset > 0) {
            const start = /bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
            if (start && Number(start[1]) === offset) return { body: res.body as unknown as Readable, offset };
            await res.body.dump();
            continue;
          }
          if (res.statusCode === 200) return { body: res.body as unknown as Readable, offset: 0 };
          if (res.statusCode === 416 && offset > 0) {
            // The partial file is at least as long as the blob: restart from zero.
            await res.body.dump();
            const again = await this.get(ep, ref, `${ref.repository}/blobs/${digest}`, {}, `repository:${ref.repository}:pull`);
            if (again.statusCode === 200) return { body: again.body as unknown as Readable, offset: 0 };
            throw this.registryError(ref, ep, again.statusCode, await again.body.text());
          }
          throw this.registryError(ref, ep, res.statusCode, await res.body.text());
        } catch (err) {
          lastErr = err;
          if (!isConnectionError(err) && !(err instanceof RegistryError) && !(err instanceof RegistryUnreachableError)) throw err;
        }
      }
      throw lastErr;
    };
  }
}

function basicAuth(c: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

function httpCode(status: number): string {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'TOOMANYREQUESTS';
  return `HTTP_${status}`;
}

/** The manifest's media type: the Content-Type when specific, else the body's mediaType or shape. */
export function manifestMediaType(contentType: string, data: Buffer): string {
  const ct = contentType.split(';')[0].trim();
  if (isIndexType(ct) || isManifestType(ct) || ct === MediaType.dockerSchema1Signed || ct === MediaType.dockerSchema1) return ct;
  try {
    const body = JSON.parse(data.toString('utf8')) as { mediaType?: string; manifests?: unknown; layers?: unknown; schemaVersion?: number };
    if (body.mediaType) return body.mediaType;
    if (body.schemaVersion === 1) return MediaType.dockerSchema1;
    if (Array.isArray(body.manifests)) return MediaType.ociIndex;
    if (Array.isArray(body.layers)) return MediaType.ociManifest;
  } catch { /* fall through */ }
  return ct || 'unknown';
}

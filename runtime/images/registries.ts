// Per-registry settings in k3s's registries.yaml format:
//
//   mirrors:
//     docker.io:
//       endpoint: ["http://127.0.0.1:5000", "https://mirror.example"]
//   configs:
//     "127.0.0.1:5000":
//       auth: { username: u, password: p }        # or auth: <base64 user:pass>, or identitytoken
//       tls: { insecure_skip_verify: true, ca_file: /path/ca.pem }
//
// A registry's endpoints are its mirrors in order, then the registry itself (unless the caller
// disables the default endpoint, as k3s's --disable-default-registry-endpoint does). An endpoint
// written with http:// is plain HTTP; an endpoint whose config sets insecure_skip_verify skips TLS
// verification and falls back to plain HTTP when the server does not speak TLS (containerd does the
// same for insecure registries), and so does a registry on localhost/127.0.0.1 by default.
import { promises as fsp } from 'node:fs';
import { parse as parseYAML } from 'yaml';
import { RegistriesConfigError } from './errors';

export interface RegistryAuthConfig {
  username?: string;
  password?: string;
  /** base64("user:password"), as in docker's config.json. */
  auth?: string;
  /** An OAuth2 refresh token exchanged at the token endpoint. */
  identitytoken?: string;
}

export interface RegistryTLSConfig {
  insecure_skip_verify?: boolean;
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
}

export interface RegistriesConfig {
  mirrors: Record<string, { endpoint: string[] }>;
  configs: Record<string, { auth?: RegistryAuthConfig; tls?: RegistryTLSConfig }>;
}

/** One place to try for a registry's content. */
export interface Endpoint {
  /** Base URL, scheme and host only, e.g. "http://127.0.0.1:5000". */
  url: string;
  /** host[:port] of the endpoint (the key its credentials are looked up by). */
  host: string;
  /** Path prefix from a mirror endpoint URL ("https://mirror/v2-proxy" style); normally "". */
  pathPrefix: string;
  /** Whether this is a mirror (false for the registry's own default endpoint). */
  mirror: boolean;
  /** Skip TLS verification. */
  insecureSkipVerify: boolean;
  /** If HTTPS fails because the server speaks plain HTTP, retry over HTTP. */
  httpFallback: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  credentials?: { username: string; password: string } | { identityToken: string };
}

export const EMPTY_REGISTRIES_CONFIG: RegistriesConfig = { mirrors: {}, configs: {} };

/** Reads registries.yaml; a missing file means no settings. Throws RegistriesConfigError when malformed. */
export async function loadRegistriesConfig(file: string | undefined): Promise<RegistriesConfig> {
  if (!file) return EMPTY_REGISTRIES_CONFIG;
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_REGISTRIES_CONFIG;
    throw err;
  }
  return parseRegistriesConfig(text, file);
}

export function parseRegistriesConfig(text: string, file = 'registries.yaml'): RegistriesConfig {
  let doc: unknown;
  try {
    doc = parseYAML(text) ?? {};
  } catch (err) {
    throw new RegistriesConfigError(file, (err as Error).message);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new RegistriesConfigError(file, 'top level must be a mapping');
  const d = doc as { mirrors?: unknown; configs?: unknown };
  const mirrors: RegistriesConfig['mirrors'] = {};
  const configs: RegistriesConfig['configs'] = {};
  for (const [name, m] of Object.entries(asMap(d.mirrors, file, 'mirrors'))) {
    const ep = (m as { endpoint?: unknown } | null)?.endpoint ?? [];
    if (!Array.isArray(ep) || ep.some((e) => typeof e !== 'string')) throw new RegistriesConfigError(file, `mirrors.${name}.endpoint must be a list of URLs`);
    mirrors[name] = { endpoint: ep as string[] };
  }
  for (const [host, c] of Object.entries(asMap(d.configs, file, 'configs'))) {
    const cfg = (c ?? {}) as { auth?: unknown; tls?: unknown };
    const auth = cfg.auth === undefined ? undefined : asMap(cfg.auth, file, `configs.${host}.auth`) as RegistryAuthConfig;
    const tls = cfg.tls === undefined ? undefined : asMap(cfg.tls, file, `configs.${host}.tls`) as RegistryTLSConfig;
    configs[host] = { auth, tls };
  }
  return { mirrors, configs };
}

function asMap(v: unknown, file: string, what: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new RegistriesConfigError(file, `${what} must be a mapping`);
  return v as Record<string, unknown>;
}

function isLoopbackHost(host: string): boolean {
  const h = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

function credentialsOf(auth: RegistryAuthConfig | undefined): Endpoint['credentials'] {
  if (!auth) return undefined;
  if (auth.identitytoken) return { identityToken: auth.identitytoken };
  if (auth.username !== undefined) return { username: auth.username, password: auth.password ?? '' };
  if (auth.auth) {
    const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i > 0) return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
  }
  return undefined;
}

/**
 * The endpoints to try for `registry`, in order: its mirrors (or the "*" mirrors), then its own
 * default endpoint unless `disableDefaultEndpoint`. docker.io's default endpoint is
 * registry-1.docker.io.
 */
export function endpointsFor(config: RegistriesConfig, registry: string, opts: { disableDefaultEndpoint?: boolean } = {}): Endpoint[] {
  const mirrorURLs = config.mirrors[registry]?.endpoint ?? config.mirrors['*']?.endpoint ?? [];
  const out: Endpoint[] = [];
  const seen = new Set<string>();
  const add = (raw: string, mirror: boolean) => {
    const withScheme = /^[a-z]+:\/\//i.test(raw) ? raw : `https://${raw}`;
    let u: URL;
    try { u = new URL(withScheme); } catch { throw new RegistriesConfigError('registries.yaml', `bad endpoint URL "${raw}"`); }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RegistriesConfigError('registries.yaml', `endpoint "${raw}" must be http or https`);
    const host = u.host;
    const base = `${u.protocol}//${host}`;
    const pathPrefix = u.pathname.replace(/\/+$/, '').replace(/\/v2$/, '');
    if (seen.has(base + pathPrefix)) return;
    seen.add(base + pathPrefix);
    // Credentials and TLS are keyed by the endpoint's host; the registry name is the fallback.
    const cfg = config.configs[host] ?? (mirror ? undefined : config.configs[registry]);
    const insecure = cfg?.tls?.insecure_skip_verify === true;
    out.push({
      url: base, host, pathPrefix, mirror,
      insecureSkipVerify: insecure,
      httpFallback: u.protocol === 'https:' && !/^https:\/\//i.test(raw) && (insecure || isLoopbackHost(host)),
      caFile: cfg?.tls?.ca_file, certFile: cfg?.tls?.cert_file, keyFile: cfg?.tls?.key_file,
      credentials: credentialsOf(cfg?.auth),
    });
  };
  for (const m of mirrorURLs) add(m, true);
  if (!opts.disableDefaultEndpoint || out.length === 0) {
    add(registry === 'docker.io' ? 'registry-1.docker.io' : registry, false);
  }
  return out;
}

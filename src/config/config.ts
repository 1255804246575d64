/**
 * Server configuration: a YAML file validated strictly against one schema, so a typo or a bad value
 * stops the server at start with a message naming the key instead of being silently ignored.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export class ConfigError extends Error {}

const hostname = z.string().min(1);
const port = z.number().int().min(0).max(65535);

/** `host:port`, host being a DNS name, an IPv4 address or a bracketed IPv6 address. */
const hostPort = z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port');
const keyId = z.string().regex(/^ed25519:[A-Za-z0-9_]+$/, 'must be a key ID such as ed25519:abc');
const unpaddedBase64 = z.string().regex(/^[A-Za-z0-9+/]+$/, 'must be unpadded base64');

const federation = z.strictObject({
  /**
   * Development and tests only: `server name` → `host:port` skips discovery for that server;
   * `host:port` → `host:port` redirects connections (like curl --resolve), discovery still running.
   */
  resolve: z.record(z.string().min(1), hostPort).default({}),
  /** PEM file of extra CAs trusted for outbound federation TLS, on top of the system CAs. */
  trusted_ca_file: z.string().nullable().default(null),
  /** Turns certificate verification off for outbound requests. Logged loudly at start. */
  insecure_skip_tls_verify: z.boolean().default(false),
  /** What /.well-known/matrix/server delegates to (`host[:port]`); null: not served (404). */
  well_known_server: z.string().min(1).nullable().default(null),
  /** How far ahead this server's key response's `valid_until_ts` lies. */
  key_validity_ms: z.number().int().min(1000).default(86_400_000),
  /** Keys this server used to sign with: still published (old_verify_keys) so old events verify. */
  old_signing_keys: z.record(keyId, z.strictObject({ key: unpaddedBase64, expired_ts: z.number().int().min(0) })).default({}),
  /** Notaries asked for a server's keys when the server itself cannot be reached. */
  trusted_key_servers: z
    .array(
      z.strictObject({
        server_name: z.string().min(1),
        /** Pinned keys of the notary; empty: fetched from the notary itself. */
        verify_keys: z.record(keyId, unpaddedBase64).default({}),
      }),
    )
    .default([]),
  /** Default timeout of an outbound federation request. */
  request_timeout_ms: z.number().int().min(100).default(30_000),
});

const rateLimit = z.strictObject({
  /** Tokens added to the bucket per second. */
  per_second: z.number().positive(),
  /** Bucket size: how many requests may be made in a burst. */
  burst: z.number().int().min(1),
});

/** An IPv4 or IPv6 CIDR range ("10.0.0.0/8", "fd00::/8"); a bare address means that one address. */
const cidr = z.string().refine(isCidr, 'must be an IP address or CIDR range such as 10.0.0.0/8 or fd00::/8');

function isCidr(s: string): boolean {
  const [addr, bits, ...rest] = s.split('/');
  const family = isIP(addr);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

const schema = z.strictObject({
  server_name: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9.\-[\]:]+$/, 'must be a valid server name (host or host:port)'),
  public_baseurl: z.url().optional(),
  listeners: z.strictObject({
    client: z.strictObject({
      host: hostname.default('127.0.0.1'),
      port: port.default(8008),
      /** Also serve the federation and key routes here (one port for both, e.g. behind a TLS proxy). */
      serve_federation: z.boolean().default(false),
    }),
    federation: z
      .strictObject({
        host: hostname.default('0.0.0.0'),
        port: port.default(8448),
        tls_cert: z.string().nullable().default(null),
        tls_key: z.string().nullable().default(null),
      })
      .nullable()
      .default(null),
  }),
  database: z.strictObject({
    engine: z.literal('sqlite').default('sqlite'),
    path: z.string().min(1),
  }),
  signing_key_path: z.string().min(1),
  registration: z
    .strictObject({
      enabled: z.boolean().default(false),
      shared_secret: z.string().nullable().default(null),
      tokens_required: z.boolean().default(false),
      tokens: z.array(z.string().regex(/^[A-Za-z0-9._~-]{1,64}$/, 'tokens use [A-Za-z0-9._~-], at most 64')).default([]),
    })
    .prefault({}),
  auth: z
    .strictObject({
      refreshable_access_token_lifetime_ms: z.number().int().min(1).default(300_000),
      uia_session_lifetime_ms: z.number().int().min(1000).default(1_800_000),
      openid_token_lifetime_ms: z.number().int().min(1000).default(3_600_000),
      scrypt_log_n: z.number().int().min(10).max(20).default(15),
    })
    .prefault({}),
  media: z
    .strictObject({
      path: z.string().min(1).default('./data/media'),
      max_upload_bytes: z.number().int().min(1).default(50 * 1024 * 1024),
      freeze_unauthenticated: z.boolean().default(false),
      freeze_unauthenticated_since: z.number().int().min(0).nullable().default(null),
      remote_fetch_timeout_ms: z.number().int().min(100).default(60_000),
      max_thumbnail_source_pixels: z.number().int().min(1).default(32_000_000),
      unused_expires_ms: z.number().int().min(1000).default(86_400_000),
      max_pending_uploads: z.number().int().min(1).default(10),
      url_preview: z
        .strictObject({
          enabled: z.boolean().default(false),
          ip_range_denylist: z.array(cidr).default([]),
          ip_range_allowlist: z.array(cidr).default([]),
          max_bytes: z.number().int().min(1024).default(1024 * 1024),
          timeout_ms: z.number().int().min(100).default(10_000),
          max_redirects: z.number().int().min(0).max(20).default(5),
        })
        .prefault({}),
    })
    .prefault({}),
  turn: z
    .strictObject({
      uris: z.array(z.string().regex(/^turns?:/, 'must be a turn: or turns: URI')).default([]),
      /** coturn's static-auth-secret: time-limited credentials per request (TURN REST API scheme). */
      shared_secret: z.string().min(1).nullable().default(null),
      /** Fixed credentials, for TURN servers without a shared secret (used when shared_secret is null). */
      username: z.string().min(1).nullable().default(null),
      password: z.string().min(1).nullable().default(null),
      user_lifetime_ms: z.number().int().min(1000).default(86_400_000),
      allow_guests: z.boolean().default(true),
    })
    .prefault({}),
  matrix_rtc: z
    .strictObject({
      /** Published as `org.matrix.msc4143.rtc_foci` in /.well-known/matrix/client; each needs a `type`. */
      foci: z.array(z.looseObject({ type: z.string().min(1) })).default([]),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  rate_limits: z
    .strictObject({
      login: rateLimit.default({ per_second: 0.2, burst: 5 }),
      register: rateLimit.default({ per_second: 0.2, burst: 5 }),
      send: rateLimit.default({ per_second: 10, burst: 50 }),
      media: rateLimit.default({ per_second: 1, burst: 20 }),
    })
    .prefault({}),
  federation: federation.prefault({}),
  presence: z
    .strictObject({
      /** A user with no activity on any device for this long becomes `unavailable`. */
      idle_after_ms: z.number().int().min(1).default(300_000),
      /** A device stays online this long after its last connection closed (covers gaps between long polls). */
      offline_grace_ms: z.number().int().min(0).default(30_000),
    })
    .prefault({}),
  max_request_body_bytes: z.number().int().min(1024).default(1024 * 1024),
  websocket: z
    .strictObject({
      /** Unsent bytes a connection may queue before it is closed as too slow (4429). */
      max_buffered_bytes: z.number().int().min(1024).default(8 * 1024 * 1024),
      heartbeat_interval_ms: z.number().int().min(100).default(30_000),
      /** How long a connection without an Authorization header has to send its auth frame. */
      auth_timeout_ms: z.number().int().min(100).default(10_000),
      /** Request frames a connection may have queued before more are refused with M_LIMIT_EXCEEDED. */
      max_pending_requests: z.number().int().min(1).default(100),
    })
    .prefault({}),
  shutdown_grace_ms: z.number().int().min(0).default(10_000),
});

export type Config = z.infer<typeof schema> & { public_baseurl: string; configDir: string };
export type RateLimitAction = keyof Config['rate_limits'];

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const prefix = path ? `${path}.` : '';
    return issue.keys.map((k) => `unknown key "${prefix}${k}"`).join('; ');
  }
  return `"${path || '(root)'}": ${issue.message}`;
}

/** Validates an already-parsed document; `configDir` anchors relative paths. */
export function parseConfig(raw: unknown, configDir: string): Config {
  const result = schema.safeParse(raw ?? {});
  if (!result.success) {
    throw new ConfigError(`invalid configuration: ${result.error.issues.map(describeIssue).join('; ')}`);
  }
  const c = result.data;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(configDir, p));
  const fed = c.listeners.federation;
  if ((c.turn.username === null) !== (c.turn.password === null)) {
    throw new ConfigError('invalid configuration: "turn": username and password must be set together');
  }
  if (fed && (fed.tls_cert === null) !== (fed.tls_key === null)) {
    throw new ConfigError('invalid configuration: "listeners.federation": tls_cert and tls_key must be set together');
  }
  return {
    ...c,
    configDir,
    public_baseurl: c.public_baseurl ?? `http://${c.listeners.client.host}:${c.listeners.client.port}/`,
    database: { ...c.database, path: abs(c.database.path) },
    signing_key_path: abs(c.signing_key_path),
    media: { ...c.media, path: abs(c.media.path) },
    federation: {
      ...c.federation,
      trusted_ca_file: c.federation.trusted_ca_file === null ? null : abs(c.federation.trusted_ca_file),
    },
    listeners: {
      client: c.listeners.client,
      federation: fed && {
        ...fed,
        tls_cert: fed.tls_cert === null ? null : abs(fed.tls_cert),
        tls_key: fed.tls_key === null ? null : abs(fed.tls_key),
      },
    },
  };
}

export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(err as Error).message}`);
  }
  return parseConfig(raw, dirname(resolve(path)));
}

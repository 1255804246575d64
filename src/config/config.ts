/**
 * Server configuration: a YAML file validated strictly against one schema, so a typo or a bad value
 * stops the server at start with a message naming the key instead of being silently ignored.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export class ConfigError extends Error {}

const hostname = z.string().min(1);
const port = z.number().int().min(0).max(65535);

const rateLimit = z.strictObject({
  /** Tokens added to the bucket per second. */
  per_second: z.number().positive(),
  /** Bucket size: how many requests may be made in a burst. */
  burst: z.number().int().min(1),
});

const schema = z.strictObject({
  server_name: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9.\-[\]:]+$/, 'must be a valid server name (host or host:port)'),
  public_baseurl: z.url().optional(),
  listeners: z.strictObject({
    client: z.strictObject({ host: hostname.default('127.0.0.1'), port: port.default(8008) }),
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
      scrypt_log_n: z.number().int().min(10).max(20).default(15),
    })
    .prefault({}),
  media: z
    .strictObject({
      path: z.string().min(1).default('./data/media'),
      max_upload_bytes: z.number().int().min(1).default(50 * 1024 * 1024),
    })
    .prefault({}),
  turn: z
    .strictObject({
      uris: z.array(z.string()).default([]),
      shared_secret: z.string().nullable().default(null),
      user_lifetime_ms: z.number().int().min(1).default(86_400_000),
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
    })
    .prefault({}),
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
  return {
    ...c,
    configDir,
    public_baseurl: c.public_baseurl ?? `http://${c.listeners.client.host}:${c.listeners.client.port}/`,
    database: { ...c.database, path: abs(c.database.path) },
    signing_key_path: abs(c.signing_key_path),
    media: { ...c.media, path: abs(c.media.path) },
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

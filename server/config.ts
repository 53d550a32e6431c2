import { type } from "arktype";
import { LOGIN_LIMITS, type ThrottleLimits } from "./auth/throttle.ts";
import { compileTrust } from "./lib/client-address.ts";

const Env = type({
  SENTPULSE_PORT: type("string.integer.parse").pipe(type("1 <= number <= 65535")).default("8080"),
  SENTPULSE_HOST: type("string").default("0.0.0.0"),
  SENTPULSE_DATA_DIR: type("string").default("./data"),
  "SENTPULSE_DATABASE_URL?": "string",
  "SENTPULSE_PUBLIC_URL?": "string.url",
  "SENTPULSE_ADMIN_EMAIL?": "string.email",
  "SENTPULSE_ADMIN_PASSWORD?": "string >= 8",
  SENTPULSE_TELEMETRY_INTERVAL_S: type("string.integer.parse").pipe(type("1 <= number <= 3600")).default("30"),
  SENTPULSE_BEACON_INTERVAL_S: type("string.integer.parse").pipe(type("5 <= number <= 3600")).default("60"),
  SENTPULSE_ONLINE_WINDOW_S: type("string.integer.parse").pipe(type("2 <= number <= 3600")).default("30"),
  SENTPULSE_OFFLINE_AFTER_S: type("string.integer.parse").pipe(type("5 <= number <= 86400")).default("180"),
  SENTPULSE_SECRET_ROTATION_S: type("string.integer.parse").pipe(type("10 <= number <= 31536000")).default("86400"),
  SENTPULSE_TIMESCALE: type("'auto' | 'off'").default("auto"),
  SENTPULSE_LOG_LEVEL: type("'debug' | 'info' | 'warn' | 'error'").default("info"),
  SENTPULSE_AGENT_DIST_DIR: type("string").default("./dist/agent"),
  SENTPULSE_WEB_DIST_DIR: type("string").default("./web/dist"),
  "SENTPULSE_LOCAL_ENROLL_FILE?": "string",
  "SENTPULSE_SECRET_KEY?": "string",
  "SENTPULSE_METRICS_TOKEN?": "string >= 16",
  "SENTPULSE_NATS_URL?": type("string").pipe((v, ctx) => {
    const urls = v.split(",").map((u) => u.trim());
    for (const u of urls) if (!/^(nats|tls):\/\/[^\s/]+$/.test(u)) return ctx.error(`a list of NATS URLs like nats://nats:4222 (got ${u})`);
    return urls.join(",");
  }),
  SENTPULSE_NOTIFY_RETRY_BASE_S: type("string.integer.parse").pipe(type("1 <= number <= 3600")).default("5"),
  SENTPULSE_SCHEDULER_INTERVAL_MS: type("string.integer.parse").pipe(type("100 <= number <= 60000")).default("5000"),
  SENTPULSE_TERMINAL_IDLE_S: type("string.integer.parse").pipe(type("1 <= number <= 86400")).default("600"),
  SENTPULSE_AUDIT_RETENTION_DAYS: type("string.integer.parse").pipe(type("30 <= number <= 3650")).default("365"),
  SENTPULSE_FILES_DEVICE_RATE_BPS: type("string.integer.parse").pipe(type("0 <= number <= 100000000000")).default("0"),
  SENTPULSE_FILES_STAGING_QUOTA_BYTES: type("string.integer.parse")
    .pipe(type("1048576 <= number <= 100000000000000"))
    .default("21474836480"),
  "SENTPULSE_TRUSTED_PROXIES?": type("string").pipe((v, ctx) => {
    const proxies = v
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    try {
      compileTrust(proxies);
    } catch {
      return ctx.error("a list of proxy addresses or ranges like 10.0.0.0/8,127.0.0.1 (or loopback, linklocal, uniquelocal)");
    }
    return proxies;
  }),
  "SENTPULSE_ALLOWED_ORIGINS?": type("string").pipe((v, ctx) => {
    const origins = v
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean);
    for (const o of origins) {
      if (!/^https?:\/\/[^/]+$/.test(o) || !URL.canParse(o)) return ctx.error(`a list of origins like https://rmm.example.com (got ${o})`);
    }
    return origins;
  }),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  publicUrl: string;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  /** Seconds between agent telemetry frames over the socket. */
  telemetryIntervalS: number;
  /** Seconds between signed HTTP beacons while the socket is down. */
  beaconIntervalS: number;
  /** Max telemetry age for "online". */
  onlineWindowS: number;
  /** Silence before "offline" and the offline alert. */
  offlineAfterS: number;
  /** Device secret lifetime before the server rotates it. */
  secretRotationS: number;
  allowTimescale: boolean;
  logLevel: "debug" | "info" | "warn" | "error";
  agentDistDir: string;
  webDistDir: string;
  /** When set and the file is absent: write a single-use enrollment token there (scripts/start enrolls this machine with it). */
  localEnrollFile: string | undefined;
  /** A terminal without input or output this long is closed, seconds. */
  terminalIdleS: number;
  /** Audit entries older than this many days are deleted by the daily retention job. */
  auditRetentionDays: number;
  /** Bytes/s all file transfers of one device may use together over its socket (0: no cap; a transfer may set a lower one). */
  filesDeviceRateBps: number;
  /** Bytes the file transfers' staging directory (under the data directory) may hold. */
  filesStagingQuotaBytes: number;
  /** 32-byte key (base64) sealing channel secrets; unset = a key generated once in the data directory. */
  secretKey: string | undefined;
  /** First retry delay of a failed notification, doubled each time, seconds. */
  notifyRetryBaseS: number;
  /** How often due schedules and script checks are looked for, ms. */
  schedulerIntervalMs: number;
  /** Bearer token that Prometheus presents to `GET /metrics` (admin keys and sessions work too); unset = none. */
  metricsToken: string | undefined;
  /** NATS server(s) of a cluster of server nodes (comma-separated); unset = one process with its in-process bus. */
  natsUrl: string | undefined;
  /** Sign-in throttling (fixed; tests shorten the holds). */
  loginLimits: ThrottleLimits;
  /** Origins besides the public URL's whose pages may use a session (cookie) to change things or open sockets. */
  allowedOrigins: string[];
  /** Load balancers whose `X-Forwarded-For` names the client (`SENTPULSE_TRUSTED_PROXIES`); none by default. */
  trustedProxies: string[];
}

/**
 * Reads the configuration once: explicit overrides first, then the environment, then defaults.
 * Fails fast with every bad variable named.
 */
export function loadConfig(overrides: Partial<Config> = {}, env: Record<string, string | undefined> = process.env): Config {
  const picked = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith("SENTPULSE_") && v !== ""));
  const parsed = Env(picked);
  if (parsed instanceof type.errors) throw new Error(`bad configuration:\n${parsed.summary}`);
  const port = overrides.port ?? parsed.SENTPULSE_PORT;
  return {
    port,
    host: parsed.SENTPULSE_HOST,
    dataDir: parsed.SENTPULSE_DATA_DIR,
    databaseUrl: parsed.SENTPULSE_DATABASE_URL,
    publicUrl: (parsed.SENTPULSE_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ""),
    adminEmail: parsed.SENTPULSE_ADMIN_EMAIL,
    adminPassword: parsed.SENTPULSE_ADMIN_PASSWORD,
    telemetryIntervalS: parsed.SENTPULSE_TELEMETRY_INTERVAL_S,
    beaconIntervalS: parsed.SENTPULSE_BEACON_INTERVAL_S,
    onlineWindowS: parsed.SENTPULSE_ONLINE_WINDOW_S,
    offlineAfterS: parsed.SENTPULSE_OFFLINE_AFTER_S,
    secretRotationS: parsed.SENTPULSE_SECRET_ROTATION_S,
    allowTimescale: parsed.SENTPULSE_TIMESCALE !== "off",
    logLevel: parsed.SENTPULSE_LOG_LEVEL,
    agentDistDir: parsed.SENTPULSE_AGENT_DIST_DIR,
    webDistDir: parsed.SENTPULSE_WEB_DIST_DIR,
    localEnrollFile: parsed.SENTPULSE_LOCAL_ENROLL_FILE,
    terminalIdleS: parsed.SENTPULSE_TERMINAL_IDLE_S,
    auditRetentionDays: parsed.SENTPULSE_AUDIT_RETENTION_DAYS,
    filesDeviceRateBps: parsed.SENTPULSE_FILES_DEVICE_RATE_BPS,
    filesStagingQuotaBytes: parsed.SENTPULSE_FILES_STAGING_QUOTA_BYTES,
    secretKey: parsed.SENTPULSE_SECRET_KEY,
    notifyRetryBaseS: parsed.SENTPULSE_NOTIFY_RETRY_BASE_S,
    schedulerIntervalMs: parsed.SENTPULSE_SCHEDULER_INTERVAL_MS,
    metricsToken: parsed.SENTPULSE_METRICS_TOKEN,
    natsUrl: parsed.SENTPULSE_NATS_URL,
    allowedOrigins: parsed.SENTPULSE_ALLOWED_ORIGINS ?? [],
    trustedProxies: parsed.SENTPULSE_TRUSTED_PROXIES ?? [],
    loginLimits: LOGIN_LIMITS,
    ...overrides,
  };
}

// Reads the environment once at start-up; a bad value stops start-up with one clear line.
import { resolve } from 'node:path';
import { z } from 'zod';
import { noBrand, parseAccent, parseImage, type Brand } from './brand.ts';
import { defaultCadenceMinutes, defaultSeverityPolicy, severities, type ReachFlags, type Severity } from './domain.ts';
import { parseTrustedProxies, type TrustedProxies } from './http/client-address.ts';

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const envSchema = z.object({
  // Digits only: coercion would take "1e3" or "0x50" and answer "abc" with "received NaN".
  PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a whole number from 0 to 65535')
    .default('4321')
    .transform(Number)
    .pipe(z.number().max(65535, 'must be a whole number from 0 to 65535')),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z.string().min(1).optional(),
  DATABASE_AUTH_TOKEN: z.string().min(1).optional(),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
  MAIL_FROM: z.string().min(3).default('Status updates <status@localhost>'),
  SEED_DEMO: flag.optional(),
  PAGE_NAME: z.string().min(1).default('Example Status'),
  SEVERITY_POLICY: z
    .string()
    .optional()
    .transform((v, ctx) => {
      try {
        return parseSeverityPolicy(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    }),
  CADENCE: z
    .string()
    .optional()
    .transform((v, ctx) => parsing(() => parseCadence(v), ctx)),
  REMINDER_LEAD_MINUTES: z.string().regex(/^\d{1,4}$/, 'must be a whole number of minutes').default('5').transform(Number),
  COMMS_EMAIL: z.email('must be an email address').optional(),
  WEBHOOK_ALLOW_PRIVATE: flag.default(false),
  ALERT_POLICY: z
    .string()
    .optional()
    .transform((v, ctx) => parsing(() => parseAlertPolicy(v), ctx)),
  ALERT_SEVERITY_MAP: z
    .string()
    .optional()
    .transform((v, ctx) => parsing(() => parseAlertSeverityMap(v), ctx)),
  ALERT_COMPONENT_MAP: z
    .string()
    .optional()
    .transform((v, ctx) => parsing(() => parseAlertComponentMap(v), ctx)),
  TRUSTED_PROXIES: z
    .string()
    .optional()
    .transform((v, ctx) => {
      try {
        return parseTrustedProxies(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    }),
  TIME_ZONE: z
    .string()
    .default('UTC')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'is not an IANA time zone such as Europe/Berlin'),
  MAINTENANCE_REMINDER_HOURS: z
    .string()
    .default('24')
    .transform((v, ctx) => parsing(() => parseReminderHours(v), ctx)),
  BRAND_LOGO: z
    .string()
    .optional()
    .transform((v, ctx) => (v ? parsing(() => parseImage(v, 'logo'), ctx) : null)),
  BRAND_FAVICON: z
    .string()
    .optional()
    .transform((v, ctx) => (v ? parsing(() => parseImage(v, 'favicon'), ctx) : null)),
  BRAND_ACCENT: z
    .string()
    .optional()
    .transform((v, ctx) => (v ? parsing(() => parseAccent(v), ctx) : null)),
  SUPPORT_URL: z.url({ protocol: /^(https?|mailto)$/, error: 'must be an https://, http:// or mailto: URL' }).optional(),
  HOMEPAGE_URL: z.url({ protocol: /^https?$/, error: 'must be an https:// or http:// URL' }).optional(),
  SITE_POLL_MS: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a whole number of milliseconds from 50 to 1000')
    .default('200')
    .transform(Number)
    .pipe(z.number().min(50, 'must be a whole number of milliseconds from 50 to 1000').max(1000, 'must be a whole number of milliseconds from 50 to 1000')),
  DATABASE_LOCK_WAIT_MS: z
    .string()
    .regex(/^\d{1,6}$/, 'must be a whole number of milliseconds from 100 to 60000')
    .default('5000')
    .transform(Number)
    .pipe(z.number().min(100, 'must be a whole number of milliseconds from 100 to 60000').max(60_000, 'must be a whole number of milliseconds from 100 to 60000')),
  SITE_S3_URL: z
    .string()
    .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^?#]*)?$/, 'must be s3://bucket or s3://bucket/prefix')
    .optional(),
  SITE_S3_FORCE_PATH_STYLE: flag.optional(),
  AWS_ENDPOINT_URL_S3: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  AWS_ENDPOINT_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  AWS_REGION: z.string().min(1).optional(),
  AWS_DEFAULT_REGION: z.string().min(1).optional(),
  OIDC_ISSUER: z
    .url({ protocol: /^https?$/, error: 'must be an https:// URL (http:// only on a loopback address)' })
    .refine((v) => v.startsWith('https:') || isLoopbackUrl(v), 'must be an https:// URL; http:// is accepted only on a loopback address (127.0.0.1, ::1, localhost)')
    .optional(),
  OIDC_CLIENT_ID: z.string().min(1).max(500).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).max(2000).optional(),
  OIDC_ROLE_CLAIM: z.string().regex(/^[A-Za-z0-9_.:/-]{1,200}$/, 'must be a claim name such as status_role').default('status_role'),
  OIDC_ALLOWED_DOMAINS: z
    .string()
    .optional()
    .transform((v, ctx) => parsing(() => parseAllowedDomains(v), ctx)),
});

/** Whether a URL's host is a loopback address: the only place an http:// OpenID issuer is accepted (tests, local setups). */
export function isLoopbackUrl(raw: string): boolean {
  const host = URL.parse(raw)?.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host ?? '');
}

/** "example.com, example.org" → ["example.com", "example.org"]: email domains that may sign in by SSO before an admin adds them. */
export function parseAllowedDomains(spec: string | undefined): string[] {
  if (!spec) return [];
  const domains = spec.split(',').map((d) => d.trim().toLowerCase().replace(/^@/, '')).filter(Boolean);
  for (const d of domains) if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(d)) throw new Error(`names "${d}", which is not an email domain such as example.com`);
  return domains;
}

/** Single sign-on through OpenID Connect (OIDC_*); null when OIDC_ISSUER is not set. */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** Absent for a public client (PKCE alone). */
  clientSecret: string | undefined;
  /** The ID token claim that carries admin, comms or viewer for people who are not members yet. */
  roleClaim: string;
  /** Email domains that may sign in without being a member yet; empty: members only. */
  allowedDomains: string[];
}

/** Where the site is also published: a bucket, a key prefix ("" or "site/"), and how to reach the server. */
export interface BucketTarget {
  url: string;
  bucket: string;
  prefix: string;
  /** AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL; undefined for AWS itself. */
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
}

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string;
  databaseAuthToken: string | undefined;
  /** How long a write waits for the database's write lock before it is answered 503, in ms (DATABASE_LOCK_WAIT_MS). */
  databaseLockWaitMs: number;
  /** Absolute base for links in emails and feeds, without a trailing slash. */
  publicUrl: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  /** undefined: seed only when the database is empty. */
  seedDemo: boolean | undefined;
  pageName: string;
  timeZone: string;
  /** Who hears about an incident of each severity. */
  severityPolicy: Record<Severity, ReachFlags>;
  /** How often each process looks for publishes made through other processes, in ms. */
  sitePollMs: number;
  /** SITE_S3_URL and the AWS_* variables: where the site is also uploaded, or null. */
  siteS3: BucketTarget | null;
  /** The only peers whose X-Forwarded-For is believed (TRUSTED_PROXIES); none by default. */
  trustedProxies: TrustedProxies;
  cadence: CadenceSettings;
  /** Whether webhook subscribers and channels may point at loopback, private or link-local addresses. */
  webhookAllowPrivate: boolean;
  alerts: AlertSettings;
  /** OIDC_ISSUER and friends: single sign-on, or null. */
  oidc: OidcSettings | null;
  /** Hours before a maintenance window starts that subscribers are reminded, largest first; empty for none. */
  maintenanceReminderHours: number[];
  /** Logo, accent, favicon, support and home links for the site and the emails. */
  brand: Brand;
}

/** When updates are due and who is reminded (CADENCE, REMINDER_LEAD_MINUTES, COMMS_EMAIL). */
export interface CadenceSettings {
  /** Minutes between updates by severity; 0 means no cadence. */
  minutes: Record<Severity, number>;
  /** Minutes before the next update is due that the reminder goes out. */
  leadMinutes: number;
  /** Who is reminded when the incident names no comms lead email and the publisher's token has none. */
  commsEmail: string | undefined;
}

export type AlertAction = 'publish' | 'draft';

/** How alerts become incidents (ALERT_POLICY, ALERT_SEVERITY_MAP, ALERT_COMPONENT_MAP). */
export interface AlertSettings {
  policy: Record<Severity, AlertAction>;
  /** Lower-case `severity` label value to severity. */
  severityMap: Record<string, Severity>;
  /** `component` label value (as sent, case kept) to component id; a value not here is taken as a component id itself. */
  componentMap: Record<string, string>;
}

export const defaultAlertPolicy: Record<Severity, AlertAction> = { SEV1: 'publish', SEV2: 'draft', SEV3: 'draft', SEV4: 'draft' };
export const defaultAlertSeverityMap: Record<string, Severity> = { critical: 'SEV1', warning: 'SEV2', major: 'SEV2', minor: 'SEV3', info: 'SEV4' };

/**
 * "24" or "72,24,1": whole hours before a maintenance window starts at which subscribers are reminded (at most a
 * year ahead); "0" alone means no reminders. Returned largest first, without repeats.
 */
export function parseReminderHours(spec: string): number[] {
  const parts = spec.split(',').map((p) => p.trim());
  for (const p of parts) {
    if (!/^\d{1,4}$/.test(p) || Number(p) > 8784) throw new Error(`gives "${p}"; use whole hours from 0 to 8784, comma-separated, 0 for none`);
  }
  const hours = [...new Set(parts.map(Number))].sort((a, b) => b - a);
  if (hours.includes(0) && hours.length > 1) throw new Error('mixes 0 (no reminders) with hours; give one or the other');
  return hours.filter((h) => h > 0);
}

function parsing<T>(parse: () => T, ctx: z.RefinementCtx): T {
  try {
    return parse();
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
}

/** "name:value,name:value" pairs, each checked by `read`; names are matched as written. */
function pairs(spec: string, read: (name: string, value: string) => void) {
  for (const entry of spec.split(',').map((e) => e.trim()).filter(Boolean)) {
    const [name = '', value = ''] = entry.split(':').map((p) => p.trim());
    read(name, value);
  }
}

function severityName(name: string): Severity {
  if (!severities.includes(name as Severity)) throw new Error(`names "${name}", not one of ${severities.join(', ')}`);
  return name as Severity;
}

/** "SEV1:15,SEV2:30" overrides the default cadence (minutes between updates) for the severities named; 0 is none. */
export function parseCadence(spec: string | undefined): Record<Severity, number> {
  const cadence = { ...defaultCadenceMinutes };
  if (!spec) return cadence;
  pairs(spec, (name, value) => {
    if (!/^\d{1,5}$/.test(value)) throw new Error(`gives ${name} "${value}"; use whole minutes, 0 for none`);
    cadence[severityName(name)] = Number(value);
  });
  return cadence;
}

/** "SEV1:publish,SEV2:draft" overrides what an alert of each severity does. */
export function parseAlertPolicy(spec: string | undefined): Record<Severity, AlertAction> {
  const policy = { ...defaultAlertPolicy };
  if (!spec) return policy;
  pairs(spec, (name, value) => {
    if (value !== 'publish' && value !== 'draft') throw new Error(`gives ${name} "${value}"; use publish or draft`);
    policy[severityName(name)] = value;
  });
  return policy;
}

/** "critical:SEV1,page:SEV1" adds to (or overrides) the default mapping of the `severity` label. */
export function parseAlertSeverityMap(spec: string | undefined): Record<string, Severity> {
  const map = { ...defaultAlertSeverityMap };
  if (!spec) return map;
  pairs(spec, (name, value) => {
    if (!name) throw new Error('has an empty label value');
    map[name.toLowerCase()] = severityName(value);
  });
  return map;
}

/**
 * "checkout-svc:api,pg-primary:database" names the component behind a `component` label value that is not a
 * component id (a service name from the monitoring side). Empty by default: label values are component ids.
 */
export function parseAlertComponentMap(spec: string | undefined): Record<string, string> {
  const map: Record<string, string> = {};
  if (!spec) return map;
  pairs(spec, (name, value) => {
    if (!name) throw new Error('has an empty label value');
    if (!/^[a-z0-9][a-z0-9-]*$/.test(value)) throw new Error(`maps "${name}" to "${value}", which is not a component id (lower-case letters, digits and dashes)`);
    map[name] = value;
  });
  return map;
}

const reachFlagNames = ['public', 'subscribers', 'stakeholders'] as const;

/**
 * "SEV3:public+subscribers+stakeholders,SEV4:none" overrides the default policy for the severities named.
 * public: the status page, JSON and feed; subscribers: customer email; stakeholders: executive briefings.
 */
function parseSeverityPolicy(spec: string | undefined): Record<Severity, ReachFlags> {
  const policy = structuredClone(defaultSeverityPolicy);
  if (!spec) return policy;
  for (const entry of spec.split(',').map((e) => e.trim()).filter(Boolean)) {
    const [sev, list = ''] = entry.split(':').map((p) => p.trim());
    if (!severities.includes(sev as Severity)) throw new Error(`names "${sev}", not one of ${severities.join(', ')}`);
    const names = list === 'none' ? [] : list.split('+').map((n) => n.trim());
    for (const n of names) {
      if (!reachFlagNames.includes(n as (typeof reachFlagNames)[number])) {
        throw new Error(`names audience "${n}" for ${sev}; use ${reachFlagNames.join(', ')} joined by + or "none"`);
      }
    }
    policy[sev as Severity] = { public: names.includes('public'), subscribers: names.includes('subscribers'), stakeholders: names.includes('stakeholders') };
  }
  return policy;
}

export class ConfigError extends Error {}

export function readConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(present);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0]);
    throw new ConfigError(`Configuration error: ${name}=${JSON.stringify(present[name] ?? '')} ${issue.message}`);
  }
  const e = result.data;
  const dataDir = resolve(e.DATA_DIR);
  const shownHost = e.HOST === '0.0.0.0' || e.HOST === '::' ? 'localhost' : e.HOST;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    databaseUrl: e.DATABASE_URL ?? resolve(dataDir, 'status.db'),
    databaseAuthToken: e.DATABASE_AUTH_TOKEN,
    databaseLockWaitMs: e.DATABASE_LOCK_WAIT_MS,
    publicUrl: (e.PUBLIC_URL ?? `http://${shownHost}:${e.PORT}`).replace(/\/+$/, ''),
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    seedDemo: e.SEED_DEMO,
    pageName: e.PAGE_NAME,
    timeZone: e.TIME_ZONE,
    severityPolicy: e.SEVERITY_POLICY,
    cadence: { minutes: e.CADENCE, leadMinutes: e.REMINDER_LEAD_MINUTES, commsEmail: e.COMMS_EMAIL },
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
    alerts: { policy: e.ALERT_POLICY, severityMap: e.ALERT_SEVERITY_MAP, componentMap: e.ALERT_COMPONENT_MAP },
    sitePollMs: e.SITE_POLL_MS,
    siteS3: e.SITE_S3_URL ? bucketTarget(e.SITE_S3_URL, e) : null,
    trustedProxies: e.TRUSTED_PROXIES,
    oidc: oidcSettings(e),
    maintenanceReminderHours: e.MAINTENANCE_REMINDER_HOURS,
    brand: {
      ...noBrand,
      logo: e.BRAND_LOGO,
      favicon: e.BRAND_FAVICON,
      accent: e.BRAND_ACCENT,
      supportUrl: e.SUPPORT_URL ?? null,
      homepageUrl: e.HOMEPAGE_URL ?? null,
    },
  };
}

function oidcSettings(e: z.infer<typeof envSchema>): OidcSettings | null {
  if (!e.OIDC_ISSUER) {
    if (e.OIDC_CLIENT_ID) throw new ConfigError('Configuration error: OIDC_CLIENT_ID is set but OIDC_ISSUER is not; set both for single sign-on.');
    return null;
  }
  if (!e.OIDC_CLIENT_ID) throw new ConfigError('Configuration error: OIDC_ISSUER is set but OIDC_CLIENT_ID is not; set the client id your identity provider gave this status page.');
  return { issuer: e.OIDC_ISSUER, clientId: e.OIDC_CLIENT_ID, clientSecret: e.OIDC_CLIENT_SECRET, roleClaim: e.OIDC_ROLE_CLAIM, allowedDomains: e.OIDC_ALLOWED_DOMAINS };
}

/** s3://bucket/some/prefix → bucket "bucket", prefix "some/prefix/"; credentials come from the SDK's usual chain (AWS_ACCESS_KEY_ID …). */
function bucketTarget(url: string, e: z.infer<typeof envSchema>): BucketTarget {
  const [bucket = '', ...rest] = url.slice('s3://'.length).split('/');
  const prefix = rest.join('/').replace(/^\/+|\/+$/g, '');
  return {
    url,
    bucket,
    prefix: prefix ? `${prefix}/` : '',
    endpoint: e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL,
    region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: e.SITE_S3_FORCE_PATH_STYLE ?? false,
  };
}

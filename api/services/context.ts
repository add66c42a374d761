// What every service is given: the database, the clock, the templates, links and the publish hook.
import type { Database } from '../../db/client.ts';
import type { ReachFlags, Severity } from '../domain.ts';
import type { Clock } from '../clock.ts';
import type { AlertSettings, CadenceSettings } from '../config.ts';
import type { Brand } from '../brand.ts';
import type { TrustedProxies } from '../http/client-address.ts';
import type { PublishHook } from '../publish.ts';
import type { TemplateCatalog } from '../templates.ts';

export interface Services {
  db: Database;
  clock: Clock;
  hook: PublishHook;
  templates: TemplateCatalog;
  /** Absolute base URL for links in rendered wording, emails and feeds. */
  publicUrl: string;
  /** Who hears about an incident of each severity (SEVERITY_POLICY, else the default). */
  severityPolicy: Record<Severity, ReachFlags>;
  /** When updates are due and who is reminded (CADENCE, REMINDER_LEAD_MINUTES, COMMS_EMAIL). */
  cadence: CadenceSettings;
  /** Whether webhook subscribers may point at private addresses (WEBHOOK_ALLOW_PRIVATE); admin-set channels always may. */
  webhookAllowPrivate: boolean;
  alerts: AlertSettings;
  /** The page name and brand (PAGE_NAME, BRAND_*), for the pages behind subscribers' links; absent: none. */
  pageName?: string;
  brand?: Brand;
  /** Hours before a maintenance window starts that subscribers are reminded (MAINTENANCE_REMINDER_HOURS); empty: none. */
  maintenanceReminderHours: number[];
  /** The zone times are written in, in wording and emails (TIME_ZONE); UTC when absent. */
  timeZone?: string;
  /** Peers whose X-Forwarded-For is believed (TRUSTED_PROXIES); absent: none. */
  trustedProxies?: TrustedProxies;
}

/** Who is acting, by the name the audit timeline shows: a token's name, "scheduler" for work the clock does, "command line" at the server's shell. */
export interface Actor {
  name: string;
}

// What every service is given: the database, the clock, the templates, links and the publish hook.
import type { Database, Tx } from '../../db/client.ts';
import type { ReachFlags, Severity } from '../domain.ts';
import type { Clock } from '../clock.ts';
import type { AlertSettings, CadenceSettings } from '../config.ts';
import type { Brand } from '../brand.ts';
import type { TrustedProxies } from '../http/client-address.ts';
import type { Publication, PublishHook } from '../publish.ts';
import type { TemplateCatalog } from '../templates.ts';

export interface Services {
  db: Database;
  /** The open transaction of the use case that called this one: withTransaction joins it instead of committing apart. */
  tx?: Tx | undefined;
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

/** Roles in rising order of rights (SPEC "HTTP API"): viewer reads internal pages, comms publishes, admin does everything. */
export const roles = ['viewer', 'comms', 'admin'] as const;
export type Role = (typeof roles)[number];

/** admin can do everything comms can; comms everything viewer can. */
export function roleAllows(held: Role, needed: Role): boolean {
  return roles.indexOf(held) >= roles.indexOf(needed);
}

/**
 * Runs `work` in the caller's transaction when there is one (`s.tx`), else in a new transaction (OpenStatus's
 * `withTransaction`): a use case called by another with `{ ...s, tx }` joins its commit instead of making its own,
 * so alert intake that reserves a group, declares and records is one commit.
 */
export function withTransaction<T>(s: Pick<Services, 'db' | 'tx'>, work: (tx: Tx) => Promise<T>): Promise<T> {
  return s.tx ? work(s.tx) : s.db.transaction(work);
}

/**
 * The services as seen by a use case that another calls inside its open transaction `tx`: its writes join that
 * transaction, and what it emits on the publish hook ("an update was committed") is held until the caller's commit.
 * The caller runs `flush()` after its own transaction has committed; nothing is emitted if it rolls back.
 */
export function joinTransaction(s: Services, tx: Tx): { services: Services; flush: () => void } {
  const held: Publication[] = [];
  const hook: PublishHook = { subscribe: (listener) => s.hook.subscribe(listener), emit: (publication) => void held.push(publication) };
  return { services: { ...s, tx, hook }, flush: () => held.splice(0).forEach((p) => s.hook.emit(p)) };
}

/**
 * Who is acting (SPEC "One door"): a typed value, never a bare name. Every variant carries the `name` the audit
 * timeline shows and the `role` its checks use; `email` is where reminders reach a publisher, when known.
 * - `member`: a team member signed in (email link or SSO).
 * - `token`: an API token (automation, statusctl, or a console session opened with a token).
 * - `stakeholder`: an executive signed in by an emailed link; always a viewer.
 * - `alert`: the alert intake, acting with the comms token Alertmanager or Grafana posted with.
 * - `system`: the process itself: "scheduler" for work the clock does, "command line" at the server's shell, "demo".
 */
export type Actor =
  | { kind: 'member'; id: string; name: string; email: string; role: Role }
  | { kind: 'token'; id: string; name: string; email: string | null; role: Role }
  | { kind: 'stakeholder'; id: string; name: string; email: string; role: 'viewer' }
  | { kind: 'alert'; id: string; name: string; email: string | null; role: Role; source: 'alertmanager' | 'grafana' }
  | { kind: 'system'; name: SystemActorName; role: 'admin' };

/** What the process is doing: "scheduler", "command line", "demo", "start-up", a test's setup. */
export type SystemActorName = string;

/** The process acting on its own behalf (never signed in; admin because it runs what people scheduled). */
export function systemActor(name: SystemActorName): Actor {
  return { kind: 'system', name, role: 'admin' };
}

/** A stable key for whoever acts: `member:<id>`, `token:<id>`, `stakeholder:<id>`, `alert:<token id>`, `system:<name>` (idempotency scopes, audit). */
export function actorKey(actor: Actor): string {
  switch (actor.kind) {
    case 'member':
    case 'token':
    case 'stakeholder':
    case 'alert':
      return `${actor.kind}:${actor.id}`;
    case 'system':
      return `system:${actor.name}`;
  }
}

/** The email reminders reach this actor at, or null (a token made without --email, the system). */
export function actorEmail(actor: Actor): string | null {
  switch (actor.kind) {
    case 'member':
    case 'stakeholder':
      return actor.email;
    case 'token':
    case 'alert':
      return actor.email;
    case 'system':
      return null;
  }
}

// Plans renders from the change log: the audit timeline, written in every publishing transaction, read as "what changed since N".
import { and, gt, lte, max, notInArray } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { auditEvents } from '../../db/schema.ts';
import { readers, loadIncidents } from './records.ts';

/** A part of the public site that a change can touch. */
export type Target = 'index' | 'history' | 'json' | 'feed' | `incident:${string}` | `maintenance:${string}`;

/** The parts that move with the clock alone: the day bars on the index, the current month, upcoming maintenance. */
export const clockTargets: Target[] = ['index', 'history', 'json'];

/** What the changes after one point in the log touch on the public site, and how far they reach. */
export interface ChangePlan {
  /** The last change id read: after rendering the targets, the output is current through it. */
  through: number;
  targets: Set<Target>;
}

/**
 * The id of the newest change (0 for none). Every publish writes an audit row in its own transaction, and SQLite
 * (and libSQL servers) commit one writer at a time, so ids become visible in order: reading "after N" misses nothing.
 */
export async function latestChange(db: Queryable): Promise<number> {
  const [row] = await db.select({ id: max(auditEvents.id) }).from(auditEvents);
  return row?.id ?? 0;
}

/** Audit subjects that never show on the public site: who is told, and who may sign in. */
const offSite = ['subscriber', 'stakeholder', 'token', 'member', 'session'];

/**
 * Reads changes in (after, upTo] and maps them to site targets: an incident's page and the lists, a maintenance's page
 * and the lists; anything else the site may show (a component, a component group, whatever is audited next) the front
 * page and the JSON. Incidents the public never sees (SEV3/SEV4) touch nothing public; subscribers, stakeholders and
 * tokens touch nothing either. At most `limit` changes per plan.
 */
export async function planChanges(db: Queryable, after: number, upTo: number, limit = 5_000): Promise<ChangePlan> {
  const rows = await db
    .select({ id: auditEvents.id, type: auditEvents.subjectType, subject: auditEvents.subjectId })
    .from(auditEvents)
    .where(and(gt(auditEvents.id, after), lte(auditEvents.id, upTo), notInArray(auditEvents.subjectType, offSite)))
    .orderBy(auditEvents.id)
    .limit(limit);
  const through = rows.length === limit ? rows.at(-1)!.id : upTo;
  const targets = new Set<Target>();
  const incidentIds = new Set<string>();
  for (const r of rows) {
    if (r.type === 'incident' || r.type === 'postmortem') incidentIds.add(r.subject);
    else if (r.type === 'maintenance') for (const t of [`maintenance:${r.subject}`, 'history', 'index', 'json', 'feed'] as const) targets.add(t);
    else for (const t of ['index', 'json'] as const) targets.add(t);
  }
  const visible = await loadIncidents(db, readers.public, { ids: [...incidentIds] });
  for (const i of visible) for (const t of [`incident:${i.id}`, 'history', 'index', 'json', 'feed'] as const) targets.add(t);
  return { through, targets };
}

// What a team does with the follow-ups an incident taught: add action items, change and close them, list them, and keep their owners reminded.
import { z } from 'zod';
import { and, asc, eq, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Queryable, Tx } from '../../db/client.ts';
import { actionItems, deliveries, incidents } from '../../db/schema.ts';
import { actionItemPriorities, actionItemStatuses, isActionItemOverdue, type ActionItemPriority, type ActionItemStatus } from '../domain.ts';
import { ConflictError, NotFoundError, ValidationError, type FieldError } from '../errors.ts';
import { newId } from '../ids.ts';
import { isXmlText } from '../characters.ts';
import { recordAudit } from './audit.ts';
import { authorize } from './use-cases.ts';
import type { Actor, Services } from './context.ts';

// ---- input, validated by each use case ----

const singleLine = /^[^\x00-\x1f\x7f]*$/;
const title = z.string().trim().min(1, 'must not be empty').max(300, 'must be at most 300 characters').regex(singleLine, 'must be a single line without control characters').refine(isXmlText, 'must not contain characters XML 1.0 forbids');
const owner = z.string().trim().pipe(z.email('must be an email address: the owner is reminded by email').max(254, 'must be at most 254 characters'));
/** A calendar day this century: a typo like 0202-12-01 is refused rather than stored as a due date. */
export const dueOnShape = z.iso
  .date('must be a date, YYYY-MM-DD')
  .refine((d) => d >= '2000-01-01' && d <= '2099-12-31', 'must be between 2000-01-01 and 2099-12-31')
  .describe('YYYY-MM-DD, between 2000-01-01 and 2099-12-31 (UTC).');
const trackerUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).max(2000, 'must be at most 2000 characters');

/** SPEC body `{ title, owner (email), dueOn (YYYY-MM-DD), priority (P1..P4), status (open|done|wont_do), url? }`; priority defaults to P3, status to open. */
export const actionItemInput = z
  .object({
    title,
    owner,
    dueOn: dueOnShape,
    priority: z.enum(actionItemPriorities).default('P3'),
    status: z.enum(actionItemStatuses).default('open'),
    url: trackerUrl.nullable().optional(),
  })
  .strict();
export type ActionItemInput = z.input<typeof actionItemInput>;

/** The same shape in a postmortem: priority and status stay unstated when omitted, so a revision never resets them. */
export const postmortemItemInput = actionItemInput.extend({ priority: z.enum(actionItemPriorities).optional(), status: z.enum(actionItemStatuses).optional() }).strict();

/** A PATCH: any of the fields, at least one; `url: null` removes the tracker link. */
export const actionItemChange = actionItemInput
  .partial()
  .extend({ priority: z.enum(actionItemPriorities).optional(), status: z.enum(actionItemStatuses).optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change');
export type ActionItemChange = z.input<typeof actionItemChange>;

export const actionItemFilter = z.enum(['open', 'done', 'overdue']);
export type ActionItemFilter = z.infer<typeof actionItemFilter>;

/** Parses with `schema`, or throws one ValidationError (422) naming every bad field under `prefix`. */
function parse<T extends z.ZodType>(schema: T, input: unknown, prefix = ''): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors: FieldError[] = result.error.issues.map((i) => ({ path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || 'body', message: i.message }));
  throw new ValidationError(`The action item is invalid: check ${[...new Set(errors.map((e) => e.path))].join(', ')}.`, errors);
}

/**
 * The actor's role, where it carries one (an API token or a signed-in session today), must allow `needed`; actors
 * without a role (the scheduler, the server's command line) act for the system. 403 otherwise.
 */
// ---- reading ----

type Row = typeof actionItems.$inferSelect;

export interface ActionItemView {
  id: string;
  incidentId: string;
  /** The incident's internal title, for lists across incidents. */
  incidentTitle: string;
  title: string;
  owner: string;
  dueOn: string;
  priority: ActionItemPriority;
  status: ActionItemStatus;
  url: string | null;
  /** Open after its due day has ended (UTC). */
  overdue: boolean;
  closedAt: Date | null;
  version: number;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

const utcDay = (at: Date) => at.toISOString().slice(0, 10);

const isOverdue = isActionItemOverdue;

function toView(r: Row & { incidentTitle: string }, now: Date): ActionItemView {
  return { ...r, priority: r.priority as ActionItemPriority, status: r.status as ActionItemStatus, overdue: isOverdue(r, now) };
}


async function selectItems(db: Queryable, where: SQL | undefined, now: Date): Promise<ActionItemView[]> {
  const rows = await db
    .select({
      id: actionItems.id,
      incidentId: actionItems.incidentId,
      incidentTitle: sql<string>`coalesce(${incidents.internalTitle}, '')`,
      title: actionItems.title,
      owner: actionItems.owner,
      dueOn: actionItems.dueOn,
      priority: actionItems.priority,
      status: actionItems.status,
      url: actionItems.url,
      closedAt: actionItems.closedAt,
      version: actionItems.version,
      createdBy: actionItems.createdBy,
      createdAt: actionItems.createdAt,
      updatedAt: actionItems.updatedAt,
    })
    .from(actionItems)
    .leftJoin(incidents, eq(incidents.id, actionItems.incidentId))
    .where(where)
    .orderBy(asc(actionItems.dueOn), asc(actionItems.priority), asc(actionItems.createdAt), asc(actionItems.id));
  return rows.map((r) => toView(r, now));
}

/** One incident's action items, soonest due first (an internal read: viewer). 404 for an unknown incident. */
export async function incidentActionItems(s: Pick<Services, 'db' | 'clock'>, actor: Actor, incidentId: string): Promise<ActionItemView[]> {
  authorize(actor, 'incidentActionItems');
  const [incident] = await s.db.select({ id: incidents.id }).from(incidents).where(eq(incidents.id, incidentId));
  if (!incident) throw new NotFoundError('incident', incidentId);
  return selectItems(s.db, eq(actionItems.incidentId, incidentId), s.clock.now());
}

/** Action items of several incidents at once, by incident id (the internal pages). */
export async function actionItemsOf(db: Queryable, incidentIds: string[], now: Date): Promise<Map<string, ActionItemView[]>> {
  const out = new Map<string, ActionItemView[]>();
  if (incidentIds.length === 0) return out;
  for (const item of await selectItems(db, inArray(actionItems.incidentId, incidentIds), now)) out.set(item.incidentId, [...(out.get(item.incidentId) ?? []), item]);
  return out;
}

/**
 * Every action item, or those `open` (not yet done, overdue included), `done`, or `overdue` (open past their due
 * day, UTC), soonest due first, at most `limit` (viewer).
 */
export async function listActionItems(s: Pick<Services, 'db' | 'clock'>, actor: Actor, query: { status?: ActionItemFilter | undefined; limit?: number | undefined } = {}): Promise<ActionItemView[]> {
  authorize(actor, 'listActionItems');
  const status = query.status === undefined ? undefined : parse(actionItemFilter, query.status, 'status');
  const now = s.clock.now();
  const where =
    status === 'open'
      ? eq(actionItems.status, 'open')
      : status === 'done'
        ? eq(actionItems.status, 'done')
        : status === 'overdue'
          ? and(eq(actionItems.status, 'open'), lt(actionItems.dueOn, utcDay(now)))
          : undefined;
  const items = await selectItems(s.db, where, now);
  return query.limit ? items.slice(0, query.limit) : items;
}

export async function getActionItem(s: Pick<Services, 'db' | 'clock'>, actor: Actor, id: string): Promise<ActionItemView> {
  authorize(actor, 'getActionItem');
  const [item] = await selectItems(s.db, eq(actionItems.id, id), s.clock.now());
  if (!item) throw new NotFoundError('action item', id);
  return item;
}

// ---- changing ----

/**
 * Adds an action item to an incident (comms): validates `input` (422 naming each bad field), 404 for an unknown
 * incident; the item, its owner's reminders and the audit row are one transaction.
 */
export async function createActionItem(s: Pick<Services, 'db' | 'clock'>, actor: Actor, incidentId: string, input: unknown): Promise<ActionItemView> {
  authorize(actor, 'createActionItem');
  const item = parse(actionItemInput, input);
  const now = s.clock.now();
  const id = await s.db.transaction(async (tx) => {
    const [incident] = await tx.select({ id: incidents.id }).from(incidents).where(eq(incidents.id, incidentId));
    if (!incident) throw new NotFoundError('incident', incidentId);
    return insertItem(tx, actor, incidentId, item, now);
  });
  return getActionItem(s, actor, id);
}

async function insertItem(tx: Tx, actor: Actor, incidentId: string, item: z.infer<typeof actionItemInput>, now: Date): Promise<string> {
  const id = newId();
  const closedAt = item.status === 'open' ? null : now;
  const [row] = await tx
    .insert(actionItems)
    .values({ id, incidentId, title: item.title, owner: item.owner, dueOn: item.dueOn, priority: item.priority, status: item.status, url: item.url ?? null, closedAt, createdBy: actor.name, createdAt: now, updatedAt: now })
    .returning();
  await recordAudit(tx, { at: now, actor: actor.name, action: 'action_item.created', subjectType: 'action_item', subjectId: id, detail: { incidentId, ...item } });
  await scheduleOwnerReminders(tx, row!, now);
  return id;
}

/**
 * Changes an action item (comms): any of its fields; marking it done or won't do stops its reminders, a new due day
 * or owner schedules them again. 404 unknown id, 409 on a stale `ifMatch` version, 422 for bad fields.
 */
export async function changeActionItem(s: Pick<Services, 'db' | 'clock'>, actor: Actor, id: string, input: unknown, ifMatch?: number): Promise<ActionItemView> {
  authorize(actor, 'changeActionItem');
  const change = parse(actionItemChange, input);
  const now = s.clock.now();
  await s.db.transaction(async (tx) => {
    const [current] = await tx.select().from(actionItems).where(eq(actionItems.id, id));
    if (!current) throw new NotFoundError('action item', id);
    if (ifMatch !== undefined && ifMatch !== current.version) throw new ConflictError(`The action item is at version ${current.version}, not ${ifMatch}; reload it and try again.`);
    await updateItem(tx, actor, current, change, now);
  });
  return getActionItem(s, actor, id);
}

async function updateItem(tx: Tx, actor: Actor, current: Row, change: Partial<z.infer<typeof actionItemInput>>, now: Date) {
  const status = change.status ?? current.status;
  const closedAt = status === 'open' ? null : status === current.status ? current.closedAt : now;
  const [row] = await tx
    .update(actionItems)
    .set({ ...change, url: change.url === undefined ? current.url : change.url, closedAt, version: current.version + 1, updatedAt: now })
    .where(and(eq(actionItems.id, current.id), eq(actionItems.version, current.version)))
    .returning();
  if (!row) throw new ConflictError('The action item changed while this change was being saved; reload it and try again.');
  const before = Object.fromEntries(Object.keys(change).map((k) => [k, current[k as keyof Row]]));
  await recordAudit(tx, { at: now, actor: actor.name, action: status !== current.status && status !== 'open' ? `action_item.${status}` : 'action_item.changed', subjectType: 'action_item', subjectId: current.id, detail: { incidentId: current.incidentId, before, after: change } });
  if (row.status !== current.status || row.dueOn !== current.dueOn || row.owner !== current.owner) await scheduleOwnerReminders(tx, row, now);
}

/**
 * Inside the postmortem's transaction: the postmortem's action items become records of the incident. An item whose
 * title matches one the incident already has (ignoring case) updates it; the others are added. Items the postmortem
 * no longer lists are kept: closing one is a decision (PATCH it to `wont_do`), not a side effect of an edit.
 * Each item is validated as `POST …/action-items` validates it; errors are named `actionItems.N.field`.
 */
export async function recordPostmortemItems(tx: Tx, actor: Actor, incidentId: string, items: unknown[], now: Date): Promise<void> {
  authorize(actor, 'createActionItem');
  const parsed = items.map((item, n) => parse(postmortemItemInput, item, `actionItems.${n}`));
  const existing = await tx.select().from(actionItems).where(eq(actionItems.incidentId, incidentId));
  const byTitle = new Map(existing.map((r) => [r.title.toLowerCase(), r]));
  for (const item of parsed) {
    const match = byTitle.get(item.title.toLowerCase());
    if (!match) {
      await insertItem(tx, actor, incidentId, actionItemInput.parse(item), now);
      continue;
    }
    // Only what the postmortem states changes: an omitted priority or status never reopens or re-ranks an item.
    const change = Object.fromEntries(Object.entries(item).filter(([, v]) => v !== undefined).filter(([k, v]) => (match as Record<string, unknown>)[k] !== v)) as Partial<z.infer<typeof actionItemInput>>;
    if (Object.keys(change).length > 0) await updateItem(tx, actor, match, change, now);
  }
}

// ---- reminders through the outbox ----

/** The owner's email kinds: the day before the due day, then weekly while overdue. */
export const ownerReminderKinds = ['action_item_due', 'action_item_overdue'] as const;
/** Weekly overdue notices are scheduled for half a year; an item overdue longer is abandoned, and the console's Overdue list says so. */
export const overdueNoticeWeeks = 26;
const dayMs = 24 * 60 * 60_000;
/** Reminders go at 09:00 UTC, a working hour for most teams that would rather not be emailed at midnight. */
const reminderHourMs = 9 * 60 * 60_000;

/**
 * When the owner of an item due on `dueOn` hears about it (epoch ms): seq 0 the day before at 09:00 UTC (or now, when
 * that is past and the due day is still ahead), then seq 1..26 from the morning after the due day, a week apart.
 */
export function ownerReminderTimes(dueOn: string, now: Date): { kind: (typeof ownerReminderKinds)[number]; seq: number; at: number }[] {
  const due = Date.parse(`${dueOn}T00:00:00Z`);
  const t = now.getTime();
  const times: { kind: (typeof ownerReminderKinds)[number]; seq: number; at: number }[] = [];
  if (due > t) times.push({ kind: 'action_item_due', seq: 0, at: Math.max(t, due - dayMs + reminderHourMs) });
  const overdue = Array.from({ length: overdueNoticeWeeks }, (_, k) => ({ kind: 'action_item_overdue' as const, seq: k + 1, at: due + dayMs + reminderHourMs + k * 7 * dayMs }));
  // Notices whose time has passed (an item added or moved when already overdue) are not sent in a burst: one goes now.
  const missed = overdue.filter((o) => o.at <= t);
  if (missed.length > 0) times.push({ ...missed.at(-1)!, at: t });
  times.push(...overdue.filter((o) => o.at > t));
  return times;
}

/** Cancels the item's pending reminders and, while it is open and owned by an address, queues the next round. */
async function scheduleOwnerReminders(tx: Tx, item: Row, now: Date) {
  await tx
    .update(deliveries)
    .set({ status: 'suppressed', lastError: 'the action item changed', leaseOwner: null, leaseUntil: null })
    .where(and(eq(deliveries.status, 'pending'), eq(deliveries.audience, 'owner'), eq(deliveries.recipientId, item.id)));
  if (item.status !== 'open' || !owner.safeParse(item.owner).success) return;
  const values = ownerReminderTimes(item.dueOn, now).map((t) => ({
    updateId: null,
    kind: t.kind,
    seq: t.seq,
    audience: 'owner' as const,
    recipientId: item.id,
    email: item.owner,
    status: 'pending',
    nextAttemptAt: new Date(t.at),
    createdAt: now,
  }));
  if (values.length > 0) await tx.insert(deliveries).values(values);
}

/** What an owner's reminder says: the item as it stands when the email is composed. */
export interface OwnerReminder {
  kind: (typeof ownerReminderKinds)[number];
  /** The nth overdue notice, from 1; 0 for the reminder before the due day. */
  seq: number;
  item: ActionItemView;
}

/**
 * For the outbox: describes each claimed owner reminder, or says why it goes unsent (the item is gone, closed, or its
 * due day or owner moved since the row was queued), by delivery id. Rows of other kinds are left out.
 */
export async function loadOwnerReminders(db: Queryable, rows: { id: number; kind: string; audience: string; recipientId: string; email: string; seq?: number }[], now: Date): Promise<Map<number, OwnerReminder | { skip: string }>> {
  const mine = rows.filter((r) => r.audience === 'owner');
  const out = new Map<number, OwnerReminder | { skip: string }>();
  if (mine.length === 0) return out;
  const items = new Map((await selectItems(db, inArray(actionItems.id, [...new Set(mine.map((r) => r.recipientId))]), now)).map((i) => [i.id, i]));
  for (const row of mine) {
    const item = items.get(row.recipientId);
    if (!item) out.set(row.id, { skip: 'the action item no longer exists' });
    else if (item.status !== 'open') out.set(row.id, { skip: `the action item is ${item.status}` });
    else if (item.owner !== row.email) out.set(row.id, { skip: 'the action item has another owner' });
    else if (row.kind === 'action_item_overdue' && !isOverdue(item, now)) out.set(row.id, { skip: 'the action item is not overdue' });
    else if (row.kind === 'action_item_due' && isOverdue(item, now)) out.set(row.id, { skip: 'already overdue: the overdue notice says so' });
    // After an outbox outage, only the latest weekly notice goes: the one after it is due too, so this one is stale.
    else if (row.kind === 'action_item_overdue' && now.getTime() >= Date.parse(`${item.dueOn}T00:00:00Z`) + dayMs + reminderHourMs + (row.seq ?? 0) * 7 * dayMs) out.set(row.id, { skip: 'a later weekly notice supersedes it' });
    else out.set(row.id, { kind: row.kind as OwnerReminder['kind'], seq: row.seq ?? 0, item });
  }
  return out;
}

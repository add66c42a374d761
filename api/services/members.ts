// Team members: the people who sign in (emailed link or SSO) with a role; admins add, change and remove them, and each change ends the member's sessions.
import { authorize } from './use-cases.ts';
import { z } from '@hono/zod-openapi';
import { and, asc, count, eq, ne } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { members } from '../../db/schema.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { newId } from '../ids.ts';
import { email, line } from '../routes/schemas.ts';
import { recordAudit } from './audit.ts';
import { type Actor, actorKey, type Services, withTransaction } from './context.ts';
import { endMemberSessions } from './sessions.ts';
import { requestSignInLink } from './sign-in-links.ts';
import { roles, type Role } from './tokens.ts';

/** `{ email, name, role }` (SPEC "People"): the body of POST /api/v1/members. */
export const memberInput = z
  .object({ email, name: line(120), role: z.enum(roles, { error: `must be one of ${roles.join(', ')}` }) })
  .strict()
  .openapi('MemberInput');
export type MemberInput = z.input<typeof memberInput>;

/** PATCH /api/v1/members/{id}: any of name and role (an address is who the person is: remove and add to change it). */
export const memberChange = z
  .object({ name: line(120).optional(), role: z.enum(roles, { error: `must be one of ${roles.join(', ')}` }).optional() })
  .strict()
  .openapi('MemberChange');
export type MemberChange = z.input<typeof memberChange>;

export type Member = typeof members.$inferSelect;

/** The member as an actor, for a session or a sign-in. */
export function memberActor(m: Pick<Member, 'id' | 'name' | 'email' | 'role'>): Extract<Actor, { kind: 'member' }> {
  return { kind: 'member', id: m.id, name: m.name, email: m.email, role: m.role as Role };
}

function parsed<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = result.error.issues.map((i) => ({ path: i.path.map(String).join('.') || 'body', message: i.message }));
  throw new ValidationError(`The ${what} is invalid: check ${errors.map((e) => e.path).join(', ')}.`, errors);
}

/** Every member, by name. Throws ForbiddenError (403) below admin: the list holds people's addresses. */
export async function listMembers(s: Pick<Services, 'db'>, actor: Actor): Promise<Member[]> {
  authorize(actor, 'listMembers');
  return s.db.select().from(members).orderBy(asc(members.name));
}

/** One member by id, or NotFoundError (404). */
export async function getMember(db: Queryable, id: string): Promise<Member> {
  const [row] = await db.select().from(members).where(eq(members.id, id));
  if (!row) throw new NotFoundError('member', id);
  return row;
}

/** The member with this address (compared lower-cased), or undefined. */
export async function findMemberByEmail(db: Queryable, address: string): Promise<Member | undefined> {
  const [row] = await db.select().from(members).where(eq(members.email, address.trim().toLowerCase()));
  return row;
}

/** Whether any admin member exists (start-up prints a first admin's sign-in link while none does). */
export async function hasAdminMember(db: Queryable): Promise<boolean> {
  const [row] = await db.select({ n: count() }).from(members).where(eq(members.role, 'admin'));
  return (row?.n ?? 0) > 0;
}

/**
 * Adds a member (admin only). Validates `{ email, name, role }` itself (422 naming each bad field), lower-cases the
 * address, and writes the member, its audit row and an emailed one-time sign-in link (through the outbox) in one
 * transaction, whichever door it came through. 409 when the address is already a member's.
 * `signInLink: false` where the person is already on their way in or gets it otherwise: the first run's link and a
 * single sign-on (both add the member as they sign in), and `npm run member add` (which prints one).
 */
export async function addMember(s: Pick<Services, 'db' | 'clock' | 'tx'>, actor: Actor, input: unknown, options: { signInLink?: boolean } = {}): Promise<Member> {
  authorize(actor, 'addMember');
  const m = parsed(memberInput, input, 'member');
  const now = s.clock.now();
  const address = m.email.toLowerCase();
  return withTransaction(s, async (tx) => {
    const [row] = await tx
      .insert(members)
      .values({ id: newId(), email: address, name: m.name, role: m.role, createdAt: now, updatedAt: now })
      .onConflictDoNothing()
      .returning();
    if (!row) throw new ConflictError(`${address} is already a member.`);
    await recordAudit(tx, { at: now, actor: actor, action: 'member.added', subjectType: 'member', subjectId: row.id, detail: { email: address, role: m.role, by: actorKey(actor) } });
    if (options.signInLink !== false) await requestSignInLink({ ...s, tx }, { email: address });
    return row;
  });
}

/**
 * Changes a member's name or role (admin only). A role change ends the member's sessions in the same transaction, so
 * the new role applies from their next sign-in; the last admin cannot be demoted (409), or nobody could manage members.
 */
export async function updateMember(s: Pick<Services, 'db' | 'clock' | 'tx'>, actor: Actor, id: string, input: unknown): Promise<Member> {
  authorize(actor, 'updateMember');
  const change = parsed(memberChange, input, 'change');
  const now = s.clock.now();
  return withTransaction(s, async (tx) => {
    const before = await getMember(tx, id);
    const roleChanged = change.role !== undefined && change.role !== before.role;
    if (roleChanged && before.role === 'admin') await keepAnAdmin(tx, id);
    const [row] = await tx
      .update(members)
      .set({ ...(change.name !== undefined ? { name: change.name } : {}), ...(change.role !== undefined ? { role: change.role } : {}), updatedAt: now })
      .where(eq(members.id, id))
      .returning();
    if (roleChanged) await endMemberSessions(tx, id);
    await recordAudit(tx, {
      at: now,
      actor,
      action: 'member.changed',
      subjectType: 'member',
      subjectId: id,
      detail: { ...(roleChanged ? { role: { from: before.role, to: change.role } } : {}), ...(change.name !== undefined && change.name !== before.name ? { name: { from: before.name, to: change.name } } : {}), by: actorKey(actor) },
    });
    return row!;
  });
}

/** Removes a member (admin only) and ends their sessions at once; 404 for an unknown id, 409 for the last admin. */
export async function removeMember(s: Pick<Services, 'db' | 'clock' | 'tx'>, actor: Actor, id: string): Promise<void> {
  authorize(actor, 'removeMember');
  const now = s.clock.now();
  await withTransaction(s, async (tx) => {
    const before = await getMember(tx, id);
    if (before.role === 'admin') await keepAnAdmin(tx, id);
    await tx.delete(members).where(eq(members.id, id));
    await endMemberSessions(tx, id);
    await recordAudit(tx, { at: now, actor: actor, action: 'member.removed', subjectType: 'member', subjectId: id, detail: { email: before.email, by: actorKey(actor) } });
  });
}

/** Refuses (409) to leave no admin member when admins exist: the team would be locked out of its own admin screens. */
async function keepAnAdmin(tx: Queryable, leaving: string) {
  const [row] = await tx.select({ n: count() }).from(members).where(and(eq(members.role, 'admin'), ne(members.id, leaving)));
  if ((row?.n ?? 0) === 0) throw new ConflictError('This is the last admin member: make another member admin first.');
}

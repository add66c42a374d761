// Executives who receive briefings with the internal wording; managed by admins.
import { asc, eq } from 'drizzle-orm';
import { stakeholders } from '../../db/schema.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { newId } from '../ids.ts';
import { recordAudit } from './audit.ts';
import { type Actor, type Services, withTransaction } from './context.ts';
import { authorize } from './use-cases.ts';

export async function listStakeholders(s: Pick<Services, 'db'>) {
  return s.db.select().from(stakeholders).orderBy(asc(stakeholders.name));
}

export async function addStakeholder(s: Pick<Services, 'db' | 'clock'>, actor: Actor, input: { email: string; name: string }) {
  authorize(actor, 'addStakeholder');
  const now = s.clock.now();
  const email = input.email.toLowerCase();
  return withTransaction(s, async (tx) => {
    const [row] = await tx.insert(stakeholders).values({ id: newId(), email, name: input.name, createdAt: now }).onConflictDoNothing().returning();
    if (!row) throw new ConflictError(`${email} is already a stakeholder.`);
    await recordAudit(tx, { at: now, actor: actor, action: 'stakeholder.added', subjectType: 'stakeholder', subjectId: row.id, detail: { email } });
    return row;
  });
}

export async function removeStakeholder(s: Pick<Services, 'db' | 'clock'>, actor: Actor, id: string) {
  authorize(actor, 'removeStakeholder');
  const now = s.clock.now();
  await withTransaction(s, async (tx) => {
    const [row] = await tx.delete(stakeholders).where(eq(stakeholders.id, id)).returning();
    if (!row) throw new NotFoundError('stakeholder', id);
    await recordAudit(tx, { at: now, actor: actor, action: 'stakeholder.removed', subjectType: 'stakeholder', subjectId: id, detail: { email: row.email } });
  });
}

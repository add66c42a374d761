// API tokens: issued once and stored hashed, listed, revoked and verified; issuing and revoking write an audit row.
import { z } from 'zod';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { apiTokens, sessions } from '../../db/schema.ts';
import { NotFoundError, ValidationError, type FieldError } from '../errors.ts';
import { newId, newSecret, sameHash, sha256 } from '../ids.ts';
import { recordAudit } from './audit.ts';
import { type Actor, type Role, roles, type Services, withTransaction } from './context.ts';

export { roleAllows, roles, type Role } from './context.ts';
import { authorize } from './use-cases.ts';


const tokenPrefix = 'sdk_';
/** Use is recorded at most this often (ms): a write on every request would cost every publish. */
const lastUsedResolutionMs = 5 * 60 * 1000;

interface TokenInput {
  role: string;
  /** Who the token is for: one line, 1-120 characters. */
  name: string;
  /** Where reminders reach the holder (SPEC "Cadence"); an address of at most 254 characters (RFC 5321). */
  email?: string | undefined;
}

const singleLine = /^[^\x00-\x1f\x7f]*$/;
const emailShape = z.email();

/** Checks a token's fields, naming every bad one; returns them trimmed, the email lowercased. */
function validToken(input: TokenInput): { role: Role; name: string; email: string | null } {
  const errors: FieldError[] = [];
  if (!roles.includes(input.role as Role)) errors.push({ path: 'role', message: `must be one of ${roles.join(', ')}` });
  const name = input.name.trim();
  if (!name || name.length > 120 || !singleLine.test(name)) errors.push({ path: 'name', message: 'must be one line of 1 to 120 characters' });
  const email = input.email?.trim().toLowerCase() || null;
  if (input.email !== undefined && (!email || email.length > 254 || !singleLine.test(email) || !emailShape.safeParse(email).success)) {
    errors.push({ path: 'email', message: 'must be an email address of at most 254 characters' });
  }
  if (errors.length > 0) throw new ValidationError(`The token is invalid: check ${errors.map((e) => e.path).join(', ')}.`, errors);
  return { role: input.role as Role, name, email };
}

/**
 * Issues a token; the secret (`sdk_` + 256 random bits) is in the result and nowhere else, the table keeps its SHA-256.
 * Throws ValidationError (422) naming role, name or email.
 */
export async function createToken(s: Pick<Services, 'db' | 'clock'>, actor: Actor, input: TokenInput) {
  authorize(actor, 'createToken');
  const { role, name, email } = validToken(input);
  const now = s.clock.now();
  const secret = `${tokenPrefix}${newSecret()}`;
  const id = newId();
  await withTransaction(s, async (tx) => {
    await tx.insert(apiTokens).values({ id, name, role, email, hash: sha256(secret), createdAt: now });
    await recordAudit(tx, { at: now, actor: actor, action: 'token.created', subjectType: 'token', subjectId: id, detail: { name, role, email } });
  });
  return { id, name, role, email, token: secret };
}

/** Every token, newest first, without hashes. */
export async function listTokens(s: Pick<Services, 'db'>) {
  return s.db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      role: apiTokens.role,
      email: apiTokens.email,
      createdAt: apiTokens.createdAt,
      revokedAt: apiTokens.revokedAt,
      lastUsedAt: apiTokens.lastUsedAt,
    })
    .from(apiTokens)
    .orderBy(desc(apiTokens.createdAt));
}

/** Revokes a token and ends its sign-in sessions at once. Throws NotFoundError (404) for an unknown id. */
export async function revokeToken(s: Pick<Services, 'db' | 'clock'>, actor: Actor, id: string): Promise<void> {
  authorize(actor, 'revokeToken');
  const now = s.clock.now();
  await withTransaction(s, async (tx) => {
    const [row] = await tx.update(apiTokens).set({ revokedAt: now }).where(eq(apiTokens.id, id)).returning();
    if (!row) throw new NotFoundError('token', id);
    await tx.delete(sessions).where(eq(sessions.tokenId, id));
    await recordAudit(tx, { at: now, actor: actor, action: 'token.revoked', subjectType: 'token', subjectId: id, detail: { name: row.name } });
  });
}

/** The token actor a live token's secret belongs to, or null; looks the secret up by its hash, then compares in constant time. */
export async function verifyToken(s: Pick<Services, 'db' | 'clock'>, secret: string): Promise<Extract<Actor, { kind: 'token' }> | null> {
  const hash = sha256(secret);
  const [row] = await s.db.select().from(apiTokens).where(and(eq(apiTokens.hash, hash), isNull(apiTokens.revokedAt)));
  if (!row || !sameHash(row.hash, hash)) return null;
  const now = s.clock.now();
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > lastUsedResolutionMs) {
    // Bookkeeping, not the request's work: a request is never refused for a full disk or a busy lock over it.
    await s.db
      .update(apiTokens)
      .set({ lastUsedAt: now })
      .where(eq(apiTokens.id, row.id))
      .catch(() => {});
  }
  return { kind: 'token', id: row.id, name: row.name, email: row.email, role: row.role as Role };
}

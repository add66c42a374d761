// Counts who an incident's audiences will actually reach, and says plainly when an audience has nobody in it.
import { sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import type { ReachFlags, Severity } from '../domain.ts';

/**
 * Who one publish reaches.
 * - `public`: whether the public page, the Statuspage JSON and the feed show it.
 * - `subscribers`: `included` when the audience is notified; `count` confirmed, unsuppressed subscribers whose
 *   component filter matches (or who follow everything) — the same rule the outbox uses to enqueue emails.
 * - `stakeholders`: `included` when executives are briefed; `count` unsuppressed stakeholders.
 * - `warnings`: one plain sentence per included audience that has no recipients, saying how to add one.
 * Counts are people, not emails; a count is 0 (never omitted) when its audience is not included.
 * Example for a preview line: "public page · 1,240 subscribers · 3 executives".
 */
export interface Reach {
  public: boolean;
  subscribers: { included: boolean; count: number };
  stakeholders: { included: boolean; count: number };
  warnings: string[];
}

export interface ReachInput {
  /** The audiences of the update (or of the severity policy, for a preview before publishing). */
  audiences: ReachFlags;
  /** Ids of the components the update touches; subscribers with a component filter hear only about these. */
  componentIds: string[];
}

export const noStakeholdersWarning =
  '0 executives will be briefed — add one: POST /api/v1/stakeholders {"email","name"} (admin token) or the console\'s Stakeholders screen.';
export const noSubscribersWarning =
  '0 subscribers will be emailed — nobody has confirmed a subscription that covers these components (people subscribe on the public page, or POST /api/v1/subscribers {"email"}).';

/**
 * Counts the recipients of each audience now. The subscriber rule mirrors enqueueDeliveries in ./outbox.ts:
 * confirmed, not suppressed, and either no component filter or one that names a touched component.
 */
export async function audienceReach(db: Queryable, input: ReachInput): Promise<Reach> {
  const { audiences } = input;
  let subscribers = 0;
  let stakeholders = 0;
  if (audiences.subscribers) {
    const ids = JSON.stringify(input.componentIds);
    const [row] = await db.all<{ n: number }>(sql`
      SELECT count(*) AS n FROM subscribers s
      WHERE s.confirmed_at IS NOT NULL AND s.suppressed_at IS NULL
        AND (s.components IS NULL OR EXISTS (
          SELECT 1 FROM json_each(s.components) f WHERE f.value IN (SELECT value FROM json_each(${ids}))))`);
    subscribers = Number(row?.n ?? 0);
  }
  if (audiences.stakeholders) stakeholders = await stakeholderCount(db);
  const warnings: string[] = [];
  if (audiences.subscribers && subscribers === 0) warnings.push(noSubscribersWarning);
  if (audiences.stakeholders && stakeholders === 0) warnings.push(noStakeholdersWarning);
  return {
    public: audiences.public,
    subscribers: { included: audiences.subscribers, count: subscribers },
    stakeholders: { included: audiences.stakeholders, count: stakeholders },
    warnings,
  };
}

/** The reach of a published update: its own audiences (after `notify` and the briefing rule) and its components. */
export function updateReach(db: Queryable, update: { audiences: ReachFlags; components: { id: string }[] }): Promise<Reach> {
  return audienceReach(db, { audiences: update.audiences, componentIds: update.components.map((c) => c.id) });
}

async function stakeholderCount(db: Queryable): Promise<number> {
  const [row] = await db.all<{ n: number }>(sql`SELECT count(*) AS n FROM stakeholders WHERE suppressed_at IS NULL`);
  return Number(row?.n ?? 0);
}

/**
 * The start-up warning: which severities brief executives under the policy while no stakeholder exists.
 * Returns one line, or null when there is a stakeholder or no severity briefs anybody.
 */
export async function startupReachWarning(db: Queryable, policy: Record<Severity, ReachFlags>): Promise<string | null> {
  const briefed = (Object.keys(policy) as Severity[]).filter((sev) => policy[sev].stakeholders);
  if (briefed.length === 0 || (await stakeholderCount(db)) > 0) return null;
  return `No stakeholders yet: ${briefed.join(', ')} incidents will brief nobody. ${noStakeholdersWarning.replace(/^0 executives will be briefed — a/, 'A')}`;
}

// Who renders into a shared output, and how far it has got: a lease and a generation per output, kept in site_outputs.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { eq, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { siteOutputs, type OutputGeneration } from '../../db/schema.ts';

export type OutputRow = typeof siteOutputs.$inferSelect;

/** How long a lease holds without renewal: a holder killed without releasing it is replaced after this at most. */
export const leaseMs = 1_500;
/** How many generations a row remembers for followers that missed some. */
const recentGenerations = 32;

/** Names this process as a lease holder: host and pid, so a dead holder on the same host is seen at once. */
export function leaseOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** Whether an owner named by leaseOwner() is a process of this host that is gone. */
function deadHere(owner: string): boolean {
  const [host, pid] = owner.split(':');
  if (host !== hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export async function readOutput(db: Queryable, id: string): Promise<OutputRow | null> {
  const [row] = await db.select().from(siteOutputs).where(eq(siteOutputs.id, id));
  return row ?? null;
}

/** Whether someone other than `owner` holds the output's lease now. */
export function heldByOther(row: OutputRow | null, owner: string, now: Date): boolean {
  if (!row?.leaseOwner || row.leaseOwner === owner) return false;
  return (row.leaseUntil?.getTime() ?? 0) > now.getTime() && !deadHere(row.leaseOwner);
}

/**
 * Takes or renews the lease on an output for `owner` until now + leaseMs, unless another live holder has it.
 * Compare-and-set on the holder read, so two claimants never both win. Returns the row as held, or null.
 */
export async function claimLease(db: Queryable, id: string, owner: string, now: Date): Promise<OutputRow | null> {
  const row = await readOutput(db, id);
  if (heldByOther(row, owner, now)) return null;
  const until = new Date(now.getTime() + leaseMs);
  if (!row) {
    const inserted = await db
      .insert(siteOutputs)
      .values({ id, leaseOwner: owner, leaseUntil: until, updatedAt: now })
      .onConflictDoNothing()
      .returning();
    return inserted[0] ?? null;
  }
  const [held] = await db
    .update(siteOutputs)
    .set({ leaseOwner: owner, leaseUntil: until })
    .where(sql`${siteOutputs.id} = ${id} AND ${siteOutputs.leaseOwner} IS ${row.leaseOwner}`)
    .returning();
  return held ?? null;
}

/** Gives the lease up (on a clean stop), so the next process takes over at once. */
export async function releaseLease(db: Queryable, id: string, owner: string): Promise<void> {
  await db
    .update(siteOutputs)
    .set({ leaseOwner: null, leaseUntil: null })
    .where(sql`${siteOutputs.id} = ${id} AND ${siteOutputs.leaseOwner} = ${owner}`);
}

export interface Generation {
  /** The last change in the output now. */
  through: number;
  release: string;
  renderKey: string;
  /** The site paths this generation changed (written or removed), or null for a whole new release. */
  paths: string[] | null;
}

/**
 * Records a new generation of the output, if `owner` still holds its lease; returns the generation number, or null
 * when the lease was lost (another process took over, and renders the same changes itself).
 */
export async function recordGeneration(db: Queryable, id: string, owner: string, previous: OutputRow, g: Generation, now: Date): Promise<number | null> {
  const generation = previous.generation + 1;
  const entry: OutputGeneration = { generation, release: g.release, paths: g.paths };
  const recent = [...previous.recent, entry].slice(-recentGenerations);
  const [row] = await db
    .update(siteOutputs)
    .set({ generation, renderedThrough: g.through, release: g.release, renderKey: g.renderKey, recent, updatedAt: now })
    .where(sql`${siteOutputs.id} = ${id} AND ${siteOutputs.leaseOwner} = ${owner} AND ${siteOutputs.generation} = ${previous.generation}`)
    .returning({ generation: siteOutputs.generation });
  return row?.generation ?? null;
}

/** Moves the output past changes that touched nothing it shows, without a new generation. */
export async function skipChanges(db: Queryable, id: string, owner: string, through: number): Promise<void> {
  await db
    .update(siteOutputs)
    .set({ renderedThrough: through })
    .where(sql`${siteOutputs.id} = ${id} AND ${siteOutputs.leaseOwner} = ${owner} AND ${siteOutputs.renderedThrough} < ${through}`);
}

/**
 * What a follower must load to catch up from `generation` of `release` to the row: the changed paths when every
 * generation between is remembered and within one release, else null (load the whole release).
 */
export function pathsSince(row: OutputRow, release: string | null, generation: number): string[] | null {
  if (release !== row.release) return null;
  const missed = row.recent.filter((g) => g.generation > generation);
  if (missed.length !== row.generation - generation || missed.some((g) => g.paths === null || g.release !== release)) return null;
  return [...new Set(missed.flatMap((g) => g.paths!))];
}

export interface Lease {
  /** This process's name in the lease column. */
  readonly owner: string;
  /** Whether this process held the lease at the last claim or renewal. */
  readonly holding: boolean;
  /** Takes the lease if it is free (or its holder is gone); returns the output row as held, or as another holds it. */
  claim(): Promise<{ holding: boolean; row: OutputRow | null }>;
  /** Stops renewing and hands the lease on. */
  release(): Promise<void>;
}

/**
 * One process's hold on one output's lease: claimed on demand, renewed every third of its term apart from the work it
 * guards (so a long full render keeps it), and released on a clean stop.
 */
export function holdLease(db: Queryable, id: string, clock: { now(): Date }, log: (message: string) => void): Lease {
  const owner = leaseOwner();
  let holding = false;
  const heartbeat = setInterval(() => {
    if (!holding) return;
    claimLease(db, id, owner, clock.now())
      .then((row) => {
        if (row) return;
        holding = false;
        log(`Site: lost the lease on ${id} to another process; following it.`);
      })
      .catch((e: unknown) => log(`site lease renewal failed: ${(e as Error).message}`));
  }, leaseMs / 3);
  heartbeat.unref();
  return {
    get holding() {
      return holding;
    },
    async claim() {
      let row = await readOutput(db, id);
      if (!holding && !heldByOther(row, owner, clock.now())) {
        const claimed = await claimLease(db, id, owner, clock.now());
        holding = claimed !== null;
        row = claimed ?? (await readOutput(db, id));
      } else if (holding && row?.leaseOwner !== owner) {
        holding = false;
      }
      return { holding, row };
    },
    async release() {
      clearInterval(heartbeat);
      if (holding) await releaseLease(db, id, owner).catch(() => {});
      holding = false;
    },
    get owner() {
      return owner;
    },
  };
}

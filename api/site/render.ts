// Keeps one output of the public site current with the database: renders it while this process holds its lease, follows it otherwise.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Queryable } from '../../db/client.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { Publication } from '../publish.ts';
import { createSupervisor } from '../supervisor.ts';
import type { PageRenderer } from './astro.ts';
import type { Month } from './calendar.ts';
import { clockTargets, latestChange, planChanges, type Target } from './changes.ts';
import { holdLease, pathsSince, recordGeneration, skipChanges, type Lease, type OutputRow } from './coordination.ts';
import { liveSite, type LiveSite } from './live.ts';
import type { SiteOutput } from './output.ts';
import { renderChanges, renderRelease, type RenderInputs } from './release.ts';
import type { SiteSettings } from './view-model.ts';

export type { Target } from './changes.ts';

export interface RenderReport {
  full: boolean;
  targets: string[];
  /** Files written (a full render) or changed (an incremental one). */
  files: number;
  ms: number;
  /** The change ids this render covered: (after, through]. */
  changes: { after: number; through: number };
}

export interface SiteRendererOptions {
  db: Queryable;
  clock: Clock;
  settings: SiteSettings;
  output: SiteOutput;
  pages: PageRenderer;
  log: (message: string) => void;
  /** What this process serves; loaded from the output when another process renders. */
  live?: LiveSite;
  /**
   * How long after a local publish to start rendering, in ms: 0 by default, so one publish goes live at once; the
   * publishes that come while a render runs are gathered into the one after it (the supervisor runs once more).
   */
  gatherMs?: number;
  /** How often to look for changes made by other processes (and renew the lease); 0 turns polling off. */
  pollMs?: number;
  /** Leases run on real time even when the domain clock is set by hand (tests, benchmarks). */
  leaseClock?: Clock;
  onRendered?: (report: RenderReport) => void;
}

export interface SiteRenderer {
  /** What this process serves. */
  live: LiveSite;
  /** Looks for the publication's changes soon (they are read from the database, so nothing is lost if this is missed). */
  publish(publication: Publication): void;
  /** Asks for a full render into a new release, done when this process holds the output's lease (start-up). */
  renderAll(): void;
  /** Re-renders the parts that change with the clock alone: the day bars on the index, the current month. */
  refresh(): void;
  /** Resolves when nothing is rendering or about to; a retry waiting out its back-off does not hold it up. */
  settled(): Promise<void>;
  /** Resolves once a release is live in this process (rendered here or loaded from the output). */
  ready(): Promise<void>;
  /** Why the last render failed, until one succeeds. */
  readonly lastError: Error | null;
  /** Stops, waits for a render in flight and hands the lease on. */
  close(): Promise<void>;
}

/** The history months a release has pages for: what the next incremental render compares the month list with. */
function monthsIn(live: LiveSite): Month[] {
  const months: Month[] = [];
  for (const f of live.files()) {
    const m = /^history\/(\d{4}-\d{2})\/index\.html$/.exec(f.path);
    if (m) months.push(m[1]!);
  }
  return months.sort();
}

/** What one renderer works with, handed explicitly to each part below. */
interface RenderContext {
  inputs: RenderInputs;
  live: LiveSite;
  outputId: string;
  /** This process's name in the output's lease. */
  owner: string;
  /** What the output is rendered with (bundle and settings): an output rendered with another needs a full render. */
  renderKey: string;
  /** What this process was asked for beyond what the change log says: a full render, targets that move with the clock. */
  asked: { full: boolean; targets: Set<Target> };
  report(r: RenderReport): void;
}

/** Loads what the output's renderer (another process, or this one earlier) wrote: changed paths only when it can. */
async function follow(c: RenderContext, row: OutputRow) {
  const { live, inputs } = c;
  if (!row.release || (row.release === live.release && row.generation === live.generation)) return;
  const dir = join(inputs.output.root, 'releases', row.release);
  if (!existsSync(dir)) throw new Error(`release ${row.release} is not in ${inputs.output.root}: was the output folder changed by hand?`);
  const paths = pathsSince(row, live.release, live.generation);
  if (paths) {
    const files = inputs.output.readFiles(dir, paths);
    const found = new Set(files.map((f) => f.path));
    live.apply(row.generation, files, paths.filter((p) => !found.has(p)));
  } else {
    live.replaceAll(row.release, row.generation, await inputs.output.readRelease(dir));
  }
}

/** Renders a whole new release through change `latest`, records it as the output's next generation and serves it. */
async function renderFull(c: RenderContext, row: OutputRow, latest: number) {
  const started = performance.now();
  const full = await renderRelease(c.inputs);
  const g = { through: latest, release: full.release, renderKey: c.renderKey, paths: null };
  const generation = await recordGeneration(c.inputs.db, c.outputId, c.owner, row, g, c.inputs.clock.now());
  c.live.replaceAll(full.release, generation ?? row.generation + 1, full.files);
  c.asked.full = false;
  c.report({ full: true, targets: ['*'], files: full.files.length, ms: performance.now() - started, changes: { after: row.renderedThrough, through: latest } });
}

/**
 * Renders what the changes after the output's last one touched (plus what was asked), serving each step as soon as
 * it is on disk; returns whether changes are left over for another pass.
 */
async function renderIncrement(c: RenderContext, row: OutputRow, latest: number): Promise<boolean> {
  const { db } = c.inputs;
  const plan = await planChanges(db, row.renderedThrough, latest);
  const targets = new Set([...plan.targets, ...c.asked.targets]);
  c.asked.targets.clear();
  if (targets.size === 0) {
    if (plan.through > row.renderedThrough) await skipChanges(db, c.outputId, c.owner, plan.through);
    return plan.through < latest;
  }
  const started = performance.now();
  try {
    const { changed, removed } = await renderChanges(c.inputs, targets, monthsIn(c.live), (step, gone) => c.live.apply(c.live.generation, step, gone));
    // A follower reads each path again; one no longer on disk is one it drops.
    const paths = [...changed.map((f) => f.path), ...removed];
    if (paths.length > 0) {
      const g = { through: plan.through, release: row.release!, renderKey: c.renderKey, paths };
      const generation = await recordGeneration(db, c.outputId, c.owner, row, g, c.inputs.clock.now());
      if (generation !== null) c.live.apply(generation, []);
    } else if (plan.through > row.renderedThrough) {
      await skipChanges(db, c.outputId, c.owner, plan.through);
    }
    c.report({ full: false, targets: [...targets], files: paths.length, ms: performance.now() - started, changes: { after: row.renderedThrough, through: plan.through } });
  } catch (e) {
    for (const t of targets) c.asked.targets.add(t);
    throw e;
  }
  return plan.through < latest;
}

/**
 * One pass: take the output's lease if it is free, then render what changed, or follow whoever renders.
 * Returns whether another pass should follow at once.
 */
async function step(c: RenderContext, lease: Lease): Promise<boolean> {
  const latest = await latestChange(c.inputs.db);
  const { holding, row } = await lease.claim();
  if (!row || !holding) {
    // Another process renders this output: its start-up render stands for ours.
    c.asked.full = false;
    c.asked.targets.clear();
    if (row) await follow(c, row);
    return false;
  }
  if (c.asked.full || !row.release || row.renderKey !== c.renderKey || (await c.inputs.output.live()) === null) {
    // Serve the release already on disk while the new one renders; if there is none (or it is unreadable), wait.
    if (c.live.release === null) await follow(c, row).catch(() => {});
    await renderFull(c, row, latest);
    return false;
  }
  await follow(c, row);
  return renderIncrement(c, row, latest);
}

function reporter(o: SiteRendererOptions) {
  return (r: RenderReport) => {
    const what = r.changes.through > r.changes.after ? `changes ${r.changes.after + 1}–${r.changes.through}` : r.full ? 'no new changes' : 'the parts that move with the clock';
    o.log(`Site: rendered ${what}${r.full ? ' into a new release' : ''} (${r.files} files ${r.full ? 'written' : 'changed'}, ${Math.round(r.ms)} ms).`);
    o.onRendered?.(r);
  };
}

export function createSiteRenderer(o: SiteRendererOptions): SiteRenderer {
  const outputId = o.output.id();
  const lease = holdLease(o.db, outputId, o.leaseClock ?? systemClock, o.log);
  const c: RenderContext = {
    inputs: { db: o.db, clock: o.clock, settings: o.settings, output: o.output, pages: o.pages },
    live: o.live ?? liveSite(() => o.clock.now()),
    outputId,
    owner: lease.owner,
    renderKey: createHash('sha256').update(o.pages.clientDir).update(JSON.stringify(o.settings)).digest('hex').slice(0, 16),
    asked: { full: false, targets: new Set() },
    report: reporter(o),
  };
  const queue = createSupervisor({
    run: async () => {
      if (await step(c, lease)) queue.wake(0);
    },
    pollMs: o.pollMs ?? 200,
    onFailure: (error, attempt, retryIn) => o.log(`site render failed (attempt ${attempt}, retrying in ${retryIn / 1000} s): ${error.stack ?? error.message}`),
  });
  const readyWaiters: (() => void)[] = [];
  c.live.onChange(() => {
    if (c.live.release !== null) for (const w of readyWaiters.splice(0)) w();
  });
  const gatherMs = o.gatherMs ?? 0;
  let closed = false;
  return {
    live: c.live,
    publish(publication) {
      if (!closed && publication.public) queue.wake(gatherMs);
    },
    renderAll() {
      if (closed) return;
      c.asked.full = true;
      queue.wake(0);
    },
    refresh() {
      if (closed) return;
      for (const t of clockTargets) c.asked.targets.add(t);
      queue.wake(gatherMs);
    },
    settled: () => queue.idle(),
    ready() {
      if (c.live.release !== null) return Promise.resolve();
      return new Promise((resolve) => {
        readyWaiters.push(resolve);
        queue.wake(0);
      });
    },
    get lastError() {
      return queue.lastError;
    },
    async close() {
      closed = true;
      await queue.close();
      await lease.release();
      for (const w of readyWaiters.splice(0)) w();
    },
  };
}

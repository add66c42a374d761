// Keeps one output of the public site current with the database: renders it while this process holds its lease, follows it otherwise.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Queryable } from '../../db/client.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { Publication } from '../publish.ts';
import type { PageRenderer } from './astro.ts';
import type { Month } from './calendar.ts';
import { clockTargets, latestChange, planChanges, type Target } from './changes.ts';
import { holdLease, pathsSince, recordGeneration, skipChanges, type OutputRow } from './coordination.ts';
import { liveSite, type LiveSite } from './live.ts';
import type { SiteOutput } from './output.ts';
import { renderChanges, renderRelease, type RenderInputs } from './release.ts';
import { createRunQueue } from './render-queue.ts';
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
  /** How long to gather a burst of local publishes into one render. */
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

export function createSiteRenderer(o: SiteRendererOptions): SiteRenderer {
  const inputs: RenderInputs = { db: o.db, clock: o.clock, settings: o.settings, output: o.output, pages: o.pages };
  const live = o.live ?? liveSite(() => o.clock.now());
  const leaseClock = o.leaseClock ?? systemClock;
  const outputId = o.output.id();
  const lease = holdLease(o.db, outputId, leaseClock, o.log);
  const owner = lease.owner;
  // Another bundle or other settings render different bytes: an output rendered with them needs a full render.
  const renderKey = createHash('sha256').update(o.pages.clientDir).update(JSON.stringify(o.settings)).digest('hex').slice(0, 16);
  /** Explicit render state: what this process was asked for beyond what the change log says. */
  const asked = { full: false, targets: new Set<Target>() };
  const readyWaiters: (() => void)[] = [];

  const report = (r: RenderReport) => {
    const what = r.changes.through > r.changes.after ? `changes ${r.changes.after + 1}–${r.changes.through}` : r.full ? 'no new changes' : 'the parts that move with the clock';
    o.log(`Site: rendered ${what}${r.full ? ' into a new release' : ''} (${r.files} files ${r.full ? 'written' : 'changed'}, ${Math.round(r.ms)} ms).`);
    o.onRendered?.(r);
  };

  /** Loads what another process (or this one, earlier) put in the output, changed paths only when it can. */
  async function follow(row: OutputRow) {
    if (!row.release || (row.release === live.release && row.generation === live.generation)) return;
    const dir = join(o.output.root, 'releases', row.release);
    if (!existsSync(dir)) throw new Error(`release ${row.release} is not in ${o.output.root}: was the output folder changed by hand?`);
    const paths = pathsSince(row, live.release, live.generation);
    if (paths) {
      const files = o.output.readFiles(dir, paths);
      const found = new Set(files.map((f) => f.path));
      live.apply(row.generation, files, paths.filter((p) => !found.has(p)));
    } else {
      live.replaceAll(row.release, row.generation, await o.output.readRelease(dir));
    }
  }

  async function renderFull(row: OutputRow, latest: number) {
    const started = performance.now();
    const full = await renderRelease(inputs);
    const now = o.clock.now();
    const generation = await recordGeneration(o.db, outputId, owner, row, { through: latest, release: full.release, renderKey, paths: null }, now);
    live.replaceAll(full.release, generation ?? row.generation + 1, full.files);
    report({ full: true, targets: ['*'], files: full.files.length, ms: performance.now() - started, changes: { after: row.renderedThrough, through: latest } });
  }

  async function renderIncrement(row: OutputRow, latest: number) {
    const plan = await planChanges(o.db, row.renderedThrough, latest);
    const targets = new Set([...plan.targets, ...asked.targets]);
    asked.targets.clear();
    if (targets.size === 0) {
      if (plan.through > row.renderedThrough) await skipChanges(o.db, outputId, owner, plan.through);
      return;
    }
    const started = performance.now();
    try {
      const { changed } = await renderChanges(inputs, targets, monthsIn(live), (step) => live.apply(live.generation, step));
      const paths = changed.map((f) => f.path);
      if (paths.length > 0) {
        const generation = await recordGeneration(o.db, outputId, owner, row, { through: plan.through, release: row.release!, renderKey, paths }, o.clock.now());
        if (generation !== null) live.apply(generation, []);
      } else if (plan.through > row.renderedThrough) {
        await skipChanges(o.db, outputId, owner, plan.through);
      }
      report({ full: false, targets: [...targets], files: paths.length, ms: performance.now() - started, changes: { after: row.renderedThrough, through: plan.through } });
      if (plan.through < latest) queue.wake(0);
    } catch (e) {
      for (const t of targets) asked.targets.add(t);
      throw e;
    }
  }

  /** One pass: take the lease if it is free, then render what changed, or follow whoever renders. */
  async function step() {
    const latest = await latestChange(o.db);
    const { holding, row } = await lease.claim();
    if (!row || !holding) {
      // Another process renders this output: its start-up render stands for ours.
      asked.full = false;
      asked.targets.clear();
      if (row) await follow(row);
      return;
    }
    const needsFull = asked.full || !row.release || row.renderKey !== renderKey || (await o.output.live()) === null;
    if (needsFull) {
      // Serve the release already on disk while the new one renders; if there is none (or it is unreadable), wait.
      if (live.release === null) await follow(row).catch(() => {});
      await renderFull(row, latest);
      asked.full = false;
      return;
    }
    await follow(row);
    await renderIncrement(row, latest);
  }

  const queue = createRunQueue({
    run: step,
    pollMs: o.pollMs ?? 200,
    onFailure: (error, attempt, retryIn) => o.log(`site render failed (attempt ${attempt}, retrying in ${retryIn / 1000} s): ${error.stack ?? error.message}`),
  });

  live.onChange(() => {
    if (live.release !== null) for (const w of readyWaiters.splice(0)) w();
  });
  const gatherMs = o.gatherMs ?? 10;
  let closed = false;
  return {
    live,
    publish(publication) {
      if (!closed && publication.public) queue.wake(gatherMs);
    },
    renderAll() {
      if (closed) return;
      asked.full = true;
      queue.wake(0);
    },
    refresh() {
      if (closed) return;
      for (const t of clockTargets) asked.targets.add(t);
      queue.wake(gatherMs);
    },
    settled: () => queue.idle(),
    ready() {
      if (live.release !== null) return Promise.resolve();
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

// Renders the public site: all of it into a new release at start-up, then only what each publish changed, coalesced and retried.
import type { Queryable } from '../../db/client.ts';
import type { Clock } from '../clock.ts';
import type { Publication } from '../publish.ts';
import type { PageRenderer } from './astro.ts';
import { monthOf, type Month } from './calendar.ts';
import { feedFile } from './feed.ts';
import type { SiteFile, SiteOutput } from './output.ts';
import { audiences, loadIncidents, subjectStart } from './records.ts';
import { polledDocuments, statuspageFiles } from './statuspage.ts';
import {
  historyMonthPage,
  historyMonths,
  historyPage,
  incidentPages,
  indexPage,
  maintenancePages,
  notFoundPage,
  readSite,
  type PageView,
  type SiteReading,
  type SiteSettings,
} from './view-model.ts';

/** A part of the public site that a publish can change. */
export type Target = 'index' | 'history' | 'json' | 'feed' | `incident:${string}` | `maintenance:${string}`;

/** What a publication changes on the public site; an internal-only publish (SEV3/SEV4) changes nothing there. */
export function targetsOf(p: Publication): Target[] {
  if (!p.public) return [];
  switch (p.kind) {
    case 'component':
      return ['index', 'json'];
    case 'maintenance':
      return [`maintenance:${p.subjectId}`, 'history', 'index', 'json', 'feed'];
    case 'incident':
    case 'postmortem':
      return [`incident:${p.subjectId}`, 'history', 'index', 'json', 'feed'];
  }
}

export interface RenderReport {
  full: boolean;
  targets: string[];
  files: number;
  ms: number;
}

export interface SiteRendererOptions {
  db: Queryable;
  clock: Clock;
  settings: SiteSettings;
  output: SiteOutput;
  pages: PageRenderer;
  log: (message: string) => void;
  /** How long to gather a burst of publishes into one render. */
  gatherMs?: number;
  onRendered?: (report: RenderReport) => void;
}

export interface SiteRenderer {
  /** Queues the parts a publication changed; renders soon, at most one render at a time. */
  publish(publication: Publication): void;
  /** Queues a full render into a new release (start-up, or after a failed incremental render). */
  renderAll(): void;
  /** Queues parts that change with the clock alone: the day bars on the index, the current month. */
  refresh(): void;
  /** Resolves when nothing is rendering or about to; a retry waiting out its back-off does not hold it up. */
  settled(): Promise<void>;
  /** Why the last render failed, until one succeeds. */
  readonly lastError: Error | null;
  /** Stops retrying and waits for a render in flight. */
  close(): Promise<void>;
}

const pagePath: Record<PageView['kind'], (view: PageView) => string> = {
  index: () => 'index.html',
  incident: (v) => `incidents/${(v as Extract<PageView, { kind: 'incident' }>).incident.id}/index.html`,
  maintenance: (v) => `maintenances/${(v as Extract<PageView, { kind: 'maintenance' }>).maintenance.id}/index.html`,
  history: () => 'history/index.html',
  'history-month': (v) => `history/${(v as Extract<PageView, { kind: 'history-month' }>).month}/index.html`,
  'sign-in': () => {
    throw new Error('the sign-in page belongs to /internal/ and is never written to disk');
  },
  'not-found': () => '404.html',
  console: () => {
    throw new Error('console screens belong to /internal/ and are never written to disk');
  },
};

/** How many incident pages a full render shapes at once. */
const fullRenderSlice = 250;

export function createSiteRenderer(o: SiteRendererOptions): SiteRenderer {
  const a = audiences.public;
  const gatherMs = o.gatherMs ?? 10;
  let pending = new Set<Target>();
  let fullPending = false;
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let failures = 0;
  let retrying = false;
  let lastError: Error | null = null;
  let closed = false;
  /** The months the last render covered: when the list grows, neighbours' older/newer links change too. */
  let knownMonths: Month[] = [];
  const waiters: (() => void)[] = [];

  const page = async (view: PageView): Promise<SiteFile> => ({ path: pagePath[view.kind](view), body: await o.pages.renderPage(view) });

  async function pages(views: PageView[]): Promise<SiteFile[]> {
    const files: SiteFile[] = [];
    for (const [i, v] of views.entries()) {
      files.push(await page(v));
      // Rendering is synchronous underneath: let requests in now and then, so the site keeps serving during a full render.
      if (i % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
    }
    return files;
  }

  async function monthFiles(r: SiteReading, months: Month[], all: Month[]) {
    const files: SiteFile[] = [];
    for (const m of months) if (all.includes(m)) files.push(await page(await historyMonthPage(r, m, all)));
    return files;
  }

  /** Writes every public page into a new release as it is rendered, a slice of incidents at a time, to keep memory flat. */
  async function renderEverything(): Promise<number> {
    const r = await readSite(o.db, a, o.settings, o.clock.now());
    const release = await o.output.beginRelease(o.pages.clientDir);
    let files = 0;
    const write = async (file: SiteFile) => {
      await release.write(file);
      files++;
    };
    try {
      const incidentIds = (await loadIncidents(o.db, a)).map((i) => i.id);
      for (let at = 0; at < incidentIds.length; at += fullRenderSlice) {
        for (const file of await pages(await incidentPages(r, incidentIds.slice(at, at + fullRenderSlice)))) await write(file);
      }
      for (const file of await pages(await maintenancePages(r))) await write(file);
      const months = await historyMonths(r);
      for (const m of months) await write(await page(await historyMonthPage(r, m, months)));
      await write(await page(historyPage(r, months)));
      await write(await page(notFoundPage(r)));
      await write(await feedFile(o.db, o.settings, r.now));
      for (const file of await statuspageFiles(o.db, o.settings, r.now)) await write(file);
      await write(await page(await indexPage(r)));
      await release.commit();
      knownMonths = months;
      return files;
    } catch (e) {
      await release.abort();
      throw e;
    }
  }

  /**
   * Renders the targets in two steps, each into memory first and then swapped in, pages before the lists that link to
   * them: first what customers and widgets look at during an outage (the incident's page, summary.json and status.json,
   * the front page), then the other JSON documents, the history and the feed.
   */
  async function renderTargets(targets: Set<Target>): Promise<number> {
    const r = await readSite(o.db, a, o.settings, o.clock.now());
    const ids = (prefix: 'incident:' | 'maintenance:') => [...targets].filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length));
    const incidentIds = ids('incident:');
    const maintenanceIds = ids('maintenance:');
    const first: SiteFile[] = [...(await pages(await incidentPages(r, incidentIds))), ...(await pages(await maintenancePages(r, maintenanceIds)))];
    const json = targets.has('json') ? await statuspageFiles(o.db, o.settings, r.now) : [];
    first.push(...json.filter((f) => polledDocuments.has(f.path)));
    if (targets.has('index')) first.push(await page(await indexPage(r)));
    await o.output.replaceFiles(first);

    const then: SiteFile[] = json.filter((f) => !polledDocuments.has(f.path));
    if (targets.has('history')) {
      const months = await historyMonths(r);
      const touched = new Set<Month>([months.at(-1)!]);
      for (const [kind, list] of [['incident', incidentIds], ['maintenance', maintenanceIds]] as const) {
        for (const id of list) {
          const start = await subjectStart(o.db, a, kind, id);
          if (start) touched.add(monthOf(start, o.settings.timeZone));
        }
      }
      // A new month at either end changes the older/newer links of the month next to it.
      for (const [i, m] of months.entries()) {
        if (knownMonths.includes(m)) continue;
        touched.add(m);
        if (i > 0) touched.add(months[i - 1]!);
        if (i < months.length - 1) touched.add(months[i + 1]!);
      }
      then.push(...(await monthFiles(r, [...touched], months)), await page(historyPage(r, months)));
      knownMonths = months;
    }
    if (targets.has('feed')) then.push(await feedFile(o.db, o.settings, r.now));
    await o.output.replaceFiles(then);
    return first.length + then.length;
  }

  async function drain() {
    const full = fullPending || (await o.output.live()) === null;
    const batch = pending;
    pending = new Set();
    fullPending = false;
    const started = performance.now();
    try {
      const files = full ? await renderEverything() : await renderTargets(batch);
      failures = 0;
      lastError = null;
      o.onRendered?.({ full, targets: full ? ['*'] : [...batch], files, ms: performance.now() - started });
    } catch (e) {
      failures++;
      lastError = e instanceof Error ? e : new Error(String(e));
      // The previous site keeps serving; the retry renders everything, so nothing the failed render held is lost.
      fullPending = true;
      const delay = Math.min(60_000, 1000 * 2 ** (failures - 1));
      o.log(`site render failed (attempt ${failures}, retrying in ${delay / 1000} s): ${lastError.stack ?? lastError.message}`);
      return delay;
    }
    return null;
  }

  /** Idle: nothing rendering and nothing about to; a retry waiting out its back-off counts as idle. */
  function notifyIfIdle() {
    if (running || (timer && !retrying)) return;
    for (const w of waiters.splice(0)) w();
  }

  function schedule(delay: number, retry = false) {
    if (timer || running || closed) return;
    retrying = retry;
    timer = setTimeout(() => {
      timer = null;
      retrying = false;
      running = drain().then((retryIn) => {
        running = null;
        if (retryIn !== null) schedule(retryIn, true);
        else if (pending.size > 0 || fullPending) schedule(gatherMs);
        notifyIfIdle();
      });
    }, delay);
  }

  return {
    publish(publication) {
      const targets = targetsOf(publication);
      if (targets.length === 0 || closed) return;
      for (const t of targets) pending.add(t);
      schedule(gatherMs);
    },
    renderAll() {
      if (closed) return;
      fullPending = true;
      schedule(0);
    },
    refresh() {
      if (closed) return;
      pending.add('index');
      pending.add('history');
      pending.add('json');
      schedule(gatherMs);
    },
    settled() {
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        notifyIfIdle();
      });
    },
    get lastError() {
      return lastError;
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
      for (const w of waiters.splice(0)) w();
    },
  };
}

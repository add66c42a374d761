// Renders public pages into the output: a whole new release, or only the targets a set of changes touched.
import type { Queryable } from '../../db/client.ts';
import type { Clock } from '../clock.ts';
import type { PageRenderer } from './astro.ts';
import { monthOf, type Month } from './calendar.ts';
import type { Target } from './changes.ts';
import { badgeFiles } from './badges.ts';
import { brandFiles } from './brand-files.ts';
import { feedFiles } from './feed.ts';
import { maintenanceCalendarFile } from './maintenance-ics.ts';
import { breathe, type EncodedFile, type SiteFile, type SiteOutput } from './output.ts';
import { readers, loadIncidents, subjectStart } from './records.ts';
import { statuspageFiles } from './statuspage.ts';
import {
  embedPage,
  historyMonthPage,
  historyMonths,
  historyPage,
  incidentPages,
  indexPage,
  maintenancePages,
  notFoundPage,
  readSite,
  type PageView,
  type SiteSettings,
} from './view-model.ts';

/** What a render reads from and writes to. */
export interface RenderInputs {
  db: Queryable;
  clock: Clock;
  settings: SiteSettings;
  output: SiteOutput;
  pages: PageRenderer;
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
  embed: () => 'embed/index.html',
  console: () => {
    throw new Error('console screens belong to /internal/ and are never written to disk');
  },
};

/** How many incident pages a full render shapes at once. */
const fullRenderSlice = 250;

async function page(i: RenderInputs, view: PageView): Promise<SiteFile> {
  return { path: pagePath[view.kind](view), body: await i.pages.renderPage(view) };
}

async function pages(i: RenderInputs, views: PageView[]): Promise<SiteFile[]> {
  const files: SiteFile[] = [];
  for (const [n, v] of views.entries()) {
    files.push(await page(i, v));
    // Rendering is synchronous underneath: let requests in now and then, so the site keeps serving during a full render.
    if (n % 16 === 15) await breathe();
  }
  return files;
}

/** A whole release: its folder name, every file in it, and the history months it covers. */
export interface FullRender {
  release: string;
  files: EncodedFile[];
  months: Month[];
}

/**
 * Renders every public page into a new release as it goes, a slice of incidents at a time to keep memory flat, pages
 * before the lists that link them, and makes it live with one rename. On failure the release is dropped and the old
 * one keeps serving.
 */
export async function renderRelease(i: RenderInputs): Promise<FullRender> {
  const r = await readSite(i.db, readers.public, i.settings, i.clock.now());
  const release = await i.output.beginRelease(i.pages.clientDir);
  try {
    const incidentIds = (await loadIncidents(i.db, readers.public)).map((x) => x.id);
    for (let at = 0; at < incidentIds.length; at += fullRenderSlice) {
      for (const file of await pages(i, await incidentPages(r, incidentIds.slice(at, at + fullRenderSlice)))) await release.write(file);
    }
    for (const file of await pages(i, await maintenancePages(r))) await release.write(file);
    const months = await historyMonths(r);
    for (const m of months) await release.write(await page(i, await historyMonthPage(r, m, months)));
    await release.write(await page(i, await historyPage(r, months)));
    await release.write(await page(i, notFoundPage(r)));
    for (const file of brandFiles(i.settings.brand)) await release.write(file);
    for (const file of await feedFiles(i.db, i.settings, r.now)) await release.write(file);
    for (const file of await statuspageFiles(r)) await release.write(file);
    for (const file of await badgeFiles(r)) await release.write(file);
    await release.write(await maintenanceCalendarFile(i.db, i.settings, r.now));
    await release.write(await page(i, await embedPage(r)));
    await release.write(await page(i, await indexPage(r)));
    const { name, files } = await release.commit();
    return { release: name, files, months };
  } catch (e) {
    await release.abort();
    throw e;
  }
}

/** The files an incremental render changed, in the order they went live, those it removed, and the history months it saw. */
export interface ChangeRender {
  changed: EncodedFile[];
  removed: string[];
  months: Month[] | null;
}

/**
 * Renders the targets into the live release in two steps, each into memory first and then swapped in, pages before
 * the lists that link to them: first what customers and widgets look at during an outage (the incident's page,
 * summary.json and status.json, the badges, the embed page, the front page), then the other JSON documents, the
 * history, the feeds and (when a maintenance window changed) the maintenance calendar.
 * `knownMonths` are the months the last render covered: when the list grows, neighbours' older/newer links change.
 * `onStep` receives each step's changed files as soon as they are on disk, so they can go live at once.
 */
export async function renderChanges(
  i: RenderInputs,
  targets: Set<Target>,
  knownMonths: Month[],
  onStep: (changed: EncodedFile[], removed: string[]) => void = () => {},
): Promise<ChangeRender> {
  const a = readers.public;
  const r = await readSite(i.db, a, i.settings, i.clock.now());
  const ids = (prefix: 'incident:' | 'maintenance:') => [...targets].filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length));
  const incidentIds = ids('incident:');
  const maintenanceIds = ids('maintenance:');
  const first: SiteFile[] = [...(await pages(i, await incidentPages(r, incidentIds))), ...(await pages(i, await maintenancePages(r, maintenanceIds)))];
  let gone: string[] = [];
  if (targets.has('json')) {
    first.push(...(await statuspageFiles(r, ['polled'])));
    // The badges and the embed page show what the JSON and the front page show, so they move with them; the badge
    // of a component archived since goes (404), not left saying what it said last.
    const badges = await badgeFiles(r);
    first.push(...badges);
    const current = new Set(badges.map((b) => b.path));
    gone = i.output.liveFiles('badge').filter((path) => !current.has(path));
  }
  if (targets.has('index')) first.push(await page(i, await embedPage(r)), await page(i, await indexPage(r)));
  const changed = await i.output.replaceFiles(first);
  const removed = i.output.removeFiles(gone);
  onStep(changed, removed);
  // What customers look at is live: requests waiting since the render began are answered before the second step.
  await breathe();

  const then: SiteFile[] = targets.has('json') ? await statuspageFiles(r, ['lists']) : [];
  let months: Month[] | null = null;
  if (targets.has('history')) {
    months = await historyMonths(r);
    const touched = new Set<Month>([months.at(-1)!]);
    for (const [kind, list] of [['incident', incidentIds], ['maintenance', maintenanceIds]] as const) {
      for (const id of list) {
        const start = await subjectStart(i.db, a, kind, id);
        if (start) touched.add(monthOf(start, i.settings.timeZone));
      }
    }
    // A new month at either end changes the older/newer links of the month next to it.
    for (const [n, m] of months.entries()) {
      if (knownMonths.includes(m)) continue;
      touched.add(m);
      if (n > 0) touched.add(months[n - 1]!);
      if (n < months.length - 1) touched.add(months[n + 1]!);
    }
    for (const m of touched) {
      if (!months.includes(m)) continue;
      await breathe();
      then.push(await page(i, await historyMonthPage(r, m, months)));
    }
    await breathe();
    then.push(await page(i, await historyPage(r, months)));
  }
  if (targets.has('feed')) {
    await breathe();
    then.push(...(await feedFiles(i.db, i.settings, r.now)));
  }
  if (maintenanceIds.length > 0) then.push(await maintenanceCalendarFile(i.db, i.settings, r.now));
  await breathe();
  const later = await i.output.replaceFiles(then);
  onStep(later, []);
  return { changed: [...changed, ...later], removed, months };
}

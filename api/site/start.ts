// Wires the site into a running server: loads the renderer, renders everything once, re-renders on every publish, serves it.
import { Hono } from 'hono';
import type { Config } from '../config.ts';
import type { Services } from '../services/context.ts';
import { loadRenderer, type PageRenderer } from './astro.ts';
import { internalRoutes, type ConsoleMount } from './internal.ts';
import { siteOutput, type SiteOutput } from './output.ts';
import { createSiteRenderer, type RenderReport, type SiteRenderer } from './render.ts';
import { siteRoutes } from './serve.ts';
import type { SiteSettings } from './view-model.ts';

export interface Site {
  /** The public site and /internal/, to mount at the root of the app. */
  routes: Hono;
  renderer: SiteRenderer;
  output: SiteOutput;
  pages: PageRenderer;
  close(): Promise<void>;
}

export interface SiteOptions {
  log?: (message: string) => void;
  onRendered?: (report: RenderReport) => void;
  /** How often the clock alone re-renders the index (the day bars move at midnight); 0 turns it off. */
  refreshMs?: number;
  /** The comms console to mount inside /internal/ (the server passes api/console's); none leaves /internal/ read-only. */
  console?: ((site: { settings: SiteSettings; pages: PageRenderer }) => ConsoleMount) | undefined;
}

export function siteSettings(config: Config): SiteSettings {
  return { pageName: config.pageName, publicUrl: config.publicUrl, timeZone: config.timeZone };
}

export async function startSite(s: Services, config: Config, options: SiteOptions = {}): Promise<Site> {
  const log = options.log ?? console.log;
  const pages = await loadRenderer(log);
  const output = siteOutput(config.dataDir);
  const settings = siteSettings(config);
  const renderer = createSiteRenderer({ db: s.db, clock: s.clock, settings, output, pages, log, onRendered: options.onRendered });
  const unsubscribe = s.hook.subscribe((publication) => renderer.publish(publication));

  // A full render at every start: whatever a killed or failed render left out is rendered now. Until it is live,
  // the previous release keeps serving; with none yet, start-up waits for the first one.
  const hadSite = (await output.live()) !== null;
  renderer.renderAll();
  if (!hadSite) await renderer.settled();

  const refreshMs = options.refreshMs ?? 10 * 60_000;
  const timer = refreshMs > 0 ? setInterval(() => renderer.refresh(), refreshMs) : null;
  timer?.unref();

  const routes = new Hono();
  routes.route('/', internalRoutes({ db: s.db, clock: s.clock, settings, pages, console: options.console?.({ settings, pages }) }));
  routes.route('/', siteRoutes(output));
  return {
    routes,
    renderer,
    output,
    pages,
    async close() {
      if (timer) clearInterval(timer);
      unsubscribe();
      await renderer.close();
    },
  };
}

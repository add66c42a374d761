// Wires the site into a running server: loads the renderer, keeps the output current with the database, serves it from memory.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono } from 'hono';
import type { Config } from '../config.ts';
import type { Services } from '../services/context.ts';
import { loadRenderer, type PageRenderer } from './astro.ts';
import { internalRoutes, type ConsoleMount } from './internal.ts';
import type { OidcSignIn } from '../services/oidc.ts';
import { liveSite, type LiveSite } from './live.ts';
import { siteOutput, type SiteOutput } from './output.ts';
import { createSiteRenderer, type RenderReport, type SiteRenderer } from './render.ts';
import { startBucketSync, type BucketSync } from './s3.ts';
import { siteFastPath, siteRoutes } from './serve.ts';
import type { SiteSettings } from './view-model.ts';

export interface Site {
  /** The public site and /internal/, to mount at the root of the app. */
  routes: Hono;
  /** Answers public site requests straight from memory ahead of the app; false for requests the app must answer. */
  fastPath: (req: IncomingMessage, res: ServerResponse) => boolean;
  renderer: SiteRenderer;
  output: SiteOutput;
  live: LiveSite;
  pages: PageRenderer;
  /** The copy in object storage, when SITE_S3_URL is set. */
  bucket: BucketSync | null;
  close(): Promise<void>;
}

export interface SiteOptions {
  log?: (message: string) => void;
  onRendered?: (report: RenderReport) => void;
  /** How often the clock alone re-renders the index (the day bars move at midnight); 0 turns it off. */
  refreshMs?: number;
  /** How often to look for publishes made through other processes; see SITE_POLL_MS. */
  pollMs?: number;
  /** The comms console to mount inside /internal/ (the server passes api/console's); none leaves /internal/ read-only. */
  console?: ((site: { settings: SiteSettings; pages: PageRenderer }) => ConsoleMount) | undefined;
  /** Single sign-on for /internal/ (built by the server from OIDC_*); none offers email links and tokens only. */
  sso?: OidcSignIn | undefined;
}

export function siteSettings(config: Config): SiteSettings {
  return { pageName: config.pageName, publicUrl: config.publicUrl, timeZone: config.timeZone, brand: config.brand };
}

export async function startSite(s: Services, config: Config, options: SiteOptions = {}): Promise<Site> {
  const log = options.log ?? console.log;
  const pages = await loadRenderer(log);
  const output = siteOutput(config.dataDir);
  const settings = siteSettings(config);
  const live = liveSite(() => s.clock.now());
  const renderer = createSiteRenderer({
    db: s.db,
    clock: s.clock,
    settings,
    output,
    pages,
    log,
    live,
    pollMs: options.pollMs ?? config.sitePollMs,
    onRendered: options.onRendered,
  });
  const unsubscribe = s.hook.subscribe((publication) => renderer.publish(publication));
  const bucket = config.siteS3 ? startBucketSync({ db: s.db, live, target: config.siteS3, log }) : null;

  // A full render at every start, when this process renders the output: whatever a killed or failed render left out
  // is rendered now. Until it is live, the previous release keeps serving from disk; with none yet, start-up waits.
  renderer.renderAll();
  await renderer.ready();

  const refreshMs = options.refreshMs ?? 10 * 60_000;
  const timer = refreshMs > 0 ? setInterval(() => renderer.refresh(), refreshMs) : null;
  timer?.unref();

  const routes = new Hono();
  routes.route('/', internalRoutes({ db: s.db, clock: s.clock, settings, pages, console: options.console?.({ settings, pages }), sso: options.sso }));
  routes.route('/', siteRoutes(live));
  return {
    routes,
    fastPath: siteFastPath(live),
    renderer,
    output,
    live,
    pages,
    bucket,
    async close() {
      if (timer) clearInterval(timer);
      unsubscribe();
      await renderer.close();
      await bucket?.close();
    },
  };
}

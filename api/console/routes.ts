// The console's routes under /internal/: Declare, the incident actions and the admin screens, behind the internal sign-in.
import { readFileSync } from 'node:fs';
import { Hono, type Context } from 'hono';
import type { AuthEnv } from '../auth.ts';
import type { ConsoleMount } from '../site/internal.ts';
import type { PageView } from '../site/view-model.ts';
import { openIncidentsPanel } from './board.ts';
import { actionItemRoutes } from './action-items.ts';
import { adminRoutes } from './admin.ts';
import { briefingPanel, briefingScreen, readsBriefing } from './briefing.ts';
import { declarePost, declareScreen, emptyValues } from './declare.ts';
import { correctionPost, correctionScreen, incidentScreen, postmortemPost, updatePost } from './incident.ts';
import { maintenanceRoutes } from './maintenance.ts';
import { memberRoutes } from './members.ts';
import { outboxRoutes } from './outbox.ts';
import { reportRoutes } from './reports.ts';
import { forbidden, refusalPage, requireUseCase } from './roles.ts';
import { links, renderView, type ConsoleDeps } from './screen.ts';

const script = readFileSync(new URL('./console.js', import.meta.url));

/** Mounted after the sign-in check; every route here has a principal. */
function consoleRoutes(d: ConsoleDeps) {
  const app = new Hono<AuthEnv>();
  app.get('/internal/console.js', (c) => c.body(script, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'private, max-age=300' }));
  app.get('/internal/declare', (c) => c.redirect('/internal/declare/', 301));
  // A viewer has no use for the form (SPEC "People": no publish form for a role that may not publish).
  app.get('/internal/declare/', (c) => (readsBriefing(c) ? forbidden(d, c, 'comms') : declareScreen(d, c, emptyValues())));
  app.onError(refusalPage(d));
  app.post('/internal/declare/', requireUseCase(d, 'declareIncident', 'previewDeclaration'), async (c) => {
    const body = await c.req.parseBody();
    return declarePost(d, c, body, body.action === 'preview' ? 'preview' : 'publish');
  });
  // A reminder's link: the incident scrolled to its Post update form (a viewer, who cannot post, gets the briefing).
  app.get('/internal/incidents/:id/post-update', (c) => c.redirect(`${links.incident(c.req.param('id'))}${readsBriefing(c) ? '' : '#post-update-heading'}`, 303));
  app.get('/internal/incidents/:id/', (c) => (readsBriefing(c) ? briefingScreen(d, c, c.req.param('id')) : incidentScreen(d, c, c.req.param('id'))));
  for (const form of ['updates', 'resolve', 'reopen'] as const) {
    app.post(`/internal/incidents/:id/${form}`, requireUseCase(d, 'postUpdate', form === 'updates' ? 'previewUpdate' : undefined), async (c) =>
      updatePost(d, c, c.req.param('id')!, await c.req.parseBody(), form === 'updates' ? 'update' : form),
    );
  }
  app.get('/internal/incidents/:id/correct', (c) => correctionScreen(d, c, c.req.param('id')!));
  app.post('/internal/incidents/:id/correct', requireUseCase(d, 'correctLastUpdate'), async (c) => correctionPost(d, c, c.req.param('id')!, await c.req.parseBody()));
  app.post('/internal/incidents/:id/postmortem', requireUseCase(d, 'publishPostmortem'), async (c) => postmortemPost(d, c, c.req.param('id')!, await c.req.parseBody()));
  app.route('/', maintenanceRoutes(d));
  app.route('/', adminRoutes(d));
  app.route('/', memberRoutes(d));
  app.route('/', outboxRoutes(d));
  app.route('/', actionItemRoutes(d));
  app.route('/', reportRoutes(d));
  return app;
}

/** The console as /internal/ takes it: its routes, its frame around internal pages, and the open incidents panel. */
export function consoleMount(d: ConsoleDeps): ConsoleMount {
  return {
    routes: consoleRoutes(d),
    render: (c: Context, view: PageView, status: number, panel?: string) => renderView(d, c, view, status, panel),
    indexPanel: (c: Context) => (readsBriefing(c) ? briefingPanel(d) : openIncidentsPanel(d)),
  };
}

// /reports/reliability: the month-by-month reliability report, and the incidents behind it as CSV.
import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth.ts';
import { apiRouter } from '../http/router.ts';
import { errorResponses } from '../http/problems.ts';
import { severities } from '../domain.ts';
import type { Services } from '../services/context.ts';
import { reliabilityReport, reportIncidentsCsv } from '../services/reliability.ts';
import { bearer, json } from './schemas.ts';

const period = z.object({
  from: z.string().openapi({ description: 'First day, YYYY-MM-DD (UTC).', example: '2026-01-01' }),
  to: z.string().openapi({ description: 'Last day, YYYY-MM-DD (UTC), included; at most 36 months after from.', example: '2026-12-31' }),
});

const spread = z.object({ median: z.number().nullable(), p90: z.number().nullable() }).openapi('Spread', { description: 'Seconds; null when no incident of the month reached it.' });

const reportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    components: z.array(z.object({ id: z.string(), name: z.string() })),
    months: z.array(
      z.object({
        month: z.string().openapi({ example: '2026-11' }),
        incidents: z.object({ ...Object.fromEntries(severities.map((s) => [s, z.number().int()])), total: z.number().int() }),
        timeToAcknowledge: spread,
        timeToFirstPublicUpdate: spread,
        timeToMitigate: spread,
        timeToResolve: spread,
        cadenceKept: z.number().nullable().openapi({ description: 'Share (0..1) of updates with a next update time whose next update came by then.' }),
        actionItems: z.object({ opened: z.number().int(), done: z.number().int(), overdue: z.number().int(), doneOnTime: z.number().int() }),
        uptime: z.record(z.string(), z.number().nullable()).openapi({ description: 'Percent up over the month (until now for the month in progress), by component id; null for a month not begun.' }),
      }),
    ),
  })
  .openapi('ReliabilityReport');

const reportRoute = createRoute({
  method: 'get',
  path: '/reports/reliability',
  tags: ['reports'],
  summary: 'Reliability per calendar month (UTC): incidents, response times, cadence kept, action items, uptime',
  security: bearer,
  middleware: [requireRole('viewer')] as const,
  request: { query: period },
  responses: { 200: json(reportSchema, 'The report'), ...errorResponses },
});

const csvRoute = createRoute({
  method: 'get',
  path: '/reports/reliability/incidents.csv',
  tags: ['reports'],
  summary: 'The incidents behind the report, one row each, as CSV',
  security: bearer,
  middleware: [requireRole('viewer')] as const,
  request: { query: period },
  responses: { 200: { description: 'CSV with a header row', content: { 'text/csv': { schema: z.string() } } }, ...errorResponses },
});

export function reportRoutes(s: Services) {
  return apiRouter()
    .openapi(reportRoute, async (c) => c.json((await reliabilityReport(s, c.get('actor')!, c.req.valid('query'))) as z.infer<typeof reportSchema>, 200))
    .openapi(csvRoute, async (c) => {
      const q = c.req.valid('query');
      const csv = await reportIncidentsCsv(s, c.get('actor')!, q);
      return c.body(csv, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="incidents-${q.from}-${q.to}.csv"` });
    });
}

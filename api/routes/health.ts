// GET /health: answers 200 when the database answers.
import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { apiRouter } from '../http/router.ts';
import type { Services } from '../services/context.ts';
import { json } from './schemas.ts';

const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['health'],
  summary: 'Liveness and database check',
  responses: { 200: json(z.object({ status: z.literal('ok'), time: z.string() }).openapi('Health'), 'The service and its database answer') },
});

export function healthRoutes(s: Services) {
  return apiRouter().openapi(health, async (c) => {
    await s.db.run(sql`SELECT 1`);
    return c.json({ status: 'ok' as const, time: s.clock.now().toISOString() }, 200);
  });
}

// Row counts and problem+json checks shared by the API tests: assert on what was stored, not only on what was answered.
import { expect } from 'vitest';
import type { Fixture } from './fixture.ts';

export const storedTables = ['incidents', 'updates', 'audit_events', 'deliveries', 'incident_components', 'postmortems', 'maintenances', 'components', 'stakeholders'] as const;

export async function count(f: Fixture, table: string, where = ''): Promise<number> {
  const rs = await f.services.db.$client.execute(`SELECT count(*) AS n FROM ${table} ${where}`);
  return Number(rs.rows[0]!.n);
}

/** Every table a publish writes to, counted at once, so "nothing stored" is one comparison. */
export async function snapshot(f: Fixture): Promise<Record<(typeof storedTables)[number], number>> {
  const out = {} as Record<(typeof storedTables)[number], number>;
  for (const t of storedTables) out[t] = await count(f, t);
  return out;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

/** Asserts an RFC 9457 answer with the given status; with `path`, that its errors name that field. */
export async function expectProblem(res: Response, status: number, path?: string | RegExp): Promise<Problem> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  const body = JSON.parse(text) as Problem;
  expect(body).toMatchObject({ status, type: expect.stringMatching(/^https?:\/\//), title: expect.any(String), detail: expect.any(String) });
  expect(body.detail.length).toBeGreaterThan(0);
  if (path !== undefined) {
    expect(Array.isArray(body.errors), `errors array in ${text}`).toBe(true);
    const paths = body.errors!.map((e) => e.path);
    if (typeof path === 'string') expect(paths).toContain(path);
    else expect(paths.some((p) => path.test(p)), `${paths.join(', ')} matches ${path}`).toBe(true);
    for (const e of body.errors!) expect(e.message.length).toBeGreaterThan(0);
  }
  return body;
}

export async function auditActions(f: Fixture, subjectId: string): Promise<string[]> {
  const rs = await f.services.db.$client.execute({ sql: 'SELECT action FROM audit_events WHERE subject_id = ? ORDER BY at, id', args: [subjectId] });
  return rs.rows.map((r) => String(r.action));
}

// The OpenAPI document describes each error status for what it is, so a client author reads 404 as "unknown id", not "Validation failed".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFixture, type Fixture } from './fixture.ts';

let f: Fixture;
type Operation = { responses: Record<string, { description: string; content?: Record<string, unknown> }> };
let paths: Record<string, Record<string, Operation>>;

beforeAll(async () => {
  f = await makeFixture();
  paths = ((await (await f.call('GET', '/api/v1/openapi.json', { token: null })).json()) as { paths: typeof paths }).paths;
});
afterAll(() => f.close());

describe('error responses in the OpenAPI document', () => {
  it('gives every error status of every operation a problem+json response with a description of its own', () => {
    const byStatus = new Map<string, Set<string>>();
    let errors = 0;
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(item)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400 || !response.content?.['application/problem+json']) continue;
          errors++;
          byStatus.set(status, (byStatus.get(status) ?? new Set()).add(response.description));
          expect(response.description, `${method.toUpperCase()} ${path} ${status}`).not.toBe('');
        }
      }
    }
    expect(errors).toBeGreaterThan(30);
    // One description per status, and no two statuses share one.
    for (const [status, descriptions] of byStatus) expect([...descriptions], status).toHaveLength(1);
    const descriptions = [...byStatus.values()].map((d) => [...d][0]);
    expect(new Set(descriptions).size).toBe(descriptions.length);
  });

  it('says what 404, 409, 413 and 429 mean', () => {
    const updates = paths['/incidents/{id}/updates']!.post!.responses;
    expect(updates['404']!.description).toMatch(/unknown/i);
    expect(updates['409']!.description).toMatch(/transition|If-Match/);
    expect(updates['413']!.description).toMatch(/1 MiB/);
    expect(updates['422']!.description).toMatch(/Validation/);
    expect(paths['/subscribers']!.post!.responses['429']!.description).toMatch(/Too many/);
  });
});

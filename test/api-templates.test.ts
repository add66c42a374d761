// GET /templates lists the shipped set; preview renders both wordings side by side and publishes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, snapshot } from './api-support.ts';
import { declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';

let f: Fixture;
beforeAll(async () => {
  f = await makeFixture();
  await seedComponents(f);
  await f.call('POST', '/api/v1/stakeholders', { body: { email: 'ceo@example.com', name: 'Cleo' } });
});
afterAll(() => f.close());

const preview = (key: string, body: unknown, token: 'viewer' | 'comms' = 'viewer') => f.call('POST', `/api/v1/templates/${key}/preview`, { token, body });

describe('template list', () => {
  it('lists at least 14 templates, with variables, statuses and the built-ins each wording may use', async () => {
    const res = await f.call('GET', '/api/v1/templates', { token: 'viewer' });
    expect(res.status).toBe(200);
    const { templates } = await res.json();
    expect(templates.length).toBeGreaterThanOrEqual(14);
    const keys = templates.map((t: { key: string }) => t.key);
    for (const key of [
      'investigating',
      'identified',
      'monitoring',
      'resolved',
      'degraded-performance',
      'third-party-outage',
      'data-loss-risk',
      'security-holding-statement',
      'maintenance-scheduled',
      'maintenance-started',
      'maintenance-completed',
      'postmortem-published',
      'free-form',
    ]) {
      expect(keys).toContain(key);
    }
    const investigating = templates.find((t: { key: string }) => t.key === 'investigating');
    expect(investigating).toMatchObject({ kind: 'incident', statuses: ['investigating'] });
    expect(investigating.builtins.internalOnly).toEqual(expect.arrayContaining(['severity', 'ic', 'impact']));
    expect(investigating.builtins.both).not.toContain('severity');
    for (const v of investigating.variables) expect(v).toMatchObject({ name: expect.any(String), label: expect.any(String), description: expect.any(String), required: expect.any(Boolean), example: expect.any(String) });
    // Each variable's plain label for forms (the name stays the key): what the console shows.
    expect(investigating.variables.find((v: { name: string }) => v.name === 'symptom')).toMatchObject({ label: 'What users are seeing' });
    const maintenance = templates.find((t: { key: string }) => t.key === 'maintenance-scheduled');
    expect(maintenance.builtins.both).toEqual(expect.arrayContaining(['starts_at', 'ends_at']));
    expect(maintenance.builtins.internalOnly).toEqual([]);
  });
});

describe('preview', () => {
  it('renders both wordings with subjects, and stores nothing', async () => {
    const before = await snapshot(f);
    const res = await preview('investigating', { variables: examples(f, 'investigating') });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Object.keys(body).sort()).toEqual(['external', 'internal']);
    expect(body.external.subject).toMatch(/^Investigating: /);
    expect(body.internal.subject).toMatch(/^\[SEV\d\] Investigating: /);
    expect(body.external.body).toContain(examples(f, 'investigating').symptom);
    expect(body.internal.body).toContain(examples(f, 'investigating').hypothesis);
    expect(body.external.body).not.toContain(examples(f, 'investigating').hypothesis);
    expect(await snapshot(f)).toEqual(before);
  });

  it('renders every shipped template with its examples and with only its required variables', async () => {
    for (const t of f.services.templates.list()) {
      const full = await preview(t.key, { variables: examples(f, t.key) });
      expect(full.status, t.key).toBe(200);
      const required = Object.fromEntries(t.variables.filter((v) => v.required).map((v) => [v.name, v.example]));
      const minimal = await preview(t.key, { variables: required });
      expect(minimal.status, t.key).toBe(200);
      const body = await minimal.json();
      for (const w of [body.external, body.internal]) {
        expect(w.subject.trim().length, t.key).toBeGreaterThan(0);
        expect(w.subject, t.key).not.toMatch(/[\r\n]/);
        expect(w.body.trim().length, t.key).toBeGreaterThan(0);
        expect(w.body, `${t.key}: no stray blank lines`).not.toMatch(/\n{3,}/);
        expect(w.body, `${t.key}: no double spaces`).not.toMatch(/[^\n ] {2,}\S/);
      }
      // Internal-only examples never reach the external wording.
      for (const v of t.variables.filter((v) => v.audience === 'internal')) {
        const fullBody = await (await preview(t.key, { variables: examples(f, t.key) })).json();
        expect(fullBody.external.body, `${t.key}.${v.name}`).not.toContain(v.example);
        expect(fullBody.external.subject, `${t.key}.${v.name}`).not.toContain(v.example);
      }
    }
  });

  it('fills the built-ins from a real incident when given its id, still storing nothing', async () => {
    const incident = await declare(f, { roles: { ic: 'Dana Reyes' }, components: [{ id: 'api', status: 'major_outage' }, { id: 'dashboard', status: 'degraded_performance' }] });
    const before = await snapshot(f);
    const res = await preview('identified', { variables: examples(f, 'identified'), incidentId: incident.id }, 'comms');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.external.subject).toContain('Checkout errors');
    expect(body.internal.subject).toContain('Payments DB connection pool exhausted');
    expect(body.external.body).toContain('Api and Dashboard');
    expect(body.internal.body).toContain('Dana Reyes');
    expect(body.internal.body).toContain('SEV1');
    expect(await snapshot(f)).toEqual(before);
  });

  it('refuses a missing or unknown variable listing every name, and an unknown template with 404', async () => {
    const problem = await expectProblem(await preview('resolved', { variables: { nonsense: 'x' } }), 422, 'variables.nonsense');
    expect(problem.errors!.map((e) => e.path).sort()).toEqual(['variables.nonsense', 'variables.resolution', 'variables.what_happened']);
    await expectProblem(await preview('no-such-template', { variables: {} }), 404);
  });

  it('refuses an incident id that names nothing with 422 naming incidentId', async () => {
    await expectProblem(await preview('identified', { variables: examples(f, 'identified'), incidentId: 'nope' }), 422, 'incidentId');
    await expectProblem(await preview('maintenance-started', { variables: {}, incidentId: 'nope' }), 422, 'incidentId');
  });

  it('shows values literally: Liquid in a value is text, not a template', async () => {
    const variables = { ...examples(f, 'free-form') };
    const name = f.services.templates.get('free-form')!.variables.find((v) => v.required && v.audience === 'both')!.name;
    variables[name] = 'Literal {{ severity }} and {% raw %}x{% endraw %} and {{ title }}.';
    const body = await (await preview('free-form', { variables })).json();
    expect(body.external.body).toContain('Literal {{ severity }} and {% raw %}x{% endraw %} and {{ title }}.');
    expect(body.external.body).not.toContain('SEV');
  });
});

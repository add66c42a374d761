// Characters XML 1.0 forbids: every text field of every write endpoint refuses them with 422 naming the field and
// stores nothing; rows that hold one anyway (written before the rule) never reach feed.xml, JSON, pages or emails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, expectProblem, snapshot } from './api-support.ts';
import { manualOutbox, confirmedSubscriber, addStakeholder } from './fanout-support.ts';
import { declare, examples, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { makeSiteFixture, postUpdate, type SiteFixture } from './site-fixture.ts';
import { startSmtpSink } from './smtp-sink.ts';

/** XML 1.0's Char production (https://www.w3.org/TR/xml/#charsets), written out here on its own: the code points outside it. */
function outsideXmlChar(text: string): string[] {
  const bad: string[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const ok = c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
    if (!ok) bad.push(`U+${c.toString(16).toUpperCase().padStart(4, '0')}`);
  }
  return bad;
}

/** One of each kind: the noncharacters, both halves of a surrogate pair alone, and C0 controls that are not tab/LF/CR. */
const forbidden = ['\uFFFF', '\uFFFE', '\uD800', '\uDFFF', '\u0000', '\u0001', '\u000B', '\u000C', '\u001B', '\u001F'];

describe('input: every text field refuses characters XML 1.0 forbids', () => {
  let f: Fixture;
  let open: string;
  let resolved: string;
  let maintenance: string;
  beforeAll(async () => {
    f = await makeFixture();
    await seedComponents(f);
    open = (await declare(f)).id;
    resolved = (await declare(f)).id;
    const r = await f.call('POST', `/api/v1/incidents/${resolved}/updates`, {
      token: 'comms',
      body: { status: 'resolved', template: 'resolved', variables: examples(f, 'resolved') },
    });
    expect(r.status).toBe(201);
    const m = await f.call('POST', '/api/v1/maintenances', { token: 'comms', body: maintenanceBody('Database upgrade') });
    expect(m.status).toBe(201);
    maintenance = ((await m.json()) as { id: string }).id;
  });
  afterAll(() => f.close());

  const maintenanceBody = (title: string) => ({
    title,
    scheduledFor: '2026-11-25T02:00:00Z',
    scheduledUntil: '2026-11-25T04:00:00Z',
    components: ['api'],
    variables: examples(f, 'maintenance-scheduled'),
  });
  const declareBody = () => ({
    title: 'Checkout errors',
    severity: 'SEV1',
    template: 'investigating',
    variables: examples(f, 'investigating'),
    components: [{ id: 'api', status: 'major_outage' }],
  });
  const postmortemBody = () => ({
    externalSummary: 'A pool ran dry.',
    internalBody: 'Timeline and factors.',
    actionItems: [{ title: 'Alert on pool use', owner: 'dana@example.com', dueOn: '2026-12-01' }],
    variables: { action_items: 'Alert on pool use' },
  });

  /** Each write endpoint's text fields: the request with `bad` put in that one field, and the field the answer must name. */
  const cases: { name: string; field: string; token?: 'admin' | 'comms'; request: (bad: string) => [string, string, unknown] }[] = [
    { name: 'declare title', field: 'title', request: (b) => ['POST', '/api/v1/incidents', { ...declareBody(), title: `A${b}B` }] },
    { name: 'declare internal title', field: 'internalTitle', request: (b) => ['POST', '/api/v1/incidents', { ...declareBody(), internalTitle: `A${b}B` }] },
    {
      name: 'declare variable',
      field: 'variables.symptom',
      request: (b) => ['POST', '/api/v1/incidents', { ...declareBody(), variables: { ...examples(f, 'investigating'), symptom: `A${b}B` } }],
    },
    { name: 'declare role', field: 'roles.ic', request: (b) => ['POST', '/api/v1/incidents', { ...declareBody(), roles: { ic: `A${b}B` } }] },
    { name: 'declare SME', field: 'roles.smes.0', request: (b) => ['POST', '/api/v1/incidents', { ...declareBody(), roles: { smes: [`A${b}B`] } }] },
    {
      name: 'update variable',
      field: 'variables.cause',
      request: (b) => [
        'POST',
        `/api/v1/incidents/${open}/updates`,
        { status: 'identified', template: 'identified', variables: { ...examples(f, 'identified'), cause: `A${b}B` } },
      ],
    },
    {
      name: 'update role',
      field: 'roles.comms',
      request: (b) => [
        'POST',
        `/api/v1/incidents/${open}/updates`,
        { status: 'identified', template: 'identified', variables: examples(f, 'identified'), roles: { comms: `A${b}B` } },
      ],
    },
    { name: 'postmortem summary', field: 'externalSummary', request: (b) => ['PUT', `/api/v1/incidents/${resolved}/postmortem`, { ...postmortemBody(), externalSummary: `A${b}B` }] },
    { name: 'postmortem body', field: 'internalBody', request: (b) => ['PUT', `/api/v1/incidents/${resolved}/postmortem`, { ...postmortemBody(), internalBody: `A${b}B` }] },
    {
      name: 'postmortem action item',
      field: 'actionItems.0.owner',
      request: (b) => ['PUT', `/api/v1/incidents/${resolved}/postmortem`, { ...postmortemBody(), actionItems: [{ title: 'x', owner: `A${b}B@example.com`, dueOn: '2026-12-01' }] }],
    },
    {
      name: 'postmortem variable',
      field: 'variables.action_items',
      request: (b) => ['PUT', `/api/v1/incidents/${resolved}/postmortem`, { ...postmortemBody(), variables: { action_items: `A${b}B` } }],
    },
    { name: 'maintenance title', field: 'title', request: (b) => ['POST', '/api/v1/maintenances', maintenanceBody(`A${b}B`)] },
    {
      name: 'maintenance internal title',
      field: 'internalTitle',
      request: (b) => ['POST', '/api/v1/maintenances', { ...maintenanceBody('Upgrade'), internalTitle: `A${b}B` }],
    },
    {
      name: 'maintenance variable',
      field: 'variables.purpose',
      request: (b) => ['POST', '/api/v1/maintenances', { ...maintenanceBody('Upgrade'), variables: { ...examples(f, 'maintenance-scheduled'), purpose: `A${b}B` } }],
    },
    {
      name: 'maintenance update variable',
      field: 'variables.progress_note',
      request: (b) => ['POST', `/api/v1/maintenances/${maintenance}/updates`, { status: 'in_progress', template: 'maintenance-started', variables: { progress_note: `A${b}B` } }],
    },
    { name: 'component name', field: 'name', token: 'admin', request: (b) => ['POST', '/api/v1/components', { id: 'search', name: `A${b}B` }] },
    {
      name: 'component description',
      field: 'description',
      token: 'admin',
      request: (b) => ['POST', '/api/v1/components', { id: 'search', name: 'Search', description: `A${b}B` }],
    },
    { name: 'component group', field: 'group', token: 'admin', request: (b) => ['POST', '/api/v1/components', { id: 'search', name: 'Search', group: `A${b}B` }] },
    { name: 'component rename', field: 'name', token: 'admin', request: (b) => ['PATCH', '/api/v1/components/api', { name: `A${b}B` }] },
    { name: 'component redescribe', field: 'description', token: 'admin', request: (b) => ['PATCH', '/api/v1/components/api', { description: `A${b}B` }] },
    { name: 'stakeholder name', field: 'name', token: 'admin', request: (b) => ['POST', '/api/v1/stakeholders', { email: 'cfo@example.com', name: `A${b}B` }] },
    { name: 'stakeholder email', field: 'email', token: 'admin', request: (b) => ['POST', '/api/v1/stakeholders', { email: `cfo${b}@example.com`, name: 'Cleo' }] },
    { name: 'subscriber email', field: 'email', request: (b) => ['POST', '/api/v1/subscribers', { email: `reader${b}@example.com` }] },
    {
      name: 'preview variable',
      field: 'variables.symptom',
      request: (b) => ['POST', '/api/v1/templates/investigating/preview', { variables: { ...examples(f, 'investigating'), symptom: `A${b}B` } }],
    },
  ];

  it('the template variables used below exist, so each case reaches the character check', () => {
    for (const [key, name] of [['identified', 'cause'], ['maintenance-scheduled', 'purpose'], ['maintenance-started', 'progress_note']] as const) {
      expect(f.services.templates.get(key)?.variables.map((v) => v.name)).toContain(name);
    }
  });

  for (const c of cases) {
    it(`refuses each forbidden character in the ${c.name} with 422 naming ${c.field}, storing nothing`, async () => {
      for (const bad of forbidden) {
        const before = { ...(await snapshot(f)), subscribers: await count(f, 'subscribers') };
        const [method, path, body] = c.request(bad);
        const res = await f.call(method, path, { token: c.token ?? 'comms', body });
        const problem = await expectProblem(res, 422, c.field);
        expect(problem.detail).toContain(c.field);
        expect({ ...(await snapshot(f)), subscribers: await count(f, 'subscribers') }, `nothing stored for ${JSON.stringify(bad)}`).toEqual(before);
      }
    });
  }

  it('accepts tab, line breaks in free text and astral characters (a surrogate pair) in titles', async () => {
    const res = await f.call('POST', '/api/v1/incidents', {
      token: 'comms',
      body: { ...declareBody(), title: 'Rocket 🚀 launch delayed', variables: { ...examples(f, 'investigating'), symptom: 'Line one\n\tLine two 𝄞' } },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(((await res.json()) as { title: string }).title).toBe('Rocket 🚀 launch delayed');
  });
});

describe('output: rows that already hold forbidden characters break no output', () => {
  let f: SiteFixture;
  // No lone surrogate: the database stores text as UTF-8, where one becomes U+FFFD on the way in.
  const poison = 'A\uFFFFB\uFFFEC\u0001D\u001BE\u000BF';
  beforeAll(async () => {
    f = await makeSiteFixture();
  });
  afterAll(() => f.close());

  it('feed.xml, every JSON document and every page carry none, and the text around them survives', async () => {
    const incident = await declare(f);
    await postUpdate(f, incident.id, 'identified');
    await f.rendered();
    // Written straight into the database, as rows stored before the input rule would be.
    const db = f.services.db.$client;
    await db.execute({ sql: 'UPDATE incidents SET title = ?, internal_title = ? WHERE id = ?', args: [poison, poison, incident.id] });
    await db.execute({ sql: 'UPDATE updates SET external_body = ?, internal_body = ?, external_subject = ? WHERE incident_id = ?', args: [poison, poison, poison, incident.id] });
    await db.execute({ sql: "UPDATE components SET name = ?, description = ? WHERE id = 'api'", args: [poison, poison] });
    f.site.renderer.renderAll();
    await f.rendered();

    const files = f.files();
    const feed = files.get('feed.xml')!.toString('utf8');
    expect(feed).toContain('ABCDEF');
    const texts = [...files].filter(([path]) => /\.(html|xml|json)$/.test(path));
    expect(texts.length).toBeGreaterThan(10);
    for (const [path, bytes] of texts) {
      const text = bytes.toString('utf8');
      expect(outsideXmlChar(text), path).toEqual([]);
      // JSON escapes controls and lone surrogates as \uXXXX: a parser would hand them back, so they must not be there either.
      if (path.endsWith('.json')) expect(outsideXmlChar(JSON.stringify(JSON.parse(text)).replace(/\\u([0-9a-f]{4})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)))), path).toEqual([]);
    }
    const summary = JSON.parse(files.get('api/v2/summary.json')!.toString('utf8')) as { components: { id: string; name: string }[]; incidents: { name: string }[] };
    expect(summary.incidents.map((i) => i.name)).toContain('ABCDEF');
    expect(summary.components.map((c) => c.name)).toContain('ABCDEF');
    expect(files.get(`incidents/${incident.id}/index.html`)!.toString('utf8')).toContain('ABCDEF');

    // The internal page and the API's JSON are outputs too.
    const internal = await f.get(`/internal/incidents/${incident.id}/`, { authorization: `Bearer ${f.tokens.viewer}` });
    expect(internal.status).toBe(200);
    expect(outsideXmlChar(await internal.text())).toEqual([]);
    const api = await f.call('GET', `/api/v1/incidents/${incident.id}`, { token: 'viewer' });
    const apiText = await api.text();
    expect(JSON.parse(apiText)).toMatchObject({ title: 'ABCDEF', internalTitle: 'ABCDEF' });
    expect(apiText).not.toMatch(/\\u(00[01][0-9a-f]|d[89a-f][0-9a-f]{2}|fff[ef])/i);
    expect(outsideXmlChar(apiText)).toEqual([]);

    // The anonymous component list is a public output too.
    const listText = await (await f.get('/api/v1/components')).text();
    expect(JSON.parse(listText).components.map((c: { name: string }) => c.name)).toContain('ABCDEF');
    expect(listText).not.toMatch(/\\u(00[01][0-9a-f]|d[89a-f][0-9a-f]{2}|fff[ef])/i);
    expect(outsideXmlChar(listText)).toEqual([]);

    // The subscriber's manage page lists component names too.
    await db.execute("INSERT INTO subscribers (id, email, confirmed_at, unsubscribe_token) VALUES ('s-poison', 'p@example.com', 1, 'tok-poison')");
    const manage = await f.get('/api/v1/subscribers/manage?token=tok-poison');
    expect(manage.status).toBe(200);
    const manageText = await manage.text();
    expect(manageText).toContain('ABCDEF');
    expect(outsideXmlChar(manageText)).toEqual([]);
  });
});

describe('output: emails of rows that already hold forbidden characters carry none', () => {
  it('subscriber email and executive briefing drop them from subject, text and HTML', async () => {
    const f = await makeFixture();
    const sink = await startSmtpSink();
    const outbox = manualOutbox(f, sink);
    try {
      await seedComponents(f);
      await confirmedSubscriber(f, 'reader@example.com');
      await addStakeholder(f, 'ceo@example.com', 'Chris CEO');
      await outbox.drain();
      sink.received.length = 0;
      const incident = await declare(f);
      const poison = 'A\uFFFFB\uFFFEC\u000BD';
      await f.services.db.$client.execute({
        sql: 'UPDATE updates SET external_subject = ?, external_body = ?, internal_subject = ?, internal_body = ? WHERE incident_id = ?',
        args: [poison, poison, poison, poison, incident.id],
      });
      await f.services.db.$client.execute({ sql: 'UPDATE incidents SET internal_title = ? WHERE id = ?', args: [poison, incident.id] });
      const stats = await outbox.drain();
      expect(stats.sent).toBe(2);
      const mails = await sink.parsed();
      expect(mails).toHaveLength(2);
      for (const m of mails) {
        // A subject is one line: the composer turns controls into spaces before the output edge sees them.
        expect(m.subject).toMatch(/^AB ?C ?D$|ABCD/);
        for (const part of [m.subject ?? '', m.text ?? '', typeof m.html === 'string' ? m.html : '']) expect(outsideXmlChar(part)).toEqual([]);
        expect(m.text).toContain('ABCD');
      }
    } finally {
      await outbox.close();
      await sink.close();
      await f.close();
    }
  });
});

// Chat channels: admins manage them; each gets the briefing in its own chat's documented message shape.
import { z } from 'zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { declare, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { countRows } from './fanout-support.ts';
import { manualHttpOutbox, startHttpSink, type HttpSink } from './cadence-support.ts';
import { chatPayload, type ChatMessage } from '../api/services/channels.ts';

let f: Fixture;
let chat: HttpSink;

beforeEach(async () => {
  f = await makeFixture();
  await seedComponents(f);
  chat = await startHttpSink();
});
afterEach(async () => {
  await chat.close();
  await f.close();
});

const mrkdwn = (max: number) => z.object({ type: z.literal('mrkdwn'), text: z.string().min(1).max(max) }).strict();
const plain = (max: number) => z.object({ type: z.literal('plain_text'), text: z.string().min(1).max(max), emoji: z.boolean().optional() }).strict();

/** Slack incoming webhook with Block Kit (api.slack.com/reference/block-kit/blocks): header, section, fields, actions. */
const slackShape = z
  .object({
    text: z.string().min(1),
    blocks: z
      .array(
        z.union([
          z.object({ type: z.literal('header'), text: plain(150) }).strict(),
          z.object({ type: z.literal('section'), text: mrkdwn(3000) }).strict(),
          z.object({ type: z.literal('section'), fields: z.array(mrkdwn(2000)).min(1).max(10) }).strict(),
          z.object({ type: z.literal('actions'), elements: z.array(z.object({ type: z.literal('button'), text: plain(75), url: z.url() }).strict()).min(1).max(25) }).strict(),
        ]),
      )
      .min(1)
      .max(50),
  })
  .strict();

/** Discord execute webhook (discord.com/developers/docs/resources/webhook): embeds with the documented limits. */
const discordShape = z
  .object({
    allowed_mentions: z.object({ parse: z.array(z.string()).length(0) }),
    embeds: z
      .array(
        z
          .object({
            title: z.string().max(256),
            description: z.string().max(4096),
            url: z.url(),
            color: z.number().int().min(0).max(0xffffff),
            fields: z.array(z.object({ name: z.string().min(1).max(256), value: z.string().min(1).max(1024), inline: z.boolean() }).strict()).max(25),
            timestamp: z.iso.datetime(),
          })
          .strict(),
      )
      .min(1)
      .max(10),
  })
  .strict();

/** Teams incoming webhook carrying an Adaptive Card (learn.microsoft.com, "Create an Incoming Webhook"; adaptivecards.io). */
const teamsShape = z
  .object({
    type: z.literal('message'),
    attachments: z
      .array(
        z
          .object({
            contentType: z.literal('application/vnd.microsoft.card.adaptive'),
            contentUrl: z.null(),
            content: z
              .object({
                $schema: z.literal('http://adaptivecards.io/schemas/adaptive-card.json'),
                type: z.literal('AdaptiveCard'),
                version: z.string().regex(/^1\.\d$/),
                body: z.array(
                  z.union([
                    z.object({ type: z.literal('TextBlock'), text: z.string(), wrap: z.boolean() }).loose(),
                    z.object({ type: z.literal('FactSet'), facts: z.array(z.object({ title: z.string(), value: z.string() }).strict()) }).strict(),
                  ]),
                ),
                actions: z.array(z.object({ type: z.literal('Action.OpenUrl'), title: z.string(), url: z.url() }).strict()),
              })
              .strict(),
          })
          .strict(),
      )
      .length(1),
  })
  .strict();

const genericShape = z
  .object({
    event: z.literal('briefing'),
    title: z.string(),
    text: z.string(),
    facts: z.record(z.string(), z.string()),
    url: z.url(),
    at: z.iso.datetime(),
    incident: z.object({ id: z.string(), title: z.string(), internalTitle: z.string(), severity: z.string().nullable(), status: z.string() }).strict(),
  })
  .strict();

describe('channels API', () => {
  it('lets an admin add, list and remove channels', async () => {
    const added = await f.call('POST', '/api/v1/channels', { body: { kind: 'discord', url: 'https://discord.com/api/webhooks/1/abc', name: 'ops' } });
    expect(added.status).toBe(201);
    const channel = (await added.json()) as { id: string; kind: string; name: string };
    expect(channel).toMatchObject({ kind: 'discord', name: 'ops' });
    const list = (await (await f.call('GET', '/api/v1/channels')).json()) as { channels: { id: string }[] };
    expect(list.channels.map((c) => c.id)).toEqual([channel.id]);
    expect((await f.call('DELETE', `/api/v1/channels/${channel.id}`)).status).toBe(204);
    expect((await f.call('DELETE', `/api/v1/channels/${channel.id}`)).status).toBe(404);
    expect(await countRows(f, 'channels')).toBe(0);
  });

  it('refuses a comms or viewer token with 403 and no token with 401', async () => {
    const body = { kind: 'slack', url: 'https://hooks.slack.com/services/x' };
    expect((await f.call('POST', '/api/v1/channels', { token: 'comms', body })).status).toBe(403);
    expect((await f.call('GET', '/api/v1/channels', { token: 'viewer' })).status).toBe(403);
    expect((await f.call('GET', '/api/v1/channels', { token: null })).status).toBe(401);
    expect(await countRows(f, 'channels')).toBe(0);
  });

  it('refuses an unknown kind or a URL that is not http(s) with problem+json naming the field, storing nothing', async () => {
    for (const [body, field] of [
      [{ kind: 'irc', url: 'https://example.com/hook' }, 'kind'],
      [{ kind: 'slack', url: 'ftp://example.com/hook' }, 'url'],
      [{ kind: 'slack', url: 'not a url' }, 'url'],
      [{ kind: 'slack' }, 'url'],
      [{ kind: 'slack', url: 'https://example.com/hook', extra: 1 }, ''],
    ] as const) {
      const res = await f.call('POST', '/api/v1/channels', { body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await res.json()) as { errors: { path: string }[] };
      if (field) expect(problem.errors.map((e) => e.path)).toContain(field);
    }
    expect(await countRows(f, 'channels')).toBe(0);
  });
});

describe('briefings in each chat format', () => {
  it('posts the internal wording to Slack, Discord, Teams and generic channels, each in its documented shape', async () => {
    for (const kind of ['slack', 'discord', 'teams', 'generic']) {
      const res = await f.call('POST', '/api/v1/channels', { body: { kind, url: `${chat.url}/${kind}` } });
      expect(res.status).toBe(201);
    }
    const http = manualHttpOutbox(f);
    try {
      await declare(f, { severity: 'SEV1', variables: { symptom: 'Sign-in fails.', hypothesis: 'INTCANARY-hypothesis the pool is exhausted' } });
      await http.drain();
    } finally {
      http.close();
    }
    const byPath = new Map(chat.posted.map((p) => [p.path, p]));
    expect([...byPath.keys()].sort()).toEqual(['/discord', '/generic', '/slack', '/teams']);
    const slack = slackShape.parse(byPath.get('/slack')!.json);
    const discord = discordShape.parse(byPath.get('/discord')!.json);
    const teams = teamsShape.parse(byPath.get('/teams')!.json);
    const generic = genericShape.parse(byPath.get('/generic')!.json);
    // Internal wording: the channel is internal, so the hypothesis is there.
    for (const p of byPath.values()) expect(p.body).toContain('INTCANARY-hypothesis');
    expect(slack.text).toBe('[SEV1] Investigating: Payments DB connection pool exhausted');
    expect(discord.embeds[0]!.url).toMatch(/^https:\/\/status\.example\.com\/internal\/incidents\/\w+\/$/);
    expect(teams.attachments[0]!.content.actions[0]!.title).toBe('Open the internal page');
    expect(generic.facts.Severity).toBe('SEV1');
    for (const p of byPath.values()) expect(p.headers['content-type']).toBe('application/json');
  });

  it('cuts long Slack text to its limits without leaving half an escaped character', () => {
    const long = `${'a'.repeat(2996)}&&&`;
    const message: ChatMessage = { event: 'briefing', tone: 'info', title: long, text: long, facts: [['Incident', `${'b'.repeat(1978)}<<<`]], link: { label: 'Open', url: 'https://status.example.com/internal/' }, at: new Date(0), incident: null };
    const slack = chatPayload('slack', message) as { text: string; blocks: { text?: { text: string }; fields?: { text: string }[] }[] };
    const texts = [slack.text, slack.blocks[1]!.text!.text, slack.blocks[2]!.fields![0]!.text];
    for (const t of texts) {
      expect(t.endsWith('…'), t.slice(-12)).toBe(true);
      expect(t).not.toMatch(/&[a-z]{0,3}…$/);
    }
    expect(texts.map((t) => t.length <= 3000)).toEqual([true, true, true]);
    expect(slack.blocks[2]!.fields![0]!.text.length).toBeLessThanOrEqual(2000);
  });

  it('escapes Slack control characters and never lets Discord wording mention everyone', async () => {
    await f.call('POST', '/api/v1/channels', { body: { kind: 'slack', url: `${chat.url}/slack` } });
    await f.call('POST', '/api/v1/channels', { body: { kind: 'discord', url: `${chat.url}/discord` } });
    const http = manualHttpOutbox(f);
    try {
      await declare(f, { severity: 'SEV1', internalTitle: 'DB down <!here>', variables: { symptom: 'x', hypothesis: '<!channel> @everyone & <https://evil.example|click>' } });
      await http.drain();
    } finally {
      http.close();
    }
    const slack = chat.posted.find((p) => p.path === '/slack')!;
    expect(slack.body).not.toContain('<!channel>');
    expect(slack.body).toContain('&lt;!channel&gt;');
    // The top-level text is mrkdwn too (the notification fallback): a title from an alert cannot ping the channel.
    expect((slack.json as { text: string }).text).toContain('DB down &lt;!here&gt;');
    const discord = discordShape.parse(chat.posted.find((p) => p.path === '/discord')!.json);
    expect(discord.allowed_mentions.parse).toEqual([]);
  });
});

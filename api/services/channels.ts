// Chat channels (internal): an admin adds Slack, Discord, Teams or plain-JSON incoming webhooks; each gets briefings and reminders in its own format.
import { and, asc, eq } from 'drizzle-orm';
import { channels, deliveries } from '../../db/schema.ts';
import { componentStatusLabel, incidentImpactStatus, isActiveIncident, type ComponentStatus, type IncidentStatus } from '../domain.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { SubjectFacts, UpdateFacts } from '../mail/compose.ts';
import { targetProblem } from '../outbox/http.ts';
import { recordAudit } from './audit.ts';
import { type Actor, type Services, withTransaction } from './context.ts';
import { describeNotice, type Notice } from './reminders.ts';
import { absolute, paths } from '../links.ts';
import { formatIn } from '../text.ts';
import { authorize } from './use-cases.ts';

export const channelKinds = ['slack', 'discord', 'teams', 'generic'] as const;
export type ChannelKind = (typeof channelKinds)[number];
/** What a person calls each kind (the console's Kind select). */
export const channelKindLabel: Record<ChannelKind, string> = { slack: 'Slack', discord: 'Discord', teams: 'Microsoft Teams', generic: 'Generic JSON' };

interface ChannelInput {
  kind: ChannelKind;
  url: string;
  name?: string | undefined;
}

export type ChannelRow = typeof channels.$inferSelect;

/** Adds a channel; the URL must be http(s). Channels are set by admins, so private addresses are allowed here. */
export async function addChannel(s: Pick<Services, 'db' | 'clock'>, actor: Actor, input: ChannelInput): Promise<ChannelRow> {
  authorize(actor, 'addChannel');
  const problem = await targetProblem(input.url, true);
  if (problem) throw new ValidationError(`The channel URL ${problem}.`, [{ path: 'url', message: problem }]);
  const now = s.clock.now();
  return withTransaction(s, async (tx) => {
    const [row] = await tx
      .insert(channels)
      .values({ id: newId(), kind: input.kind, url: input.url, name: input.name ?? `${input.kind} channel`, createdBy: actor.name, createdAt: now })
      .returning();
    await recordAudit(tx, { at: now, actor: actor, action: 'channel.added', subjectType: 'channel', subjectId: row!.id, detail: { kind: input.kind, name: row!.name } });
    return row!;
  });
}

export async function listChannels(s: Pick<Services, 'db'>): Promise<ChannelRow[]> {
  return s.db.select().from(channels).orderBy(asc(channels.createdAt), asc(channels.id));
}

/** Removes a channel; what was still waiting to go to it is marked suppressed. */
export async function removeChannel(s: Pick<Services, 'db' | 'clock'>, actor: Actor, id: string): Promise<void> {
  authorize(actor, 'removeChannel');
  const now = s.clock.now();
  await withTransaction(s, async (tx) => {
    const [row] = await tx.delete(channels).where(eq(channels.id, id)).returning();
    if (!row) throw new NotFoundError('channel', id);
    await tx
      .update(deliveries)
      .set({ status: 'suppressed', lastError: 'channel removed', leaseOwner: null, leaseUntil: null })
      .where(and(eq(deliveries.audience, 'channel'), eq(deliveries.recipientId, id), eq(deliveries.status, 'pending')));
    await recordAudit(tx, { at: now, actor: actor, action: 'channel.removed', subjectType: 'channel', subjectId: id, detail: { kind: row.kind, name: row.name } });
  });
}

/** What a chat message says, before any chat's format: a title, a paragraph, facts, and one link. */
export interface ChatMessage {
  event: 'briefing' | Notice['kind'];
  tone: 'info' | 'warning' | 'danger' | 'good';
  title: string;
  text: string;
  facts: [string, string][];
  link: { label: string; url: string };
  at: Date;
  incident: { id: string; title: string; internalTitle: string; severity: string | null; status: string } | null;
}

/** A briefing for a channel: the internal wording and the facts an executive asks for first. */
export function briefingMessage(publicUrl: string, update: UpdateFacts, about: SubjectFacts & { title: string }, timeZone = 'UTC'): ChatMessage {
  const affected = update.components.filter((c) => c.status !== 'operational');
  const told = update.audiences.public || update.audiences.subscribers;
  const severe = about.severity === 'SEV1' || about.severity === 'SEV2';
  return {
    event: 'briefing',
    tone: update.status === 'resolved' || update.status === 'completed' ? 'good' : severe ? 'danger' : 'warning',
    title: update.internalSubject,
    text: update.internalBody,
    facts: [
      ...(about.severity ? [['Severity', about.severity] as [string, string]] : []),
      ['Status', update.status],
      ['Impact', componentStatusLabel[incidentImpactStatus(about.severity, affected.map((c) => c.status as ComponentStatus), isActiveIncident(update.status as IncidentStatus))]],
      ['Incident commander', about.ic || 'Not assigned yet'],
      ['Next update due', update.nextUpdateAt ? formatIn(update.nextUpdateAt, update.createdAt, timeZone) : 'None scheduled'],
      ['What customers were told', told ? update.externalSubject : 'Nothing: not published to customers'],
    ],
    link: { label: 'Open the internal page', url: absolute(publicUrl, paths.subject('internal', update)) },
    at: update.createdAt,
    incident: update.incidentId ? { id: update.incidentId, title: about.title, internalTitle: about.internalTitle, severity: about.severity, status: update.status } : null,
  };
}

/** A reminder, overdue notice or "alerts resolved" notice for a channel. */
export function noticeMessage(notice: Notice, now: Date, timeZone = 'UTC'): ChatMessage {
  const { headline, intro, facts } = describeNotice(notice, now, timeZone);
  return {
    event: notice.kind,
    tone: notice.kind === 'overdue' ? 'danger' : notice.kind === 'due_reminder' ? 'warning' : 'info',
    title: headline,
    text: intro,
    facts,
    link: { label: 'Post update', url: notice.postUpdateUrl },
    at: now,
    incident: { id: notice.incidentId, title: notice.title, internalTitle: notice.internalTitle, severity: notice.severity, status: notice.status },
  };
}

const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
/** Slack's mrkdwn treats &, < and > as control characters (Slack API docs, "Formatting text for app surfaces"). */
const slackEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** Escaped, then cut to `max` characters without leaving half an entity (a cut "&am" would show as text). */
const slackText = (text: string, max: number) => {
  const escaped = slackEscape(text);
  return escaped.length <= max ? escaped : `${escaped.slice(0, max - 1).replace(/&[a-z]{0,3}$/, '')}…`;
};
const toneColour = { info: 0x1f6feb, warning: 0xd29922, danger: 0xcf222e, good: 0x1a7f37 } as const;

/**
 * Slack incoming webhook with Block Kit: header (plain text, ≤ 150), section (mrkdwn, ≤ 3000), a section of
 * fields (≤ 10, each ≤ 2000) and a link button; `text` is the notification fallback (Slack Block Kit reference).
 */
function slackPayload(m: ChatMessage) {
  return {
    // The notification fallback is mrkdwn as well, so it is escaped like the section text.
    text: slackText(m.title, 3000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: cut(m.title, 150), emoji: false } },
      { type: 'section', text: { type: 'mrkdwn', text: slackText(m.text, 3000) || ' ' } },
      { type: 'section', fields: m.facts.slice(0, 10).map(([k, v]) => ({ type: 'mrkdwn', text: `*${slackEscape(k)}*\n${slackText(v, 1990 - slackEscape(k).length)}` })) },
      { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: cut(m.link.label, 75) }, url: m.link.url }] },
    ],
  };
}

/**
 * Discord execute-webhook body with one embed: title ≤ 256, description ≤ 4096, ≤ 25 fields (name ≤ 256,
 * value ≤ 1024), ISO timestamp; mentions are turned off so wording cannot ping @everyone (Discord API, "Execute Webhook").
 */
function discordPayload(m: ChatMessage) {
  return {
    allowed_mentions: { parse: [] as string[] },
    embeds: [
      {
        title: cut(m.title, 256),
        description: cut(m.text, 4096),
        url: m.link.url,
        color: toneColour[m.tone],
        fields: m.facts.slice(0, 25).map(([k, v]) => ({ name: cut(k, 256), value: cut(v || '-', 1024), inline: v.length <= 40 })),
        timestamp: m.at.toISOString(),
      },
    ],
  };
}

/** Microsoft Teams incoming webhook: a message carrying an Adaptive Card 1.4 with a FactSet and an OpenUrl action. */
function teamsPayload(m: ChatMessage) {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', text: m.title, weight: 'Bolder', size: 'Medium', wrap: true, color: m.tone === 'danger' ? 'Attention' : m.tone === 'warning' ? 'Warning' : 'Default' },
            { type: 'TextBlock', text: m.text, wrap: true },
            { type: 'FactSet', facts: m.facts.map(([title, value]) => ({ title, value })) },
          ],
          actions: [{ type: 'Action.OpenUrl', title: m.link.label, url: m.link.url }],
        },
      },
    ],
  };
}

/** Plain JSON for anything else: the message as data. */
function genericPayload(m: ChatMessage) {
  return { event: m.event, title: m.title, text: m.text, facts: Object.fromEntries(m.facts), url: m.link.url, at: m.at.toISOString(), incident: m.incident };
}

export function chatPayload(kind: string, m: ChatMessage): unknown {
  switch (kind) {
    case 'slack':
      return slackPayload(m);
    case 'discord':
      return discordPayload(m);
    case 'teams':
      return teamsPayload(m);
    default:
      return genericPayload(m);
  }
}

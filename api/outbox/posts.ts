// Turns claimed channel and webhook deliveries into signed HTTP posts: chat messages in each chat's format, Statuspage envelopes (incident and component).
import { inArray } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import type { Queryable } from '../../db/client.ts';
import { channels, incidents, maintenances, updates, webhookSubscribers } from '../../db/schema.ts';
import { systemClock, type Clock } from '../clock.ts';
import { unsubscribeUrl, type SubjectFacts } from '../mail/compose.ts';
import { briefingMessage, chatPayload, noticeMessage } from '../services/channels.ts';
import { loadNotices } from '../services/reminders.ts';
import { componentUpdateEnvelopes, webhookEnvelope } from '../services/webhooks.ts';
import { httpSender, type HttpRequest } from './http.ts';
import type { Claimed } from './leases.ts';
import type { Courier, Prepared } from './courier.ts';

/** The recipient kinds reached over HTTP. */
export const httpRecipientKinds = ['channel', 'webhook'] as const;

export interface HttpCourierOptions {
  db: Queryable;
  publicUrl: string;
  /** TIME_ZONE: the zone chat messages show times in (UTC when absent). */
  timeZone?: string | undefined;
  /** Whether webhook subscribers may resolve to private addresses (WEBHOOK_ALLOW_PRIVATE); channels always may. */
  webhookAllowPrivate: boolean;
  /** The webhook-timestamp header is real time, whatever the domain clock says: receivers check it against theirs. */
  signingClock?: Clock;
  timeoutMs?: number;
}

const unique = <T>(values: (T | null | undefined)[]) => [...new Set(values.filter((v): v is T => v !== null && v !== undefined))];

/** The HTTP courier: one keep-alive sender for admin-set channels, one that refuses private addresses for webhook subscribers. */
export function httpCourier(o: HttpCourierOptions): Courier<HttpRequest & { audience: string }> & { close(): void } {
  const channelSender = httpSender({ allowPrivate: true, timeoutMs: o.timeoutMs });
  const webhookSender = httpSender({ allowPrivate: o.webhookAllowPrivate, timeoutMs: o.timeoutMs });
  const signingClock = o.signingClock ?? systemClock;
  // An envelope (minus meta) per update, built once for a whole fan-out; small, since updates come one at a time.
  const envelopes = new Map<string, { head: string } | null>();

  async function envelopeHead(updateId: string) {
    if (!envelopes.has(updateId)) {
      if (envelopes.size > 50) envelopes.clear();
      const envelope = await webhookEnvelope(o.db, o.publicUrl, updateId);
      // Serialised once; each subscriber's meta is put in front of it.
      envelopes.set(updateId, envelope ? { head: JSON.stringify(envelope).slice(1) } : null);
    }
    return envelopes.get(updateId)!;
  }

  async function prepare(rows: Claimed[], now: Date): Promise<Prepared<HttpRequest & { audience: string }>[]> {
    const channelIds = unique(rows.map((r) => (r.audience === 'channel' ? r.recipientId : null)));
    const webhookIds = unique(rows.map((r) => (r.audience === 'webhook' ? r.recipientId : null)));
    const briefingIds = unique(rows.map((r) => (r.audience === 'channel' && r.kind === 'briefing' ? r.updateId : null)));
    const [channelRows, webhookRows, briefed] = await Promise.all([
      channelIds.length ? o.db.select().from(channels).where(inArray(channels.id, channelIds)) : [],
      webhookIds.length ? o.db.select().from(webhookSubscribers).where(inArray(webhookSubscribers.id, webhookIds)) : [],
      briefingIds.length ? o.db.select().from(updates).where(inArray(updates.id, briefingIds)) : [],
    ]);
    const channelMap = new Map(channelRows.map((c) => [c.id, c]));
    const webhookMap = new Map(webhookRows.map((w) => [w.id, w]));
    const updateMap = new Map(briefed.map((u) => [u.id, u]));
    const incidentIds = unique(briefed.map((u) => u.incidentId));
    const maintenanceIds = unique(briefed.map((u) => (u.incidentId ? null : u.maintenanceId)));
    const [incidentRows, maintenanceRows] = await Promise.all([
      incidentIds.length ? o.db.select().from(incidents).where(inArray(incidents.id, incidentIds)) : [],
      maintenanceIds.length ? o.db.select().from(maintenances).where(inArray(maintenances.id, maintenanceIds)) : [],
    ]);
    const subjects = new Map<string, SubjectFacts & { title: string }>([
      ...incidentRows.map((i): [string, SubjectFacts & { title: string }] => [i.id, { title: i.title, internalTitle: i.internalTitle, severity: i.severity, startedAt: i.startedAt, mitigatedAt: i.mitigatedAt, resolvedAt: i.resolvedAt, ic: i.roles.ic }]),
      ...maintenanceRows.map((m): [string, SubjectFacts & { title: string }] => [m.id, { title: m.title, internalTitle: m.internalTitle, severity: null, startedAt: m.startedAt, mitigatedAt: null, resolvedAt: null, ic: undefined }]),
    ]);
    const noticeRows = rows.filter((r) => r.audience === 'channel' && r.kind !== 'briefing');
    const notices = noticeRows.length ? await loadNotices(o.db, noticeRows, o.publicUrl, now) : new Map();
    const componentSeqs = unique(rows.map((r) => (r.audience === 'webhook' && r.kind === 'component_update' ? r.seq : null)));
    const componentEnvelopes = componentSeqs.length ? await componentUpdateEnvelopes(o.db, o.publicUrl, componentSeqs) : new Map<number, Record<string, unknown>>();

    const out: Prepared<HttpRequest & { audience: string }>[] = [];
    for (const row of rows) {
      const messageId = `msg_${row.id}`;
      if (row.audience === 'channel') {
        const channel = channelMap.get(row.recipientId);
        if (!channel) {
          out.push({ skip: 'channel removed' });
          continue;
        }
        let message;
        if (row.kind === 'briefing') {
          const update = row.updateId ? updateMap.get(row.updateId) : undefined;
          const about = update ? subjects.get(update.incidentId ?? update.maintenanceId ?? '') : undefined;
          if (!update || !about) {
            out.push({ skip: 'the update no longer exists' });
            continue;
          }
          message = briefingMessage(o.publicUrl, update, about, o.timeZone);
        } else {
          const notice = notices.get(row.id);
          if (!notice || 'skip' in notice) {
            out.push(notice ?? { skip: 'the incident no longer exists' });
            continue;
          }
          message = noticeMessage(notice, now, o.timeZone);
        }
        out.push({ payload: { audience: 'channel', url: channel.url, headers: {}, body: JSON.stringify(chatPayload(channel.kind, message)) }, messageId, bounced: false });
        continue;
      }
      if (row.audience === 'webhook' && (row.kind === 'update' || row.kind === 'component_update') && row.updateId) {
        const subscriber = webhookMap.get(row.recipientId);
        if (!subscriber) {
          out.push({ skip: 'unsubscribed' });
          continue;
        }
        if (subscriber.disabledAt) {
          out.push({ skip: 'disabled after repeated failures' });
          continue;
        }
        let head: string;
        if (row.kind === 'update') {
          const envelope = await envelopeHead(row.updateId);
          if (!envelope) {
            out.push({ skip: 'the update is not public' });
            continue;
          }
          head = envelope.head;
        } else {
          const envelope = componentEnvelopes.get(row.seq ?? 0);
          if (!envelope) {
            out.push({ skip: 'the component no longer exists' });
            continue;
          }
          head = JSON.stringify(envelope).slice(1);
        }
        // Statuspage's meta: the unsubscribe link, where the payload is documented, and when it was generated (signed).
        const at = signingClock.now();
        const meta = { unsubscribe: unsubscribeUrl(o, subscriber.unsubscribeToken), documentation: `${o.publicUrl}/api/docs`, generated_at: at.toISOString() };
        const body = `{"meta":${JSON.stringify(meta)},${head}`;
        const signature = new Webhook(subscriber.secret).sign(messageId, at, body);
        out.push({
          payload: {
            audience: 'webhook',
            url: subscriber.url,
            headers: { 'webhook-id': messageId, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature },
            body,
          },
          messageId,
          bounced: subscriber.failures > 0,
        });
        continue;
      }
      out.push({ skip: `no HTTP message for a ${row.kind} to a ${row.audience}` });
    }
    return out;
  }

  return {
    name: 'HTTP',
    recipientKinds: httpRecipientKinds,
    prepare,
    send: (request) => (request.audience === 'webhook' ? webhookSender : channelSender).send(request),
    close() {
      channelSender.close();
      webhookSender.close();
    },
  };
}

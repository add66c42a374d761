// /maintenance.ics: every upcoming or in-progress maintenance window as an iCalendar event (RFC 5545), so customers can plan around it.
import { and, asc, gt, inArray, or, eq } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { maintenances } from '../../db/schema.ts';
import { activeMaintenanceStatuses, upcomingMaintenanceStatuses } from '../domain.ts';
import { absolute, paths } from '../links.ts';
import type { SiteFile } from './output.ts';
import { loadMaintenanceComponents } from './records.ts';
import type { SiteSettings } from './view-model.ts';

/** "20261123T120000Z": a UTC date-time (RFC 5545 3.3.5, form #2). */
const utc = (at: Date) => at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/** Escapes a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma, and line breaks as \n. */
const text = (value: string) =>
  value
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '')
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r?\n/g, '\\n');

/** Folds a content line to at most 75 octets per line (RFC 5545 3.1), never inside a UTF-8 character. */
function fold(line: string): string {
  const out: string[] = [];
  let current = '';
  let octets = 0;
  for (const ch of line) {
    const size = Buffer.byteLength(ch);
    // The first line holds 75 octets; each continuation line starts with a space, leaving 74.
    if (octets + size > (out.length === 0 ? 75 : 74)) {
      out.push(current);
      current = '';
      octets = 0;
    }
    current += ch;
    octets += size;
  }
  out.push(current);
  return out.join('\r\n ');
}

/**
 * The calendar: one VEVENT per window that is scheduled, in progress or verifying, and per cancelled window whose
 * end is still ahead (as STATUS:CANCELLED, so calendars that took it drop it). The UID is the window's id at the
 * page's host, stable for its life; SEQUENCE is its version less one, raised by every change (a moved window, a
 * status change). DTSTAMP is when the window last changed, so the file is byte-identical until something changes.
 */
export async function maintenanceCalendarFile(db: Queryable, settings: SiteSettings, now: Date): Promise<SiteFile> {
  const rows = await db
    .select()
    .from(maintenances)
    .where(
      or(
        inArray(maintenances.status, [...upcomingMaintenanceStatuses, ...activeMaintenanceStatuses]),
        and(eq(maintenances.status, 'cancelled'), gt(maintenances.scheduledUntil, now)),
      ),
    )
    .orderBy(asc(maintenances.scheduledFor), asc(maintenances.id));
  const covered = await loadMaintenanceComponents(db, rows.map((m) => m.id));
  const host = new URL(settings.publicUrl).hostname;
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//statusdesk//maintenance calendar//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${text(`${settings.pageName}: maintenance`)}`,
  ];
  for (const m of rows) {
    const names = (covered.get(m.id) ?? []).map((c) => c.name).join(', ');
    const url = absolute(settings.publicUrl, paths.maintenance('public', m.id));
    const start = m.startedAt ?? m.scheduledFor;
    // A window started by hand after its planned end still needs an end after its start (RFC 5545 3.6.1).
    const end = new Date(Math.max(m.scheduledUntil.getTime(), start.getTime() + 60_000));
    lines.push(
      'BEGIN:VEVENT',
      `UID:${m.id}@${host}`,
      `DTSTAMP:${utc(m.updatedAt)}`,
      `LAST-MODIFIED:${utc(m.updatedAt)}`,
      `SEQUENCE:${m.version - 1}`,
      `DTSTART:${utc(start)}`,
      `DTEND:${utc(end)}`,
      `SUMMARY:${text(`Maintenance: ${m.title}`)}`,
      `DESCRIPTION:${text(`${names ? `Affects ${names}.\n` : ''}Details and updates: ${url}`)}`,
      `URL:${url}`,
      `STATUS:${m.status === 'cancelled' ? 'CANCELLED' : 'CONFIRMED'}`,
      'TRANSP:TRANSPARENT',
      'END:VEVENT',
    );
  }
  lines.push('END:VCALENDAR');
  return { path: 'maintenance.ics', body: `${lines.map(fold).join('\r\n')}\r\n` };
}

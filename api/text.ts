// How the domain reads in words, for every output (site, feed, email, briefings): status labels, paragraphs, names, durations, times.
import {
  componentStatusLabel,
  incidentStatusLabel,
  maintenanceStatusLabel,
  type ComponentStatus,
  type UpdateStatusValue,
} from './domain.ts';

/** The label of an update's status, whether the update belongs to an incident or a maintenance ("Monitoring", "In progress"). */
export function updateStatusLabel(status: UpdateStatusValue): string {
  return (incidentStatusLabel as Record<string, string>)[status] ?? (maintenanceStatusLabel as Record<string, string>)[status]!;
}

/** "Major outage" as it reads inside a sentence: "major outage". */
export function componentStatusPhrase(status: ComponentStatus): string {
  return componentStatusLabel[status].toLowerCase();
}

/**
 * A wording's paragraphs: split at blank lines (a line with only spaces counts as blank), trimmed, empty ones dropped.
 * Single line breaks stay inside a paragraph; each output decides how to show them.
 */
export function paragraphs(text: string): string[] {
  return text
    .split(/\r?\n[ \t]*\r?\n/)
    .map((p) => p.trim())
    .filter(Boolean);
}

/** The lines of one paragraph, for outputs that keep single line breaks (email). */
export function lines(paragraph: string): string[] {
  return paragraph.split(/\r?\n/);
}

/** "API", "API and Dashboard", "API, Dashboard and Webhooks". */
export function joinNames(names: string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** The noun for `n` of it: "minute" for 1, "minutes" otherwise (plural by adding s). */
export const plural = (n: number, noun: string) => (n === 1 ? noun : `${noun}s`);

/** "1 hour 5 minutes"; whole minutes, because nobody reads seconds during an outage. */
export function humanDuration(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 1) return 'less than a minute';
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const part = (n: number, unit: string) => (n === 0 ? '' : `${n} ${plural(n, unit)}`);
  return [part(days, 'day'), part(hours, 'hour'), days > 0 ? '' : part(mins, 'minute')].filter(Boolean).join(' ');
}

const utcDay = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });

/** "14:30 UTC" today, "Tue 24 Nov 14:30 UTC" on another day: always UTC, with the zone named. */
export function formatUtc(at: Date, now: Date): string {
  const time = at.toISOString().slice(11, 16);
  if (at.toISOString().slice(0, 10) === now.toISOString().slice(0, 10)) return `${time} UTC`;
  return `${utcDay.format(at).replace(',', '')} ${time} UTC`;
}

const zoneFormats = new Map<string, { day: Intl.DateTimeFormat; time: Intl.DateTimeFormat }>();

/**
 * "15:30 CET" on the same day (in `timeZone`) as `now`, "Tue 24 Nov 15:30 CET" on another: in TIME_ZONE with the
 * zone's short name (en-GB's, "GMT-8" where it has no abbreviation). In UTC, exactly formatUtc.
 */
export function formatIn(at: Date, now: Date, timeZone = 'UTC'): string {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return formatUtc(at, now);
  let f = zoneFormats.get(timeZone);
  if (!f) {
    f = {
      day: new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone }),
      time: new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short', timeZone }),
    };
    zoneFormats.set(timeZone, f);
  }
  const time = f.time.format(at);
  const day = f.day.format(at);
  if (day === f.day.format(now)) return time;
  return `${day.replace(',', '').replace(/ \d{4}$/, '')} ${time}`;
}

/** Who hears about an incident, in words: "Public page, subscribers and executives". */
export function describeReach(a: { public: boolean; subscribers: boolean; stakeholders: boolean }): string {
  const known: Record<string, string> = {
    'true,true,true': 'Public page, subscribers and executives',
    'false,false,true': 'Internal page and executives only',
    'false,false,false': 'Internal page only',
  };
  const parts = [a.public && 'public page', a.subscribers && 'subscribers', a.stakeholders && 'executives'].filter((p): p is string => Boolean(p));
  return known[`${a.public},${a.subscribers},${a.stakeholders}`] ?? joinNames(parts);
}

// Days and months in the page's time zone, and how a moment reads on a page: in the page's zone, with the zone named.

/** A calendar day in the page's time zone, "2026-11-23". */
export type Day = string;
/** A calendar month in the page's time zone, "2026-11". */
export type Month = string;

export interface TimeView {
  /** For <time datetime>. */
  iso: string;
  /** "23 Nov 2026, 14:05 UTC", "23 Nov 2026, 15:05 CET": in the page's TIME_ZONE, the zone named. */
  text: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function zoned(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function wallClock(at: Date, timeZone: string) {
  const p: Record<string, number> = {};
  for (const part of zoned(timeZone).formatToParts(at)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { year: p.year!, month: p.month!, day: p.day!, hour: p.hour! % 24, minute: p.minute!, second: p.second! };
}

/** Offsets per zone per quarter hour (every zone changes its offset on a quarter hour): Intl is slow, days are many. */
const offsets = new Map<string, Map<number, number>>();
const quarter = 15 * 60_000;

function cachedOffset(at: Date, timeZone: string): number {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return 0;
  let zone = offsets.get(timeZone);
  if (!zone || zone.size > 100_000) offsets.set(timeZone, (zone = new Map()));
  const slot = Math.floor(at.getTime() / quarter);
  let offset = zone.get(slot);
  if (offset === undefined) zone.set(slot, (offset = offsetAt(new Date(slot * quarter), timeZone)));
  return offset;
}

export function dayOf(at: Date, timeZone: string): Day {
  return new Date(at.getTime() + cachedOffset(at, timeZone)).toISOString().slice(0, 10);
}

const dayMs = 24 * 60 * 60_000;

/** The zone's calendar day of a moment as a day number (days since 1970-01-01): dayOf without making a string. */
export function dayNumberOf(at: Date, timeZone: string): number {
  return Math.floor((at.getTime() + cachedOffset(at, timeZone)) / dayMs);
}

/** The day number of a Day (days since 1970-01-01). */
export function dayNumber(day: Day): number {
  return Date.parse(`${day}T00:00:00Z`) / dayMs;
}

export function monthOf(at: Date, timeZone: string): Month {
  return dayOf(at, timeZone).slice(0, 7);
}

/** How far the zone's wall clock is ahead of UTC at a moment, in ms. */
function offsetAt(at: Date, timeZone: string): number {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return 0;
  const w = wallClock(at, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** The moment a day begins in the zone (midnight, or the first moment after a DST gap). */
export function startOfDay(day: Day, timeZone: string): Date {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const guess = Date.UTC(y, m - 1, d);
  const first = guess - offsetAt(new Date(guess), timeZone);
  const second = guess - offsetAt(new Date(first), timeZone);
  return new Date(second);
}

export function startOfMonth(month: Month, timeZone: string): Date {
  return startOfDay(`${month}-01`, timeZone);
}

export function addDays(day: Day, n: number): Day {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

export function addMonths(month: Month, n: number): Month {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1 + n, 1)).toISOString().slice(0, 7);
}

/** Months from `first` to `last`, both included, oldest first. */
export function monthsBetween(first: Month, last: Month): Month[] {
  const months: Month[] = [];
  for (let m = first; m <= last; m = addMonths(m, 1)) months.push(m);
  return months;
}

const dayLabels = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const shortDayLabels = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
const monthLabels = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', month: 'long', year: 'numeric' });
const timeLabels = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric' });

/** "Monday 23 November 2026": a calendar day, so formatted as a date, not as a moment. */
export function dayLabel(day: Day): string {
  return dayLabels.format(new Date(`${day}T12:00:00Z`)).replace(',', '');
}

/** "Mon 23 Nov 2026" */
export function shortDayLabel(day: Day): string {
  return shortDayLabels.format(new Date(`${day}T12:00:00Z`)).replace(',', '');
}

export function monthLabel(month: Month): string {
  return monthLabels.format(new Date(`${month}-15T12:00:00Z`));
}

const momentLabels = new Map<string, Intl.DateTimeFormat>();

/**
 * "23 Nov 2026, 15:05 CET": a moment on the zone's wall clock with the zone's short name (en-GB's, e.g. "GMT-8" where
 * it has no abbreviation). The same words site/public/local-time.js writes in the reader's zone.
 */
export function momentText(at: Date, timeZone: string): string {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return `${timeLabels.format(at)}, ${at.toISOString().slice(11, 16)} UTC`;
  let f = momentLabels.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
    momentLabels.set(timeZone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(at)) p[part.type] = part.value;
  return `${p.day} ${p.month} ${p.year}, ${p.hour}:${p.minute} ${p.timeZoneName}`;
}

/** A moment for a page: the UTC instant for <time datetime>, the words in `timeZone` (TIME_ZONE; UTC by default). */
export function timeView(at: Date, timeZone = 'UTC'): TimeView {
  return { iso: at.toISOString(), text: momentText(at, timeZone) };
}

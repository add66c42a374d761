// Keeps the incidents behind the 90-day bars between renders: each render reads their ids and versions, and reads again only the ones that changed.
import { and, gte, isNull, lte, or, sql } from 'drizzle-orm';
import { selectArrays, type Queryable } from '../../db/client.ts';
import { incidents, type ComponentImpact } from '../../db/schema.ts';
import { loadImpacts, loadIncidents, loadPublicImpactTimelines, type ReaderPolicy, type IncidentRecord } from './records.ts';

interface Kept {
  version: number;
  record: IncidentRecord;
  impacts: ComponentImpact[];
  /** Its public updates' impacts, oldest first: what uptime is measured from (empty for an incident the public never saw). */
  timeline: { createdAt: Date; components: ComponentImpact[] }[];
}

/**
 * By database handle, then reader: the incidents of the last render's window. Every change to an incident bumps its
 * version (decision 003), so an unchanged version means an unchanged record and impact; at 10,000 incidents this
 * turns the front page's largest read (every incident of 90 days and the worst impact each had, from its updates)
 * into one narrow scan plus the incidents that moved.
 */
const kept = new WeakMap<object, Map<string, Map<string, Kept>>>();

/**
 * The incidents this reader sees whose impact overlaps [from, to] (started by `to`, not resolved before `from`),
 * newest start first, with each one's worst impact per component: what loadIncidents({ overlapping }) and
 * loadImpacts return, read again only for incidents whose version moved since the last call.
 */
export async function barIncidents(
  db: Queryable,
  a: ReaderPolicy,
  span: { from: Date; to: Date },
): Promise<{ recent: IncidentRecord[]; impacts: Map<string, ComponentImpact[]>; timelines: Map<string, Kept['timeline']> }> {
  // Thousands of rows on a busy page: read as one JSON text (selectArrays), not an object per row.
  const rows = (
    await selectArrays<[id: string, version: number]>(
      db,
      [sql`${incidents.id}`, sql`${incidents.version}`],
      sql`FROM ${incidents} WHERE ${and(a.seesIncident, lte(incidents.startedAt, span.to), or(isNull(incidents.resolvedAt), gte(incidents.resolvedAt, span.from)))}`,
      sql`${incidents.startedAt} DESC, ${incidents.id}`,
    )
  ).map(([id, version]) => ({ id, version }));
  let byReader = kept.get(db);
  if (!byReader) kept.set(db, (byReader = new Map()));
  let cache = byReader.get(a.name);
  if (!cache) byReader.set(a.name, (cache = new Map()));
  const known = cache;
  const stale = rows.filter((r) => known.get(r.id)?.version !== r.version);
  if (stale.length > 0) {
    const ids = stale.map((r) => r.id);
    const [records, impacts, timelines] = await Promise.all([loadIncidents(db, a, { ids }), loadImpacts(db, a, ids), loadPublicImpactTimelines(db, ids)]);
    const versions = new Map(stale.map((r) => [r.id, r.version]));
    for (const record of records) {
      known.set(record.id, { version: versions.get(record.id)!, record, impacts: impacts.get(record.id) ?? [], timeline: timelines.get(record.id) ?? [] });
    }
  }
  const inWindow = new Set(rows.map((r) => r.id));
  for (const id of known.keys()) if (!inWindow.has(id)) known.delete(id);
  // An incident that changed between the two reads is kept under the older version read first: the next render
  // reads it again. One that stopped being visible in between is left out.
  const present = rows.filter((r) => known.has(r.id));
  return {
    recent: present.map((r) => known.get(r.id)!.record),
    impacts: new Map(present.map((r) => [r.id, known.get(r.id)!.impacts])),
    timelines: new Map(present.map((r) => [r.id, known.get(r.id)!.timeline])),
  };
}

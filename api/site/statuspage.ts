// The Statuspage-compatible public JSON (/api/v2/*.json): the documents, built from the one Statuspage serializer (api/statuspage.ts).
import { xmlSafeJson } from '../characters.ts';
import { activeMaintenanceStatuses, upcomingMaintenanceStatuses } from '../domain.ts';
import { componentsJson, incidentJson, maintenanceJson, pageId, statuspageCatalog, statuspageStatus } from '../statuspage.ts';
import type { SiteFile } from './output.ts';
import {
  readers,
  lastChange,
  loadIncidents,
  loadMaintenanceComponents,
  loadMaintenances,
  loadPostmortems,
  loadUpdates,
  type IncidentRecord,
  type MaintenanceRecord,
} from './records.ts';
import type { SiteReading } from './view-model.ts';

export { pageId };

/** The list endpoints carry the 50 most recent, as Statuspage's do. */
const listLimit = 50;

const iso = (at: Date) => at.toISOString();

function byId<T extends { incidentId: string | null; maintenanceId: string | null }>(rows: T[]) {
  const map = new Map<string, T[]>();
  for (const r of rows) {
    const id = r.incidentId ?? r.maintenanceId!;
    map.set(id, [...(map.get(id) ?? []), r]);
  }
  return map;
}

/**
 * Which documents: `polled` are the ones status widgets poll (summary.json, status.json), which a render swaps in
 * first, with the front page; `lists` are the rest (components and the incident and maintenance lists).
 */
export type StatuspageDocuments = 'polled' | 'lists';

/**
 * The /api/v2 documents, read through the public reader only: external wording, SEV1/SEV2 incidents. Each set reads
 * only what it shows: the polled documents the active incidents and maintenance, the lists the 50 most recent.
 */
export async function statuspageFiles(r: SiteReading, which: StatuspageDocuments[] = ['polled', 'lists']): Promise<SiteFile[]> {
  if (r.reader !== readers.public) throw new Error('/api/v2 shows what the public sees: read the site as the public reader');
  const { db, settings, now, components } = r;
  const a = readers.public;
  const polled = which.includes('polled');
  const lists = which.includes('lists');
  const none = Promise.resolve([]);
  const [recent, unresolved, windows, upcoming, active, changed] = await Promise.all([
    lists ? loadIncidents(db, a, { limit: listLimit }) : none,
    loadIncidents(db, a, { active: true }),
    lists ? loadMaintenances(db, a, { limit: listLimit }) : none,
    loadMaintenances(db, a, { statuses: [...upcomingMaintenanceStatuses] }),
    loadMaintenances(db, a, { statuses: [...activeMaintenanceStatuses] }),
    lastChange(db, a),
  ]);
  const incidentIds = [...new Set([...recent, ...unresolved].map((i) => i.id))];
  const maintenanceIds = [...new Set([...windows, ...upcoming, ...active].map((m) => m.id))];
  const [incidentUpdates, maintenanceUpdates, covered, postmortems] = await Promise.all([
    loadUpdates(db, a, { incidentIds }),
    loadUpdates(db, a, { maintenanceIds }),
    loadMaintenanceComponents(db, maintenanceIds),
    loadPostmortems(db, a, incidentIds),
  ]);
  const timelines = byId([...incidentUpdates, ...maintenanceUpdates]);
  const cat = statuspageCatalog(settings.publicUrl, components);
  const incident = (i: IncidentRecord) => incidentJson(cat, i, timelines.get(i.id) ?? [], postmortems.get(i.id));
  const maintenance = (m: MaintenanceRecord) => maintenanceJson(cat, m, timelines.get(m.id) ?? [], covered.get(m.id) ?? []);

  // The same page status as the banner and webhooks (SPEC "Agreement: one status truth"; api/status.ts readPageStatus).
  const status = statuspageStatus(await r.pageStatus());
  const soonestFirst = [...upcoming].reverse();
  const page = { id: cat.pageId, name: settings.pageName, url: settings.publicUrl, time_zone: settings.timeZone, updated_at: iso(changed ?? now) };
  const documents: Record<string, unknown> = {
    ...(polled && {
      'summary.json': {
        page,
        components: componentsJson(cat),
        incidents: unresolved.map(incident),
        scheduled_maintenances: [...active, ...soonestFirst].map(maintenance),
        status,
      },
      'status.json': { page, status },
    }),
    ...(lists && {
      'components.json': { page, components: componentsJson(cat) },
      'incidents.json': { page, incidents: recent.map(incident) },
      'incidents/unresolved.json': { page, incidents: unresolved.map(incident) },
      'scheduled-maintenances.json': { page, scheduled_maintenances: windows.map(maintenance) },
      'scheduled-maintenances/upcoming.json': { page, scheduled_maintenances: soonestFirst.map(maintenance) },
      'scheduled-maintenances/active.json': { page, scheduled_maintenances: active.map(maintenance) },
    }),
  };
  return Object.entries(documents).map(([name, body]) => ({ path: `api/v2/${name}`, body: JSON.stringify(body, xmlSafeJson) }));
}

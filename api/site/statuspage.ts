// The Statuspage-compatible public JSON (/api/v2/*.json): the documents, built from the one Statuspage serializer (api/statuspage.ts).
import type { Queryable } from '../../db/client.ts';
import { xmlSafeJson } from '../characters.ts';
import { activeMaintenanceStatuses, upcomingMaintenanceStatuses } from '../domain.ts';
import { readPageStatus } from '../status.ts';
import { componentsJson, incidentJson, maintenanceJson, pageId, statuspageCatalog, statuspageStatus } from '../statuspage.ts';
import type { SiteFile } from './output.ts';
import {
  readers,
  lastChange,
  loadComponents,
  loadIncidents,
  loadMaintenanceComponents,
  loadMaintenances,
  loadPostmortems,
  loadUpdates,
  type IncidentRecord,
  type MaintenanceRecord,
} from './records.ts';
import type { SiteSettings } from './view-model.ts';

export { pageId };

/** The documents status widgets poll: a render swaps them in first, with the front page. */
export const polledDocuments = new Set(['api/v2/summary.json', 'api/v2/status.json']);

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

/** Every /api/v2 document, read through the public reader only: external wording, SEV1/SEV2 incidents. */
export async function statuspageFiles(db: Queryable, settings: SiteSettings, now: Date): Promise<SiteFile[]> {
  const a = readers.public;
  const [components, recent, unresolved, windows, upcoming, active, changed] = await Promise.all([
    loadComponents(db, a),
    loadIncidents(db, a, { limit: listLimit }),
    loadIncidents(db, a, { active: true }),
    loadMaintenances(db, a, { limit: listLimit }),
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
  const status = statuspageStatus(await readPageStatus(db, 'public', components));
  const soonestFirst = [...upcoming].reverse();
  const page = { id: cat.pageId, name: settings.pageName, url: settings.publicUrl, time_zone: settings.timeZone, updated_at: iso(changed ?? now) };
  const documents: Record<string, unknown> = {
    'summary.json': {
      page,
      components: componentsJson(cat),
      incidents: unresolved.map(incident),
      scheduled_maintenances: [...active, ...soonestFirst].map(maintenance),
      status,
    },
    'status.json': { page, status },
    'components.json': { page, components: componentsJson(cat) },
    'incidents.json': { page, incidents: recent.map(incident) },
    'incidents/unresolved.json': { page, incidents: unresolved.map(incident) },
    'scheduled-maintenances.json': { page, scheduled_maintenances: windows.map(maintenance) },
    'scheduled-maintenances/upcoming.json': { page, scheduled_maintenances: soonestFirst.map(maintenance) },
    'scheduled-maintenances/active.json': { page, scheduled_maintenances: active.map(maintenance) },
  };
  return Object.entries(documents).map(([name, body]) => ({ path: `api/v2/${name}`, body: JSON.stringify(body, xmlSafeJson) }));
}

// The domain vocabulary: lifecycles, the worst-status rule, roles and the small wording helpers, checked as tables and properties.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roleAllows, roles } from '../api/services/tokens.ts';
import {
  activeIncidentStatuses,
  activeMaintenanceStatuses,
  closedIncidentStatuses,
  componentRank,
  componentStatuses,
  currentImpact,
  defaultSeverityPolicy,
  finishedMaintenanceStatuses,
  incidentStatuses,
  incidentTransitionError,
  isActiveIncident,
  isActiveMaintenance,
  maintenanceStatuses,
  maintenanceTransitionError,
  pageStatus,
  severities,
  incidentImpactStatus,
  componentStatusEnum,
  statuspageUpdateStatus,
  type ComponentStatus,
  upcomingMaintenanceStatuses,
  updateStatuses,
  worstStatus,
} from '../api/domain.ts';
import { absolute, paths, unsubscribeUrl } from '../api/links.ts';
import { formatUtc, humanDuration, joinNames, lines, paragraphs, updateStatusLabel } from '../api/text.ts';

describe('incident lifecycle', () => {
  const open = ['investigating', 'identified', 'monitoring'] as const;

  it('moves forward, skipping steps, and repeats the current status', () => {
    for (const [i, from] of updateStatuses.entries()) {
      for (const to of updateStatuses.slice(i)) {
        if (from === 'resolved' && to !== 'resolved') continue;
        expect(incidentTransitionError(from, to), `${from} → ${to}`).toBeNull();
      }
    }
  });

  it('refuses to move an open incident backwards', () => {
    expect(incidentTransitionError('monitoring', 'identified')).toMatch(/back/);
    expect(incidentTransitionError('monitoring', 'investigating')).toMatch(/back/);
    expect(incidentTransitionError('identified', 'investigating')).toMatch(/back/);
  });

  it('reopens a resolved incident only explicitly', () => {
    for (const to of open) {
      expect(incidentTransitionError('resolved', to)).toMatch(/reopen/);
      expect(incidentTransitionError('resolved', to, false)).toMatch(/reopen/);
      expect(incidentTransitionError('resolved', to, true)).toBeNull();
      expect(incidentTransitionError('postmortem', to)).toMatch(/reopen/);
      expect(incidentTransitionError('postmortem', to, true)).toBeNull();
    }
  });

  it('never posts postmortem as an update, and does not resolve a postmortem again', () => {
    for (const from of incidentStatuses) expect(incidentTransitionError(from, 'postmortem', true)).not.toBeNull();
    expect(incidentTransitionError('postmortem', 'resolved')).not.toBeNull();
  });

  it('property: reopen only ever matters for a closed incident', () => {
    fc.assert(
      fc.property(fc.constantFrom(...incidentStatuses), fc.constantFrom(...incidentStatuses), (from, to) => {
        const closed = from === 'resolved' || from === 'postmortem';
        if (!closed) expect(incidentTransitionError(from, to, true)).toBe(incidentTransitionError(from, to, false));
      }),
    );
  });
});

describe('maintenance lifecycle', () => {
  it('follows scheduled → in_progress → verifying → completed, or cancelled before it starts', () => {
    const allowed = new Set([
      'scheduled>scheduled',
      'scheduled>in_progress',
      'scheduled>verifying',
      'scheduled>completed',
      'scheduled>cancelled',
      'in_progress>in_progress',
      'in_progress>verifying',
      'in_progress>completed',
      'verifying>verifying',
      'verifying>in_progress',
      'verifying>completed',
    ]);
    for (const from of maintenanceStatuses) {
      for (const to of maintenanceStatuses) {
        const error = maintenanceTransitionError(from, to);
        if (allowed.has(`${from}>${to}`)) expect(error, `${from} → ${to}`).toBeNull();
        else expect(error, `${from} → ${to}`).toEqual(expect.any(String));
      }
    }
    expect(maintenanceTransitionError('completed', 'in_progress')).toMatch(/cannot change/);
  });
});

describe('derived component status', () => {
  it('is operational with no impacts', () => {
    expect(worstStatus([])).toBe('operational');
  });

  it('ranks major_outage worst and under_maintenance below any incident impact', () => {
    expect(worstStatus(['degraded_performance', 'major_outage', 'partial_outage'])).toBe('major_outage');
    expect(worstStatus(['under_maintenance', 'degraded_performance'])).toBe('degraded_performance');
    expect(worstStatus(['under_maintenance', 'operational'])).toBe('under_maintenance');
  });

  it('property: the worst is one of the inputs (or operational), ranks at least as high as each, and ignores order', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...componentStatuses), { maxLength: 8 }), (list) => {
        const worst = worstStatus(list);
        expect([...list, 'operational']).toContain(worst);
        for (const s of list) expect(componentRank(worst)).toBeGreaterThanOrEqual(componentRank(s));
        expect(worstStatus([...list].reverse())).toBe(worst);
      }),
    );
  });
});

describe('roles and the severity policy', () => {
  it('admin ⊇ comms ⊇ viewer', () => {
    expect(roles.filter((r) => roleAllows(r, 'viewer'))).toEqual(['viewer', 'comms', 'admin']);
    expect(roles.filter((r) => roleAllows(r, 'comms'))).toEqual(['comms', 'admin']);
    expect(roles.filter((r) => roleAllows(r, 'admin'))).toEqual(['admin']);
  });

  it('sends SEV1/SEV2 everywhere, SEV3 to executives only, SEV4 nowhere', () => {
    expect(defaultSeverityPolicy.SEV1).toEqual({ public: true, subscribers: true, stakeholders: true });
    expect(defaultSeverityPolicy.SEV2).toEqual({ public: true, subscribers: true, stakeholders: true });
    expect(defaultSeverityPolicy.SEV3).toEqual({ public: false, subscribers: false, stakeholders: true });
    expect(defaultSeverityPolicy.SEV4).toEqual({ public: false, subscribers: false, stakeholders: false });
  });
});

describe('wording helpers', () => {
  it('joins names in prose', () => {
    expect(joinNames([])).toBe('');
    expect(joinNames(['API'])).toBe('API');
    expect(joinNames(['API', 'Dashboard'])).toBe('API and Dashboard');
    expect(joinNames(['API', 'Dashboard', 'Webhooks'])).toBe('API, Dashboard and Webhooks');
  });

  it('says durations in whole minutes, hours and days', () => {
    expect(humanDuration(-5)).toBe('less than a minute');
    expect(humanDuration(59_999)).toBe('less than a minute');
    expect(humanDuration(60_000)).toBe('1 minute');
    expect(humanDuration(65 * 60_000)).toBe('1 hour 5 minutes');
    expect(humanDuration(2 * 60 * 60_000)).toBe('2 hours');
    expect(humanDuration(26 * 60 * 60_000 + 5 * 60_000)).toBe('1 day 2 hours');
  });

  it('formats times in UTC with the zone named, with the day when it is not today', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    expect(formatUtc(new Date('2026-11-23T14:30:00Z'), now)).toBe('14:30 UTC');
    expect(formatUtc(new Date('2026-11-24T02:00:00Z'), now)).toBe('Tue 24 Nov 02:00 UTC');
  });

  it('property: a duration never reads empty', () => {
    fc.assert(fc.property(fc.integer({ min: -1e9, max: 1e11 }), (ms) => humanDuration(ms).trim().length > 0));
  });
});

describe('the page status: Statuspage\'s blend of component statuses (decision 011)', () => {
  const table: [string, Parameters<typeof pageStatus>[0], string, string][] = [
    ['no components', [], 'none', 'All Systems Operational'],
    ['all operational', ['operational', 'operational'], 'none', 'All Systems Operational'],
    ['maintenance and nothing worse', ['operational', 'under_maintenance'], 'maintenance', 'Service Under Maintenance'],
    ['one component, major outage', ['major_outage'], 'critical', 'Major System Outage'],
    ['every component in major outage', ['major_outage', 'major_outage'], 'critical', 'Major System Outage'],
    ['one of many in major outage', ['major_outage', 'operational', 'operational'], 'major', 'Partial System Outage'],
    ['every component in partial outage', ['partial_outage', 'partial_outage'], 'major', 'Partial System Outage'],
    ['some in partial outage', ['partial_outage', 'operational'], 'minor', 'Minor Service Outage'],
    ['every component degraded', ['degraded_performance', 'degraded_performance'], 'minor', 'Degraded System Service'],
    ['one component, degraded', ['degraded_performance'], 'minor', 'Partially Degraded Service'],
    ['some degraded, one under maintenance', ['degraded_performance', 'under_maintenance'], 'minor', 'Partially Degraded Service'],
  ];
  it.each(table)('%s', (_what, statuses, indicator, description) => {
    expect(pageStatus(statuses)).toMatchObject({ indicator, description, worst: worstStatus(statuses) });
  });

  it('property: never calmer than the worst component, never "none" while anything is impaired', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...componentStatuses), { maxLength: 6 }), (statuses) => {
        const { indicator, worst } = pageStatus(statuses);
        expect(worst).toBe(worstStatus(statuses));
        expect(indicator === 'none').toBe(worst === 'operational');
        expect(indicator === 'maintenance').toBe(worst === 'under_maintenance');
        if (worst === 'major_outage') expect(['major', 'critical']).toContain(indicator);
      }),
    );
  });
});

describe('the page status with active incidents (SPEC "One door", decision 014)', () => {
  const sev = (severity: 'SEV1' | 'SEV2' | 'SEV3' | 'SEV4', impacts: ComponentStatus[] = []) => ({ severity, impacts });
  const table: [string, ComponentStatus[], ReturnType<typeof sev>[], string, string][] = [
    ['a SEV1 naming no component, all operational', ['operational', 'operational'], [sev('SEV1')], 'critical', 'Major System Outage'],
    ['a SEV2 naming no component', ['operational'], [sev('SEV2')], 'major', 'Partial System Outage'],
    ['a SEV2 that set its component back to operational', ['operational'], [sev('SEV2', ['operational'])], 'major', 'Partial System Outage'],
    ['a SEV1 that impairs one of many: the blend speaks', ['major_outage', 'operational'], [sev('SEV1', ['major_outage'])], 'major', 'Partial System Outage'],
    ['a SEV2 naming none beside maintenance', ['under_maintenance'], [sev('SEV2')], 'major', 'Partial System Outage'],
    ['a SEV2 naming none while everything is down: the worse wins', ['major_outage'], [sev('SEV2')], 'critical', 'Major System Outage'],
    ['an insider\'s SEV3 naming none', ['operational'], [sev('SEV3')], 'minor', 'Minor Service Outage'],
  ];
  it.each(table)('%s', (_what, statuses, incidents, indicator, description) => {
    expect(pageStatus(statuses, incidents)).toMatchObject({ indicator, description });
  });

  it('property: never "none" while an active incident is listed, never calmer than the blend', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...componentStatuses), { maxLength: 5 }),
        fc.array(fc.record({ severity: fc.constantFrom(...severities), impacts: fc.array(fc.constantFrom(...componentStatuses), { maxLength: 3 }) }), { minLength: 1, maxLength: 3 }),
        (others, incidents) => {
          // Each impact an incident records is in force on a live component, so it is among the statuses.
          const statuses = [...others, ...incidents.flatMap((i) => i.impacts)];
          const order = ['none', 'maintenance', 'minor', 'major', 'critical'];
          const page = pageStatus(statuses, incidents);
          expect(page.indicator).not.toBe('none');
          expect(order.indexOf(page.indicator)).toBeGreaterThanOrEqual(order.indexOf(pageStatus(statuses).indicator));
        },
      ),
    );
  });

  it('an incident card reads as its severity while open and impairing nothing, as recorded otherwise', () => {
    expect(incidentImpactStatus('SEV1', [], true)).toBe('major_outage');
    expect(incidentImpactStatus('SEV2', ['operational'], true)).toBe('partial_outage');
    expect(incidentImpactStatus('SEV1', ['degraded_performance'], true)).toBe('degraded_performance');
    expect(incidentImpactStatus('SEV1', [], false)).toBe('operational');
    expect(incidentImpactStatus(null, ['under_maintenance'], true)).toBe('under_maintenance');
  });

  it('statuses carry their Statuspage names in one place', () => {
    for (const s of componentStatuses) expect(componentStatusEnum[s].statuspage).toBe(s);
    expect(statuspageUpdateStatus('cancelled')).toBe('completed');
    expect(statuspageUpdateStatus('postmortem')).toBe('postmortem');
    expect(componentStatuses.map((s) => componentStatusEnum[s].rank)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('named status sets', () => {
  it('split each lifecycle without overlap or gap', () => {
    expect([...activeIncidentStatuses, ...closedIncidentStatuses].sort()).toEqual([...incidentStatuses].sort());
    expect([...upcomingMaintenanceStatuses, ...activeMaintenanceStatuses, ...finishedMaintenanceStatuses].sort()).toEqual([...maintenanceStatuses].sort());
    for (const s of incidentStatuses) expect(isActiveIncident(s)).toBe((activeIncidentStatuses as readonly string[]).includes(s));
    for (const s of maintenanceStatuses) expect(isActiveMaintenance(s)).toBe((activeMaintenanceStatuses as readonly string[]).includes(s));
  });

  it('an incident affects its components only while active', () => {
    for (const s of incidentStatuses) expect(currentImpact(s, 'major_outage')).toBe(isActiveIncident(s) ? 'major_outage' : 'operational');
  });
});

describe('wording helpers and links', () => {
  it('splits paragraphs at blank lines, including lines of spaces and CRLF, and keeps single line breaks', () => {
    expect(paragraphs('One\nstill one\n\nTwo\r\n \r\nThree\n\n\n')).toEqual(['One\nstill one', 'Two', 'Three']);
    expect(lines('a\nb')).toEqual(['a', 'b']);
  });

  it('labels every update status, incident or maintenance', () => {
    expect(updateStatusLabel('monitoring')).toBe('Monitoring');
    expect(updateStatusLabel('in_progress')).toBe('In progress');
    for (const s of [...incidentStatuses, ...maintenanceStatuses]) expect(updateStatusLabel(s)).toMatch(/^[A-Z]/);
  });

  it('builds each page\'s path once, per audience', () => {
    expect(paths.incident('public', 'abc')).toBe('/incidents/abc/');
    expect(paths.incident('internal', 'abc')).toBe('/internal/incidents/abc/');
    expect(paths.subject('public', { incidentId: null, maintenanceId: 'm1' })).toBe('/maintenances/m1/');
    expect(paths.day('public', '2026-11-23')).toBe('/history/2026-11/#day-2026-11-23');
    expect(absolute('https://status.example.com', paths.feed())).toBe('https://status.example.com/feed.xml');
    expect(unsubscribeUrl({ publicUrl: 'https://s.example' }, 'a b')).toBe('https://s.example/api/v1/subscribers/unsubscribe?token=a%20b');
  });
});

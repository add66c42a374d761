// The domain vocabulary: lifecycles, the worst-status rule, roles and the small wording helpers, checked as tables and properties.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roleAllows, roles } from '../api/services/tokens.ts';
import {
  componentRank,
  componentStatuses,
  defaultSeverityPolicy,
  incidentStatuses,
  incidentTransitionError,
  maintenanceStatuses,
  maintenanceTransitionError,
  updateStatuses,
  worstStatus,
} from '../api/domain.ts';
import { formatUtc, humanDuration, joinNames } from '../api/text.ts';

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

// Built-in links in template wording: a maintenance links its own page (maintenance_url), never an incident's; old templates keep working.
import { describe, expect, it } from 'vitest';
import { parseTemplate, renderTemplate } from '../api/templates.ts';
import { incidentBuiltins, maintenanceBuiltins } from '../api/services/wording.ts';

const maintenanceTemplate = (body: string) => `---
key: window-note
kind: maintenance
name: Window note
description: A note about a window.
statuses: [scheduled]
subject:
  external: "Planned: {{ title }}"
  internal: "Planned: {{ title }}"
variables: []
---

## External

${body}

## Internal

${body}
`;

const window = {
  id: 'm1',
  title: 'Database upgrade',
  internalTitle: 'PG 16 upgrade',
  scheduledFor: new Date('2026-11-24T02:00:00Z'),
  scheduledUntil: new Date('2026-11-24T04:00:00Z'),
  startedAt: null,
  nextUpdateAt: null,
  components: [{ name: 'API' }],
};
const now = new Date('2026-11-23T12:00:00Z');
const links = { publicUrl: 'https://status.example.com' };

describe('link built-ins', () => {
  it('gives maintenance templates maintenance_url: the public page in the external wording, the internal page in the internal one', () => {
    const template = parseTemplate('window-note.md', maintenanceTemplate('Details: {{ maintenance_url }}'));
    const rendered = renderTemplate(template, {}, maintenanceBuiltins(window, links, now));
    expect(rendered.external.body).toBe('Details: https://status.example.com/maintenances/m1/');
    expect(rendered.internal.body).toBe('Details: https://status.example.com/internal/maintenances/m1/');
  });

  it('keeps incident_url working in maintenance templates written before maintenance_url, naming the same page', () => {
    const template = parseTemplate('window-note.md', maintenanceTemplate('Details: {{ incident_url }}'));
    expect(renderTemplate(template, {}, maintenanceBuiltins(window, links, now)).external.body).toBe('Details: https://status.example.com/maintenances/m1/');
  });

  it('refuses maintenance_url in an incident template at start-up, naming the file', () => {
    const text = maintenanceTemplate('See {{ maintenance_url }}').replace('kind: maintenance', 'kind: incident').replace('[scheduled]', '[investigating]');
    expect(() => parseTemplate('window-note.md', text)).toThrow(/window-note\.md[\s\S]*maintenance_url/);
  });

  it('links an incident template to the incident page', () => {
    const b = incidentBuiltins(
      { id: 'i1', title: 'T', internalTitle: 'IT', severity: 'SEV1', startedAt: now, nextUpdateAt: null, roles: {}, components: [{ name: 'API', status: 'major_outage' }] },
      links,
      now,
    );
    expect(b.external.incident_url).toBe('https://status.example.com/incidents/i1/');
    expect(b.internal.incident_url).toBe('https://status.example.com/internal/incidents/i1/');
    expect(b.internal.impact).toBe('major outage');
  });
});

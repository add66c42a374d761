// SVG badges for customers' own apps and docs: the page status at /badge.svg, each component's at /badge/{componentId}.svg.
import { componentStatusLabel, type ComponentStatus } from '../domain.ts';
import { escapeHtml } from '../html.ts';
import type { SiteFile } from './output.ts';
import { readers } from './records.ts';
import type { SiteReading } from './view-model.ts';

/**
 * The badge colours: the light theme's status colours (site/styles/site.css), each at least 4.5:1 against the
 * white words on it, so the status reads in words and in colour alike.
 */
const badgeColour: Record<ComponentStatus, string> = {
  operational: '#1d7a3e',
  under_maintenance: '#2450b5',
  degraded_performance: '#8a5a00',
  partial_outage: '#b4460c',
  major_outage: '#b42318',
};
const labelColour = '#4a4d52';


/** Roughly how wide text is at 11 px Verdana, as shields.io-style badges measure it: enough that nothing is clipped. */
const textWidth = (text: string) => Math.ceil([...text].length * 7.2) + 12;

/**
 * One badge: `label` on grey, `message` on the status colour, with a `<title>` (and aria-label) naming both, so a
 * screen reader and a hover read the status in words.
 */
export function badgeSvg(label: string, message: string, status: ComponentStatus, title: string): string {
  const [lw, mw] = [textWidth(label), textWidth(message)];
  const w = lw + mw;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" viewBox="0 0 ${w} 20" role="img" aria-label="${escapeHtml(title)}">
<title>${escapeHtml(title)}</title>
<rect width="${lw}" height="20" rx="3" fill="${labelColour}"/>
<rect x="${lw}" width="${mw}" height="20" rx="3" fill="${badgeColour[status]}"/>
<rect x="${lw - 3}" width="6" height="20" fill="${badgeColour[status]}"/>
<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">
<text x="${lw / 2}" y="14">${escapeHtml(label)}</text>
<text x="${lw + mw / 2}" y="14">${escapeHtml(message)}</text>
</g>
</svg>
`;
}

/** The page's badge (Statuspage's wording of the blended status, as summary.json gives it) and one per live component. */
export async function badgeFiles(r: SiteReading): Promise<SiteFile[]> {
  if (r.reader !== readers.public) throw new Error('badges show what the public sees: read the site as the public reader');
  const { components, settings } = r;
  const page = await r.pageStatus();
  return [
    { path: 'badge.svg', body: badgeSvg('status', page.description, page.worst, `${settings.pageName}: ${page.description}`) },
    ...components.map((c) => ({
      path: `badge/${c.id}.svg`,
      body: badgeSvg(c.name, componentStatusLabel[c.status], c.status, `${settings.pageName}, ${c.name}: ${componentStatusLabel[c.status]}`),
    })),
  ];
}

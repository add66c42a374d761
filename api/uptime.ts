// Uptime from the record: how long each public incident's impact kept a component down, weighed by impact, as a share of a window.
import type { ComponentImpact } from '../db/schema.ts';
import { downtimeWeight, type ComponentStatus } from './domain.ts';

/** One stretch of one impact on one component, epoch ms, [from, to). */
export interface ImpactSpan {
  componentId: string;
  status: ComponentStatus;
  from: number;
  to: number;
}

/**
 * The stretches of impact an incident put on its components, from the public updates of its timeline (oldest first):
 * each update's recorded impact holds until the next update, the first one from when impact began (`startedAt`, which
 * may be before the declaration), the last one until `resolvedAt`, or `now` while the incident is open.
 */
export function impactSpans(incident: { startedAt: Date; resolvedAt: Date | null }, timeline: { createdAt: Date; components: ComponentImpact[] }[], now: Date): ImpactSpan[] {
  const spans: ImpactSpan[] = [];
  const end = (incident.resolvedAt ?? now).getTime();
  timeline.forEach((u, k) => {
    const from = k === 0 ? Math.min(incident.startedAt.getTime(), u.createdAt.getTime()) : u.createdAt.getTime();
    const to = Math.min(end, k + 1 < timeline.length ? timeline[k + 1]!.createdAt.getTime() : end);
    if (to <= from) return;
    for (const c of u.components) if (downtimeWeight[c.status] > 0) spans.push({ componentId: c.id, status: c.status, from, to });
  });
  return spans;
}

/**
 * Weighted downtime of one component within [from, to), in ms: where several incidents overlap, the heaviest impact
 * counts once (two overlapping major outages are one outage, not two). Spans of other components are ignored.
 */
export function downtimeMs(spans: ImpactSpan[], componentId: string, from: number, to: number): number {
  const edges: { at: number; weight: number; open: boolean }[] = [];
  for (const s of spans) {
    if (s.componentId !== componentId) continue;
    const a = Math.max(from, s.from);
    const b = Math.min(to, s.to);
    if (b <= a) continue;
    const weight = downtimeWeight[s.status];
    edges.push({ at: a, weight, open: true }, { at: b, weight, open: false });
  }
  if (edges.length === 0) return 0;
  edges.sort((x, y) => x.at - y.at);
  // How many spans of each weight are open; there are only a few distinct weights, so the heaviest is a short scan.
  const open = new Map<number, number>();
  let total = 0;
  let last = edges[0]!.at;
  for (const e of edges) {
    let heaviest = 0;
    for (const [w, n] of open) if (n > 0 && w > heaviest) heaviest = w;
    total += (e.at - last) * heaviest;
    last = e.at;
    open.set(e.weight, (open.get(e.weight) ?? 0) + (e.open ? 1 : -1));
  }
  return total;
}

/**
 * Weighted downtime of one component in each window [bounds[k], bounds[k + 1]) (bounds ascending, epoch ms), in ms:
 * what downtimeMs gives for each window, with each span looked at only for the windows it overlaps — 90 days of
 * bars cost one pass over the spans, not ninety.
 */
export function downtimeByWindow(spans: ImpactSpan[], componentId: string, bounds: number[]): number[] {
  const windows = Math.max(0, bounds.length - 1);
  const inWindow: ImpactSpan[][] = Array.from({ length: windows }, () => []);
  for (const s of spans) {
    if (s.componentId !== componentId || windows === 0) continue;
    // The last window starting at or before the span (binary search), then on while windows start before it ends.
    let lo = 0;
    let hi = windows - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (bounds[mid]! <= s.from) lo = mid;
      else hi = mid - 1;
    }
    for (let k = lo; k < windows && bounds[k]! < s.to; k++) if (bounds[k + 1]! > s.from) inWindow[k]!.push(s);
  }
  return inWindow.map((list, k) => (list.length ? downtimeMs(list, componentId, bounds[k]!, bounds[k + 1]!) : 0));
}

/**
 * Uptime in percent over a window of `windowMs`, given the downtime in it; always within [0, 100]. Days before a
 * component existed hold no downtime, so they count as up (SPEC: a young component is neither credited nor punished).
 */
export function uptimePercent(down: number, windowMs: number): number {
  if (windowMs <= 0) return 100;
  return Math.min(100, Math.max(0, 100 * (1 - down / windowMs)));
}

/** "99.95 % uptime": rounded down to hundredths, so a page never shows 100 % for a component that was down. */
export function uptimeText(percent: number): string {
  const floored = Math.floor(percent * 100) / 100;
  return `${floored.toFixed(2)} % uptime`;
}

// Uptime arithmetic on its own (seeded properties): downtime adds up across days, never exceeds its window, and medians stay within their inputs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quantile } from '../api/services/reliability.ts';
import { downtimeByWindow, downtimeMs, impactSpans, uptimePercent, uptimeText, type ImpactSpan } from '../api/uptime.ts';

const hour = 3_600_000;
const span = fc.record({
  componentId: fc.constantFrom('api', 'dashboard'),
  status: fc.constantFrom('major_outage', 'partial_outage', 'degraded_performance', 'under_maintenance') as fc.Arbitrary<ImpactSpan['status']>,
  from: fc.integer({ min: 0, max: 200 * hour }),
  length: fc.integer({ min: 1, max: 50 * hour }),
}).map(({ length, ...s }) => ({ ...s, to: s.from + length }));

describe('uptime arithmetic', () => {
  it('counts overlapping outages once, at the heaviest impact: two major outages at once are one outage', () => {
    const spans: ImpactSpan[] = [
      { componentId: 'api', status: 'major_outage', from: 0, to: 2 * hour },
      { componentId: 'api', status: 'major_outage', from: hour, to: 3 * hour },
      { componentId: 'api', status: 'partial_outage', from: 0, to: 10 * hour },
      { componentId: 'api', status: 'degraded_performance', from: 0, to: 24 * hour },
    ];
    expect(downtimeMs(spans, 'api', 0, 24 * hour)).toBe(3 * hour + 0.3 * 7 * hour);
    expect(downtimeMs(spans, 'dashboard', 0, 24 * hour)).toBe(0);
  });

  it('starts an incident’s first impact when impact began, and ends its last at resolution', () => {
    const at = (h: number) => new Date(h * hour);
    const spans = impactSpans({ startedAt: at(1), resolvedAt: at(5) }, [
      { createdAt: at(2), components: [{ id: 'api', name: 'API', status: 'partial_outage' }] },
      { createdAt: at(3), components: [{ id: 'api', name: 'API', status: 'major_outage' }] },
      { createdAt: at(5), components: [{ id: 'api', name: 'API', status: 'operational' }] },
    ], at(9));
    expect(spans).toEqual([
      { componentId: 'api', status: 'partial_outage', from: hour, to: 3 * hour },
      { componentId: 'api', status: 'major_outage', from: 3 * hour, to: 5 * hour },
    ]);
  });

  it('adds up across any split of the window, never exceeds the window, and keeps uptime within 0..100', () => {
    fc.assert(
      fc.property(fc.array(span, { maxLength: 25 }), fc.integer({ min: 0, max: 260 * hour }), fc.integer({ min: 0, max: 260 * hour }), (spans, x, y) => {
        const [a, c] = [0, 260 * hour];
        const b = Math.min(x, c);
        const whole = downtimeMs(spans, 'api', a, c);
        expect(downtimeMs(spans, 'api', a, b) + downtimeMs(spans, 'api', b, c)).toBeCloseTo(whole, 3);
        expect(whole).toBeGreaterThanOrEqual(0);
        expect(whole).toBeLessThanOrEqual(c - a);
        const p = uptimePercent(whole, c - a);
        expect(p >= 0 && p <= 100).toBe(true);
        expect(uptimePercent(downtimeMs(spans, 'api', 0, y), y)).toBeLessThanOrEqual(100);
      }),
    );
  });

  it('gives each day of the bars what downtimeMs gives that day alone, for any days and spans', () => {
    fc.assert(
      fc.property(fc.array(span, { maxLength: 40 }), fc.array(fc.integer({ min: 1, max: 30 * hour }), { minLength: 0, maxLength: 12 }), fc.integer({ min: -20 * hour, max: 100 * hour }), (spans, lengths, start) => {
        const bounds = [start];
        for (const length of lengths) bounds.push(bounds.at(-1)! + length);
        const daily = downtimeByWindow(spans, 'api', bounds);
        expect(daily).toHaveLength(Math.max(0, bounds.length - 1));
        daily.forEach((down, k) => expect(down).toBeCloseTo(downtimeMs(spans, 'api', bounds[k]!, bounds[k + 1]!), 3));
      }),
    );
  });

  it('keeps medians and p90s within the range of their inputs, median not above p90', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 60 }), (values) => {
        const sorted = [...values].sort((p, q) => p - q);
        const median = quantile(sorted, 0.5)!;
        const p90 = quantile(sorted, 0.9)!;
        expect(median).toBeGreaterThanOrEqual(sorted[0]!);
        expect(p90).toBeLessThanOrEqual(sorted.at(-1)!);
        expect(median).toBeLessThanOrEqual(p90);
      }),
    );
    expect(quantile([], 0.5)).toBeNull();
  });

  it('never shows 100 % for a component that was down, however briefly', () => {
    expect(uptimeText(uptimePercent(1, 90 * 24 * hour))).toBe('99.99 % uptime');
    expect(uptimeText(100)).toBe('100.00 % uptime');
  });
});

// Generators for the API fuzz tests: arbitrary JSON, raw non-JSON bodies, and near-valid bodies with a few fields broken.
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Fixture } from './fixture.ts';

/** Values that have broken parsers before: wrong types, huge and odd strings, control characters, edge numbers. */
export const nasty: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('\r', '\n', '\0', '\t', '\u2028', '\u007f', '\u001b', 'a', ' ', '\ufeff', '\ud800'), maxLength: 12 }),
  fc.integer(),
  fc.integer({ min: -1_000_000, max: -1 }),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -0, 1e308, 0.5, 2 ** 53 + 1),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('', ' ', 'x'.repeat(5_000), 'é'.repeat(70_000), '😀'.repeat(2_000)),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    '../../etc/passwd',
    '{{ severity }}',
    '{% include "secret" %}',
    '{% raw %}',
    '<script>alert(1)</script>',
    "'; DROP TABLE incidents; --",
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '2026-02-29T00:00:00Z',
    '2026-11-23T12:00:00+14:00',
    '2026-11-23',
    'NaN',
    'Infinity',
    '-1',
  ),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);

const OMIT = Symbol('omit');

/** Keeps most fields valid and breaks a few: replaced by a nasty value, a field-specific near miss, or left out; plus extra keys. */
export function nearValid(valid: fc.Arbitrary<Record<string, unknown>>, special: Record<string, fc.Arbitrary<unknown>> = {}) {
  return valid.chain((v) => {
    const keys = [...new Set([...Object.keys(v), ...Object.keys(special)])];
    // A third of the bodies stay valid except for fitting variations, the rest break one to three fields.
    // (A die rather than fc.oneof weights: fast-check's bias would otherwise break far more bodies than intended.)
    const broken = fc.nat(9).chain((n) => (n < 5 ? fc.constant([] as string[]) : fc.subarray(keys, { minLength: 1, maxLength: Math.min(3, keys.length) })));
    return broken.chain((chosen) => memo(v, chosen.join('\0'), () => mutated(v, keys, new Set(chosen), special)));
  });
}

// Building an arbitrary costs more than drawing from it; valid bodies come from small fixed sets, so build each once.
const built = new WeakMap<object, Map<string, fc.Arbitrary<Record<string, unknown>>>>();
function memo(v: object, key: string, build: () => fc.Arbitrary<Record<string, unknown>>) {
  let byKey = built.get(v);
  if (!byKey) built.set(v, (byKey = new Map()));
  let arb = byKey.get(key);
  if (!arb) byKey.set(key, (arb = build()));
  return arb;
}

function mutated(v: Record<string, unknown>, keys: string[], broken: Set<string>, special: Record<string, fc.Arbitrary<unknown>>) {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const key of keys) {
    const choices: fc.WeightedArbitrary<unknown>[] = [];
    if (broken.has(key)) {
      choices.push({ weight: 3, arbitrary: nasty }, { weight: 1, arbitrary: fc.constant(OMIT) });
      if (special[key]) choices.push({ weight: 3, arbitrary: special[key]! });
    } else if (key in v) {
      choices.push({ weight: 1, arbitrary: fc.constant(v[key]) });
    } else {
      // An optional field the valid body left out: usually still left out, sometimes a fitting value.
      choices.push({ weight: 4, arbitrary: fc.constant(OMIT) }, { weight: 1, arbitrary: special[key]! });
    }
    fields[key] = fc.oneof(...choices);
  }
  // Extra keys count as breaking the body (the schemas are strict), so only broken bodies get them, half of the time.
  const extra =
    broken.size === 0
      ? fc.constant(null)
      : fc.option(fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('__proto__', 'constructor', 'id', 'status')), nasty, { maxKeys: 2 }), { freq: 2 });
  return fc.record({ fields: fc.record(fields), extra }).map(({ fields, extra }) => {
    const out: Record<string, unknown> = {};
    for (const [k, value] of Object.entries(fields)) if (value !== OMIT) out[k] = value;
    if (extra) for (const [k, value] of Object.entries(extra)) Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
    return out;
  });
}

/** Variables: the template's own names and random ones, with fitting and unfitting values. */
export function variablesArb(names: string[], examples: Record<string, string>[]) {
  return fc.oneof(
    fc.constantFrom(...examples),
    fc.dictionary(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 12 }), fc.stringMatching(/^[a-z][a-z0-9_]{0,70}$/)), fc.oneof(fc.string({ maxLength: 200 }), nasty), {
      maxKeys: 8,
    }),
    fc.constantFrom(...examples).chain((e) =>
      fc.record({ name: fc.constantFrom(...Object.keys(e), 'zzz'), value: nasty }).map(({ name, value }) => ({ ...e, [name]: value })),
    ),
    fc.constant(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`v${i}`, 'x']))),
  );
}

export const isoDate = fc.oneof(
  fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2040-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2026-11-23T11:00:00Z', '2026-11-23T13:00:00+01:00', '2026-11-24T02:00:00.123456Z', '2026-11-23T12:00:00', '2026-13-01T00:00:00Z'),
);

export interface FuzzRequest {
  body?: unknown;
  raw?: string;
  contentType?: string | undefined;
  headers: Record<string, string>;
}

/** Mostly absent or well-formed, sometimes odd: a header that is always broken would hide the body from the fuzzer. */
const headerValue = (wellFormed: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: wellFormed },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 20 }) },
  );

/** What one endpoint receives: mostly near-valid JSON, some arbitrary JSON, some raw text, with optional headers. */
export function requestArb(near: fc.Arbitrary<unknown>, options: { ifMatch?: boolean; idempotency?: boolean } = {}): fc.Arbitrary<FuzzRequest> {
  const body = fc.oneof(
    { weight: 6, arbitrary: near.map((b) => ({ body: b })) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((b) => ({ body: b })) },
    { weight: 1, arbitrary: fc.object({ maxDepth: 2, values: [fc.jsonValue({ maxDepth: 1 })] }).map((b) => ({ body: b })) },
    {
      weight: 1,
      arbitrary: fc.record({
        raw: fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('{', '{"a":', '[1,2', 'null', '', '\u0000', '{"title":"x"}}', '\ufeff{}')),
        contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined),
      }),
    },
  );
  const headers = fc.record({
    'if-match': options.ifMatch ? headerValue(fc.integer({ min: 0, max: 40 }).map((n) => `"${n}"`)) : fc.constant(undefined),
    'idempotency-key': options.idempotency ? headerValue(fc.uuid()) : fc.constant(undefined),
  });
  return fc.tuple(body, headers).map(
    ([b, h]) => ({ ...(b as object), headers: Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string> }) as FuzzRequest,
  );
}

export interface Endpoint {
  name: string;
  method: string;
  path: fc.Arbitrary<string>;
  token: 'admin' | 'comms' | 'viewer' | null;
  request: fc.Arbitrary<FuzzRequest>;
}

/** Sends numRuns generated requests to one endpoint; any answer ≥ 500 fails with the request that caused it. */
export async function fuzz(f: Fixture, endpoint: Endpoint, numRuns = 1000) {
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(endpoint.path, endpoint.request, async (path, req) => {
      const headers = { ...req.headers };
      if (req.contentType !== undefined) headers['content-type'] = req.contentType;
      const res = await f.call(endpoint.method, path, {
        token: endpoint.token,
        headers,
        ...(req.raw !== undefined ? { raw: req.raw } : { body: req.body }),
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500) {
        throw new Error(`${endpoint.method} ${path} answered ${res.status}: ${await res.text()}`);
      }
      if (res.status >= 400) {
        // Every refusal is problem+json with the four fields.
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        const problem = await res.json();
        expect(problem).toMatchObject({ type: expect.any(String), title: expect.any(String), status: res.status, detail: expect.any(String) });
      } else {
        await res.arrayBuffer();
      }
    }),
    { numRuns, endOnFailure: true },
  );
  // FUZZ_STATS=1 prints how the answers spread, to check the generators still reach the deep paths.
  if (process.env.FUZZ_STATS) console.info(endpoint.name, JSON.stringify([...statuses].sort()));
  return statuses;
}

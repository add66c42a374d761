// The JSON shape of what the API returns: dates become ISO 8601 strings, everything else passes through.
import { xmlSafeJson } from '../characters.ts';

/** `T` with every Date (however deeply nested) replaced by the ISO string JSON.stringify writes for it. */
type Jsonified<T> = T extends Date ? string : T extends (infer U)[] ? Jsonified<U>[] : T extends object ? { [K in keyof T]: Jsonified<T[K]> } : T;

/**
 * A plain JSON copy of a service's view, typed as what the client receives. Characters XML 1.0 forbids, in rows stored
 * before input refused them, are dropped as on every other output (api/characters.ts).
 */
export function jsonify<T>(value: T): Jsonified<T> {
  return JSON.parse(JSON.stringify(value, xmlSafeJson)) as Jsonified<T>;
}

// The seam between the outbox worker and one way of sending (email, HTTP): what a courier prepares and sends.
import type { Claimed } from './leases.ts';

/** What to do with a claimed delivery: send this payload (recorded under messageId), or mark it suppressed for the reason given. */
export type Prepared<P> = { payload: P; messageId: string; bounced: boolean } | { skip: string };

/**
 * One kind of sending (email, HTTP): which recipient kinds it claims, how it turns rows into payloads, and how it sends.
 * `send` resolves once the other side accepted the payload and throws a SendFailure otherwise.
 */
export interface Courier<P> {
  name: string;
  recipientKinds: readonly string[];
  prepare(rows: Claimed[], now: Date): Promise<Prepared<P>[]>;
  send(payload: P): Promise<void>;
}

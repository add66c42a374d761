// Refuses request bodies over a size with 413, after reading the rest of the body so the client receives the answer, and closes the connection.
import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { DomainError } from '../errors.ts';
import { discardRest } from './unread-body.ts';

/** The largest request body any route takes: 1 MiB. */
const maxBodyBytes = 1024 * 1024;

/**
 * Middleware: a body over `maxBytes` (by Content-Length, or counted while a chunked body streams in) is refused
 * with DomainError 413. Before the answer, the rest of the body is read and discarded (discardRest, bounded): a
 * server that answers and closes while the client is still sending resets the connection, and the client may see
 * the reset instead of the 413 (issue 17). The answer carries `Connection: close` (RFC 9112 §9.6). A body within the
 * limit is buffered and handed on, as Hono's bodyLimit does; that middleware cannot read on after the limit.
 */
export function requestBodyLimit(maxBytes = maxBodyBytes): MiddlewareHandler {
  const tooLarge = () =>
    new DomainError(413, 'Payload too large', `The request body is larger than ${maxBytes === maxBodyBytes ? '1 MiB' : `${maxBytes} bytes`}.`);
  return createMiddleware(async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    const chunked = c.req.raw.headers.has('transfer-encoding');
    const declared = c.req.raw.headers.get('content-length');
    if (!chunked && declared !== null && Number.parseInt(declared, 10) <= maxBytes) return next();
    const reader = body.getReader();
    const refuse = async () => {
      await discardRest(reader);
      c.header('connection', 'close');
      throw tooLarge();
    };
    if (!chunked && declared !== null) return refuse();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) return refuse();
      chunks.push(value);
    }
    c.req.raw = new Request(c.req.raw, { body: Buffer.concat(chunks, size) });
    return next();
  });
}

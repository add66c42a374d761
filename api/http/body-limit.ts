// Refuses request bodies over a size with 413 and closes the connection, whose unread rest would otherwise be the next "request".
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { DomainError } from '../errors.ts';

/** The largest request body any route takes: 1 MiB. */
export const maxBodyBytes = 1024 * 1024;

/**
 * Middleware: a body over `maxBytes` (by Content-Length, or counted while a chunked body streams in) is refused
 * with DomainError 413. The answer carries `Connection: close` (RFC 9112 §9.6): the server stops reading the body
 * part-way, so the connection cannot carry another request, and a keep-alive client must be told to open a new one
 * instead of finding the socket dead on its next request.
 */
export function requestBodyLimit(maxBytes = maxBodyBytes): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      c.header('connection', 'close');
      throw new DomainError(413, 'Payload too large', `The request body is larger than ${maxBytes === maxBodyBytes ? '1 MiB' : `${maxBytes} bytes`}.`);
    },
  });
}

// Reads to its end any request body an answer was given before, then closes the connection, so a client always receives that answer.
import type { Context, MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';

/** What is discarded of a body answered before it was read: enough for any upload a client would try, bounded against a slow or endless one. */
const discardLimit = { bytes: 64 * 1024 * 1024, ms: 10_000 };

/**
 * Reads and throws away the rest of a request body from `reader`, up to 64 MiB and 10 s; resolves true when the body
 * ended within those bounds. Closing a socket whose peer is still sending makes the kernel reset the connection, and a
 * reset can reach the client before it has read the answer (a 413 lost to ECONNRESET, issue 17); once the body has
 * been read to its end the close is an orderly one.
 */
export async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<boolean> {
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), discardLimit.ms)));
  try {
    while (bytes <= discardLimit.bytes) {
      const next = await Promise.race([reader.read(), late]);
      if (next === 'late') return false;
      if (next.done) return true;
      bytes += next.value.byteLength;
    }
    return false;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
  }
}

/** The Node request behind a Hono context, when there is one (not for in-process `app.request`). */
function incomingOf(c: Context): { readableEnded?: boolean } | undefined {
  return (c.env as { incoming?: { readableEnded?: boolean } } | undefined)?.incoming;
}

/**
 * Middleware for every route, outermost. When the answer is ready but the request's body was not read to its end
 * (a 401 before a POST's body, a 404, a 413, a 400 for the wrong content type), the rest of the body is read and
 * discarded first (discardRest), so the answer is not lost to a connection reset, and the answer carries
 * `Connection: close` (RFC 9112 §9.6): a keep-alive client opens a new connection for its next request. Bodies that
 * were read, and requests without one, keep the connection. In-process calls (`app.request`, no Node socket) are left alone.
 */
export function closeWhenBodyUnread(): MiddlewareHandler {
  return createMiddleware(async (c, next) => {
    await next();
    const incoming = incomingOf(c);
    if (!incoming || incoming.readableEnded) return;
    const length = c.req.header('content-length');
    const hasBody = c.req.header('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
    if (!hasBody) return;
    const body = c.req.raw.body;
    if (body && !body.locked) await discardRest(body.getReader());
    c.res.headers.set('connection', 'close');
  });
}

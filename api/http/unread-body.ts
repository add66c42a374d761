// Closes the connection after any answer given before the request's body was read, so a kept-alive client never writes into a dead socket.
import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';

/**
 * Middleware for every route, outermost. When the answer is ready but the request's body was not read to its end
 * (a 401 before a POST's body, a 404, a 413, a 400 for the wrong content type), the connection cannot carry another
 * request: @hono/node-server drains such a body for at most 500 ms or 64 MiB and otherwise destroys the socket, after a
 * response that promised keep-alive. So such answers carry `Connection: close` (RFC 9112 §9.6), and a keep-alive
 * client opens a new connection for its next request. Bodies that were read, and requests without one, keep the
 * connection. In-process calls (`app.request`, no Node socket) are left alone.
 */
export function closeWhenBodyUnread(): MiddlewareHandler {
  return createMiddleware(async (c, next) => {
    await next();
    const incoming = (c.env as { incoming?: { readableEnded?: boolean } } | undefined)?.incoming;
    if (!incoming || incoming.readableEnded) return;
    const length = c.req.header('content-length');
    const hasBody = c.req.header('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
    if (hasBody) c.res.headers.set('connection', 'close');
  });
}

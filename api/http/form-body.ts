// Reads a posted form once up front, so a malformed urlencoded or multipart body is a 400 before any handler sees it.
import type { Context, MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { DomainError } from '../errors.ts';

const urlencoded = /^application\/x-www-form-urlencoded\b/i;
const multipart = /^multipart\/form-data\b/i;

/**
 * Middleware: for a body sent as application/x-www-form-urlencoded or multipart/form-data, parses it and throws
 * DomainError 400 (problem+json, field "body") when it is malformed: a multipart body without a boundary or with
 * broken parts, or urlencoded text with a `%` not followed by two hex digits or bytes that are not UTF-8
 * (WHATWG URL "application/x-www-form-urlencoded parsing" would silently turn those into U+FFFD).
 * The parsed body stays cached on the request, so handlers and validators read it again at no cost.
 */
export function formBody(): MiddlewareHandler {
  return createMiddleware(async (c, next) => {
    const type = c.req.header('content-type') ?? '';
    if (urlencoded.test(type)) checkUrlencoded(new Uint8Array(await c.req.arrayBuffer()));
    else if (multipart.test(type)) await parseMultipart(c);
    await next();
  });
}

function malformed(detail: string): DomainError {
  return new DomainError(400, 'Bad request', detail, [{ path: 'body', message: detail }]);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function checkUrlencoded(body: Uint8Array) {
  const text = Buffer.from(body).toString('latin1');
  if (/%(?![0-9a-f]{2})/i.test(text)) throw malformed('The form body has a "%" that is not followed by two hex digits.');
  // The form's page is served as UTF-8, so a browser sends UTF-8 both raw and inside percent-escapes.
  const decoded = Buffer.from(text.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
  try {
    utf8.decode(decoded);
  } catch {
    throw malformed('The form body is not UTF-8 once its percent-escapes are decoded.');
  }
}

async function parseMultipart(c: Context) {
  // The raw bytes first, so that later readers (the Idempotency-Key body hash) see what was sent, not a re-encoding.
  await c.req.arrayBuffer();
  try {
    await c.req.formData();
  } catch {
    throw malformed('The multipart form body is malformed: check the boundary and every part.');
  }
}

// The small standalone pages behind links that carry a one-time secret (subscriber confirm/manage/unsubscribe, stakeholder sign-in).
import { html } from 'hono/html';
import { dropXmlForbidden } from '../characters.ts';

export type Fragment = ReturnType<typeof html>;

/**
 * Headers for every such page: the URL carries a capability token, so nothing is cached, indexed, framed or leaked as a
 * referrer, and the page runs no script. `cacheControl` lets a page behind a session say `private, no-store`.
 */
export function linkPageHeaders(cacheControl = 'no-store'): Record<string, string> {
  return {
    'cache-control': cacheControl,
    'referrer-policy': 'no-referrer',
    'x-robots-tag': 'noindex',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  };
}

/**
 * One whole HTML document: the shared head and base styles, then `styles` (the page family's own rules) and `body`
 * inside `<main>`. Text from rows that may predate the input rule loses every character XML 1.0 forbids.
 */
export function linkPage(title: string, styles: string, body: Fragment): string {
  return dropXmlForbidden(html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${title}</title>
<style>
  body { font: 17px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; padding: 2rem 1rem; background: Canvas; color: CanvasText; }
  main { max-width: 34rem; margin: 0 auto; }
  h1 { font-size: 1.5rem; line-height: 1.25; }
  a { color: LinkText; }
${styles}
</style>
</head>
<body><main>
${body}
</main></body>
</html>`.toString());
}

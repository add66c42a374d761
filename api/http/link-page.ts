// The small standalone pages behind links that carry a one-time secret (subscriber confirm/manage/unsubscribe, stakeholder sign-in).
import { html } from 'hono/html';
import { imageUrl, type Brand } from '../brand.ts';
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
    // Images for the brand's logo and favicon: served by the site, or from the https URL BRAND_LOGO names.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  };
}

/**
 * One whole HTML document: the shared head (with `favicon`, if any) and base styles, then `styles` (the page
 * family's own rules) and `body` inside `<main>`. Text from rows that may predate the input rule loses every character XML 1.0 forbids.
 */
export function linkPage(title: string, styles: string, body: Fragment, favicon?: string): string {
  return dropXmlForbidden(html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${title}</title>${favicon ? html`\n<link rel="icon" href="${favicon}">` : ''}
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

/** What the site's frame shows around such a page: the page name and brand (PAGE_NAME, BRAND_*), and where the site is. */
export interface LinkPageFrame {
  /** The public status page (PUBLIC_URL), for the heading's link and "Back to the status page". */
  site: string;
  pageName?: string | undefined;
  brand?: Brand | undefined;
}

const frameStyles = (accent: string) => `  button { font: inherit; padding: .55rem 1.1rem; border-radius: .4rem; border: 1px solid ${accent}; background: ${accent}; color: #fff; cursor: pointer; }
  .frame-head { display: flex; align-items: center; gap: .5rem; padding-bottom: .75rem; border-bottom: 1px solid #8884; font-weight: 700; font-size: 1.1rem; }
  .frame-head a { color: inherit; text-decoration: none; }
  .frame-head img { max-height: 2rem; max-width: 10rem; }
  .frame-foot { margin-top: 2rem; padding-top: .75rem; border-top: 1px solid #8884; font-size: .9rem; }
  main { overflow-wrap: break-word; }`;

/**
 * One such page in the site's frame: the page name (and logo) heading it, linking to the status page; the brand's
 * favicon; its support and home links at the foot; buttons in the accent. The title names the page, then the
 * status page. `styles` are the page family's own rules, after the frame's.
 */
export function framedLinkPage(title: string, frame: LinkPageFrame, styles: string, body: Fragment): string {
  const name = frame.pageName ?? 'Status';
  const b = frame.brand;
  // These pages are served by the site itself: a brand file is linked from its root, as the site's own frame does.
  const logo = b?.logo ? html`<img src="${imageUrl(b.logo, '')}" alt="">` : '';
  const support = b?.supportUrl ? html` · <a href="${b.supportUrl}">Support</a>` : '';
  const home = b?.homepageUrl ? html` · <a href="${b.homepageUrl}">${new URL(b.homepageUrl).hostname.replace(/^www\./, '')}</a>` : '';
  return linkPage(
    `${title} · ${name}`,
    `${frameStyles(b?.accent?.light ?? '#1f6feb')}\n${styles}`,
    html`<header class="frame-head"><a href="${frame.site}/">${logo}<bdi>${name}</bdi></a></header>
${body}
<footer class="frame-foot"><a href="${frame.site}/">Back to the status page</a>${support}${home}</footer>`,
    b?.favicon ? imageUrl(b.favicon, '') : undefined,
  );
}

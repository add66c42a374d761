// The brand's files in every release: the logo and favicon when given as files, and brand.css with the accent for both themes.
import { readFileSync } from 'node:fs';
import { imageUrl, type Brand } from '../brand.ts';
import type { SiteFile } from './output.ts';

/** Where the brand stylesheet is served; linked from every page when BRAND_ACCENT is set. */
export const brandStylesheet = '/brand.css';

/**
 * The accent as CSS custom properties the site's stylesheet reads (`--link`, `--focus`, `--accent`): the colour as
 * given on the light theme, its derived shade on the dark one (api/brand.ts checked both read at 4.5:1).
 * `html:root` outranks the site stylesheet's `:root`, whichever of the two links comes first.
 */
export function brandCss(accent: NonNullable<Brand['accent']>): string {
  return `html:root {
  --link: ${accent.light};
  --focus: ${accent.light};
  --accent: ${accent.light};
}
@media (prefers-color-scheme: dark) {
  html:root {
    --link: ${accent.dark};
    --focus: ${accent.dark};
    --accent: ${accent.dark};
  }
}
`;
}

/** The brand files a full render writes: image files read now (start-up checked they exist), and brand.css. */
export function brandFiles(brand: Brand | undefined): SiteFile[] {
  if (!brand) return [];
  const files: SiteFile[] = [];
  for (const image of [brand.logo, brand.favicon]) if (image?.kind === 'file') files.push({ path: image.path, body: readFileSync(image.file) });
  if (brand.accent) files.push({ path: brandStylesheet.slice(1), body: brandCss(brand.accent) });
  return files;
}

/** What a page's frame shows of the brand: site-relative paths for files, URLs as given. */
export function brandView(brand: Brand | undefined) {
  const src = (image: Brand['logo']) => (image ? imageUrl(image, '') : undefined);
  return {
    logoSrc: src(brand?.logo ?? null),
    faviconHref: src(brand?.favicon ?? null),
    stylesheet: brand?.accent ? brandStylesheet : undefined,
    supportHref: brand?.supportUrl ?? undefined,
    homepageHref: brand?.homepageUrl ?? undefined,
    /** The home link's words: the site's host name ("example.com"). */
    homepageText: brand?.homepageUrl ? new URL(brand.homepageUrl).hostname.replace(/^www\./, '') : undefined,
  };
}

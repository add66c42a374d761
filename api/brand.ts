// The brand a page and its emails carry (BRAND_LOGO, BRAND_ACCENT, BRAND_FAVICON, SUPPORT_URL, HOMEPAGE_URL), checked once at start-up.
import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';

/** The light theme's page background (site/styles/site.css `--bg`): the accent must read on it. */
export const lightBackground = '#f7f7f5';
/**
 * The lighter of the dark theme's backgrounds (`--surface`, under the header and cards; `--bg` is darker): the
 * derived dark accent must read on it, and so reads on both.
 */
export const darkBackground = '#1d1f22';
/** WCAG 2.x 1.4.3 (AA) for normal text: links and buttons in the accent are text. */
export const minimumContrast = 4.5;

/** An image the site serves: a file copied into every release at `path`, or an https URL used as is. */
export type BrandImage = { kind: 'url'; url: string } | { kind: 'file'; file: string; path: string };

export interface Brand {
  logo: BrandImage | null;
  favicon: BrandImage | null;
  /** The accent on the light theme (as given) and the shade derived for the dark theme; null keeps the site's blue. */
  accent: { light: string; dark: string } | null;
  supportUrl: string | null;
  homepageUrl: string | null;
}

export const noBrand: Brand = { logo: null, favicon: null, accent: null, supportUrl: null, homepageUrl: null };

const channel = (hex: string, i: number) => parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16);

/** Relative luminance of an sRGB colour "#rrggbb" (WCAG 2.x definition). */
function luminance(hex: string): number {
  const [r, g, b] = [0, 1, 2].map((i) => {
    const c = channel(hex, i) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The contrast ratio of two colours, from 1 to 21 (WCAG 2.x). */
export function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
}

/** "#abc" → "#aabbcc", lower case. */
function longHex(hex: string): string {
  const h = hex.toLowerCase();
  return h.length === 4 ? `#${[...h.slice(1)].map((c) => c + c).join('')}` : h;
}

const mix = (hex: string, toward: number, t: number) =>
  `#${[0, 1, 2].map((i) => Math.round(channel(hex, i) + (toward - channel(hex, i)) * t).toString(16).padStart(2, '0')).join('')}`;

/** The dark theme's shade of an accent: the colour mixed toward white, in small steps, until it reads on the dark background. */
export function darkShade(accent: string): string {
  for (let t = 0; t <= 1; t += 0.02) {
    const shade = mix(accent, 255, t);
    if (contrast(shade, darkBackground) >= minimumContrast) return shade;
  }
  return '#ffffff';
}

/** Checks BRAND_ACCENT; throws the sentence start-up prints. */
export function parseAccent(value: string): { light: string; dark: string } {
  if (!/^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(value)) throw new Error('must be a hex colour such as #1a56b8');
  const light = longHex(value);
  const ratio = contrast(light, lightBackground);
  if (ratio < minimumContrast) {
    throw new Error(`has a contrast of ${ratio.toFixed(2)}:1 against the page background ${lightBackground}; links and buttons need at least ${minimumContrast}:1 (choose a darker shade)`);
  }
  return { light, dark: darkShade(light) };
}

const imageTypes = new Set(['.png', '.svg', '.jpg', '.jpeg', '.gif', '.webp', '.ico']);

/** Checks BRAND_LOGO or BRAND_FAVICON: an https URL, or a readable image file served from the site as `/brand/{name}.{ext}`. */
export function parseImage(value: string, name: 'logo' | 'favicon'): BrandImage {
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new Error('must be an https:// URL or the path of an image file');
    }
    if (url.protocol !== 'https:') throw new Error('must be an https:// URL or the path of an image file');
    return { kind: 'url', url: url.href };
  }
  const file = resolve(value);
  const ext = extname(file).toLowerCase();
  if (!imageTypes.has(ext)) throw new Error(`must be a .png, .svg, .jpg, .gif, .webp or .ico file`);
  if (!existsSync(file) || !statSync(file).isFile()) throw new Error('names no file');
  return { kind: 'file', file, path: `brand/${name}${ext}` };
}

/** Where a page or an email finds a brand image: its URL, or its path on the site made absolute with `publicUrl`. */
export function imageUrl(image: BrandImage, publicUrl: string): string {
  return image.kind === 'url' ? image.url : `${publicUrl}/${image.path}`;
}

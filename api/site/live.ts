// The live release in memory: every public file with its variants and its response headers, computed once per swap.
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import type { EncodedFile } from './output.ts';

/**
 * Scripts and styles only from our own files (never inline: the one script shows times in the reader's zone, and the
 * page reads whole without it), images also from https (a BRAND_LOGO URL), never framed. Shared by the public site
 * and the internal page.
 */
export const siteHeaders: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'cross-origin-opener-policy': 'same-origin',
};

/** Short enough that a customer sees a new update within seconds, and revalidated (cheaply, by ETag) after that. */
export const pageCacheControl = 'public, max-age=10, must-revalidate';
/** Astro names its assets by their content hash, so a changed stylesheet is a new URL. */
export const assetCacheControl = 'public, max-age=31536000, immutable';

/** The embed page (`/embed/`) is made to sit in an iframe on customers' own sites: any site may frame it. */
const embedHeaders: Record<string, string> = {
  ...Object.fromEntries(Object.entries(siteHeaders).filter(([name]) => name !== 'x-frame-options')),
  'content-security-policy': siteHeaders['content-security-policy']!.replace("frame-ancestors 'none'", 'frame-ancestors *'),
};
const isEmbed = (path: string) => path.startsWith('embed/');

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.xml': 'application/rss+xml; charset=utf-8',
  '.atom': 'application/atom+xml; charset=utf-8',
  '.ics': 'text/calendar; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};

/** JSON Feed's own media type (jsonfeed.org/version/1.1), so readers that sniff it pick the right parser. */
export const contentTypeOf = (path: string) => (path === 'feed.json' ? 'application/feed+json; charset=utf-8' : (contentTypes[extname(path)] ?? 'application/octet-stream'));
export const cacheControlOf = (path: string) => (path.startsWith('_astro/') ? assetCacheControl : pageCacheControl);

/**
 * Cross-origin reads of the Statuspage JSON, the feeds and the badges, as Statuspage allows them, so widgets and
 * `embed.js` on other sites work (SPEC "Customers' reach").
 * Preflight (OPTIONS) answers with the same headers and the methods a reader may use.
 */
export const corsHeaders: Record<string, string> = { 'access-control-allow-origin': '*' };
export const preflightHeaders: Record<string, string> = {
  ...corsHeaders,
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'If-None-Match, If-Modified-Since, Cache-Control, Content-Type',
  'access-control-max-age': '86400',
};
/** The public paths read across origins (path inside the site, no leading slash): `/api/v2/*`, the feeds, the badges, the calendar. */
export const isCrossOrigin = (path: string) =>
  path.startsWith('api/v2/') || /^feed\.(xml|atom|json)$/.test(path) || path === 'badge.svg' || path.startsWith('badge/') || path === 'maintenance.ics';

export type Encoding = 'br' | 'gzip';

/** One way a file can be sent: its bytes and every header but the connection's own. */
export interface Variant {
  body: Buffer;
  etag: string;
  headers: Record<string, string>;
  /**
   * The file changed again within the second its Last-Modified names, so that date no longer tells the copies of
   * this second apart: an If-Modified-Since equal to it must not be answered 304 (only ETags can say "unchanged").
   */
  secondShared?: boolean;
}

/** A live file: the identity bytes and, for compressible text, its gzip and brotli variants. */
export interface LiveFile {
  path: string;
  identity: Variant;
  gzip: Variant | null;
  br: Variant | null;
  /** The bytes each variant stands for, for whoever copies the release elsewhere. */
  encoded: EncodedFile;
}

function liveFile(f: EncodedFile, lastModified: string, secondShared = false): LiveFile {
  // A content hash, so every process serving the same bytes gives the same ETag and a CDN revalidates across them.
  const hash = createHash('sha1').update(f.raw).digest('base64url').slice(0, 22);
  const base: Record<string, string> = {
    ...(isEmbed(f.path) ? embedHeaders : siteHeaders),
    ...(isCrossOrigin(f.path) ? corsHeaders : {}),
    'content-type': contentTypeOf(f.path),
    'cache-control': cacheControlOf(f.path),
    'last-modified': lastModified,
  };
  const variant = (body: Buffer, encoding: Encoding | null): Variant => {
    const etag = `"${hash}${encoding ? `-${encoding}` : ''}"`;
    const headers: Record<string, string> = { ...base, etag, 'content-length': String(body.length) };
    if (f.gzip || f.br) headers.vary = 'Accept-Encoding';
    if (encoding) headers['content-encoding'] = encoding;
    return { body, etag, headers, secondShared };
  };
  return {
    path: f.path,
    identity: variant(f.raw, null),
    gzip: f.gzip ? variant(f.gzip, 'gzip') : null,
    br: f.br ? variant(f.br, 'br') : null,
    encoded: f,
  };
}

export type LiveListener = (change: { full: boolean; paths: string[] }) => void;

/** The release a process serves, replaced whole at a release swap and file by file at each incremental render. */
export interface LiveSite {
  /** The release folder name, or null before the first one is loaded. */
  readonly release: string | null;
  /** The output generation loaded (see site_outputs); -1 before any. */
  readonly generation: number;
  get(path: string): LiveFile | undefined;
  /** Every live file, for a copy elsewhere. */
  files(): IterableIterator<LiveFile>;
  /** Swaps in a whole release. */
  replaceAll(release: string, generation: number, files: EncodedFile[]): void;
  /** Swaps in changed files and drops removed ones, all at once (no request sees half of it). */
  apply(generation: number, changed: EncodedFile[], removed?: string[]): void;
  onChange(listener: LiveListener): () => void;
}

/** `now` stamps Last-Modified on files that change (the clock's now). */
export function liveSite(now: () => Date): LiveSite {
  let files = new Map<string, LiveFile>();
  let release: string | null = null;
  let generation = -1;
  const listeners = new Set<LiveListener>();
  const notify = (full: boolean, paths: string[]) => {
    for (const listener of listeners) listener({ full, paths });
  };
  /**
   * An unchanged file keeps its entry, so its Last-Modified stays what it was. A file that changes within the second
   * its previous copy was stamped with gets the same (second-precision) date, marked as shared (Variant.secondShared).
   */
  const entry = (f: EncodedFile, stamp: string) => {
    const old = files.get(f.path);
    if (old && old.encoded.raw.equals(f.raw) && !!old.gzip === !!f.gzip) return old;
    return liveFile(f, stamp, old?.identity.headers['last-modified'] === stamp);
  };
  return {
    get release() {
      return release;
    },
    get generation() {
      return generation;
    },
    get: (path) => files.get(path),
    files: () => files.values(),
    replaceAll(name, gen, all) {
      const stamp = now().toUTCString();
      const next = new Map<string, LiveFile>();
      for (const f of all) next.set(f.path, entry(f, stamp));
      files = next;
      release = name;
      generation = gen;
      notify(true, all.map((f) => f.path));
    },
    apply(gen, changed, removed = []) {
      const stamp = now().toUTCString();
      for (const f of changed) files.set(f.path, entry(f, stamp));
      for (const path of removed) files.delete(path);
      generation = gen;
      notify(false, [...changed.map((f) => f.path), ...removed]);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

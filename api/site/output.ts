// The rendered site on disk: whole releases swapped in by one rename, single files replaced by rename, each with its .gz and .br.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdir, realpath, rename, rm } from 'node:fs/promises';
import { basename, dirname, extname, join, relative } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { systemClock } from '../clock.ts';

/** One file of the public site, by its path inside the site ("incidents/abc/index.html"). */
export interface SiteFile {
  path: string;
  body: string | Buffer;
}

/** A site file with its precompressed variants, as written next to it and served from memory. */
export interface EncodedFile {
  path: string;
  raw: Buffer;
  gzip: Buffer | null;
  br: Buffer | null;
}

const compressible = new Set(['.html', '.json', '.xml', '.atom', '.ics', '.css', '.txt', '.svg', '.js']);
/**
 * Below 1 KiB a compressed variant saves a few hundred bytes, less than one TCP segment, and costs two more files
 * to write and rename on every change (the badges and the embed page change with every publish).
 */
const compressionThreshold = 1024;
const brotliOptions = (size: number) => ({
  params: {
    // Quality 5 with a small window costs under a millisecond for the front page, where 11 would cost fifty times that.
    [constants.BROTLI_PARAM_QUALITY]: 5,
    [constants.BROTLI_PARAM_LGWIN]: 20,
    [constants.BROTLI_PARAM_SIZE_HINT]: size,
  },
});

/**
 * A file and, for text worth compressing, its gzip and brotli variants. Compressed in this thread: for pages of a few
 * kB that is several times faster than zlib's thread pool.
 */
export function encode(file: SiteFile): EncodedFile {
  const raw = Buffer.isBuffer(file.body) ? file.body : Buffer.from(file.body);
  if (!compressible.has(extname(file.path)) || raw.length < compressionThreshold) return { path: file.path, raw, gzip: null, br: null };
  return { path: file.path, raw, gzip: gzipSync(raw, { level: 7 }), br: brotliCompressSync(raw, brotliOptions(raw.length)) };
}

/** The files on disk for one site file, variants first: [path, content or null to remove]. */
function diskFiles(f: EncodedFile): [string, Buffer | null][] {
  return [
    [`${f.path}.br`, f.br],
    [`${f.path}.gz`, f.gzip],
    [f.path, f.raw],
  ];
}

/** Whether a path inside a release is a variant or a leftover rather than a site file of its own. */
const isVariant = (path: string) => /\.(gz|br|tmp)$/.test(path);

/**
 * Lets whatever waits run between chunks of synchronous work (libSQL's local reads block the thread too), so serving
 * goes on during a render. One setImmediate is not enough: called from a timer (a render starts from one) it runs in
 * the same turn's check phase, before the next turn's timers; two make sure a whole turn of the event loop (timers,
 * then requests' I/O) passes first.
 */
export const breathe = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Release {
  write(file: SiteFile): Promise<void>;
  /** Makes the release live; returns its folder name and every file written (Astro's assets first). */
  commit(): Promise<{ name: string; files: EncodedFile[] }>;
  abort(): Promise<void>;
}

export interface SiteOutput {
  /** DATA_DIR/site: `current` (a symlink to the live release) and `releases/`. */
  root: string;
  /** The path readers are served from; resolves to the live release. */
  current: string;
  /**
   * Names this output folder for every process that shares it (kept in `root/output-id`), so the database can
   * record who renders into it and how far it has got.
   */
  id(): string;
  /** The live release's folder, or null before the first render. */
  live(): Promise<string | null>;
  /**
   * Starts a complete site in a new release, written file by file as pages are rendered; `commit` makes it live with
   * one rename. Until then, and if it is aborted or the process dies, the old release keeps serving.
   */
  beginRelease(assetsDir: string): Promise<Release>;
  /**
   * Replaces files of the live release, each atomically (write aside, then rename over), in the order given: a reader
   * sees a file whole, old or new, and a variant is never older than its file (a variant a file no longer has is
   * removed before the file is renamed in). Files whose content is unchanged are left alone, so their ETag stays.
   * Returns the files that changed.
   */
  replaceFiles(files: SiteFile[]): Promise<EncodedFile[]>;
  /** The site files (no variants) the live release holds under `folder` ("badge"), as site paths ("badge/api.svg"). */
  liveFiles(folder: string): string[];
  /** Removes files from the live release, each with its variants; returns the paths that were there. */
  removeFiles(paths: string[]): string[];
  /** Every site file of a release folder with its variants, as on disk. */
  readRelease(dir: string): Promise<EncodedFile[]>;
  /** The named site files of a release, re-encoded from the raw file so the variants always match it; missing ones are left out. */
  readFiles(dir: string, paths: string[]): EncodedFile[];
}

export function siteOutput(dataDir: string): SiteOutput {
  const root = join(dataDir, 'site');
  const releases = join(root, 'releases');
  const current = join(root, 'current');
  let outputId: string | null = null;

  /** Removes releases other than the live one and the one before it, and staging folders of dead processes. */
  function prune(keep: string[]) {
    for (const name of existsSync(releases) ? readdirSync(releases) : []) {
      const staging = /^\.staging-(\d+)-/.exec(name);
      if (staging ? alive(Number(staging[1])) : keep.includes(name)) continue;
      rm(join(releases, name), { recursive: true, force: true }).catch(() => {});
    }
  }

  const readEncoded = (dir: string, path: string): EncodedFile => {
    const variant = (suffix: string) => {
      try {
        return readFileSync(join(dir, path + suffix));
      } catch {
        return null;
      }
    };
    return { path, raw: readFileSync(join(dir, path)), gzip: variant('.gz'), br: variant('.br') };
  };

  return {
    root,
    current,
    id() {
      if (outputId) return outputId;
      mkdirSync(root, { recursive: true });
      const file = join(root, 'output-id');
      try {
        // Exclusive create: of processes starting together on one folder, one id wins and all read it.
        writeFileSync(file, `${randomUUID()}\n`, { flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      outputId = `dir:${readFileSync(file, 'utf8').trim()}`;
      return outputId;
    },
    async live() {
      try {
        return await realpath(current);
      } catch {
        return null;
      }
    },
    async beginRelease(assetsDir) {
      mkdirSync(releases, { recursive: true });
      const name = `r-${systemClock.now().getTime().toString(36)}-${randomBytes(3).toString('hex')}`;
      const staging = join(releases, `.staging-${process.pid}-${name}`);
      await mkdir(staging, { recursive: true });
      const written: EncodedFile[] = [];
      const write = async (file: SiteFile) => {
        const encoded = encode(file);
        mkdirSync(dirname(join(staging, file.path)), { recursive: true });
        for (const [path, body] of diskFiles(encoded)) if (body) writeFileSync(join(staging, path), body);
        written.push(encoded);
        if (written.length % 32 === 0) await breathe();
      };
      // Astro's assets (the stylesheet) go in like any other file, so they are precompressed too.
      for (const path of filesUnder(assetsDir)) await write({ path: relative(assetsDir, path), body: readFileSync(path) });
      return {
        write,
        async commit() {
          await rename(staging, join(releases, name));
          let previous: string | null = null;
          try {
            previous = readlinkSync(current).split('/').at(-1) ?? null;
          } catch {}
          // The swap: a new symlink renamed over the old one is atomic, so a reader gets the old site or the new one.
          const link = join(root, `.current-${process.pid}-${name}`);
          symlinkSync(join('releases', name), link);
          renameSync(link, current);
          prune([name, ...(previous ? [previous] : [])]);
          return { name, files: written };
        },
        async abort() {
          await rm(staging, { recursive: true, force: true });
        },
      };
    },
    async replaceFiles(files) {
      // Synchronous on purpose: a handful of small files, where a round trip through the thread pool per call
      // would cost more than the work and hold a publish back from going live.
      const live = realpathSync(current);
      const staged: [string, string][] = [];
      const removals: string[] = [];
      const changed: EncodedFile[] = [];
      try {
        for (const file of files) {
          const target = join(live, file.path);
          const body = Buffer.isBuffer(file.body) ? file.body : Buffer.from(file.body);
          if (existsSync(target) && readFileSync(target).equals(body)) continue;
          mkdirSync(dirname(target), { recursive: true });
          const encoded = encode({ path: file.path, body });
          changed.push(encoded);
          for (const [path, content] of diskFiles(encoded)) {
            if (!content) {
              removals.push(join(live, path));
              continue;
            }
            const aside = `${join(live, path)}.${randomBytes(4).toString('hex')}.tmp`;
            writeFileSync(aside, content);
            staged.push([aside, join(live, path)]);
          }
        }
        // Everything is on disk before the first rename, so a failed render changes nothing. Stale variants go
        // first: for a moment a file may be served uncompressed, never with an older compressed copy.
        for (const path of removals) rmSync(path, { force: true });
        for (const [aside, target] of staged) renameSync(aside, target);
        return changed;
      } catch (e) {
        for (const [aside] of staged) rmSync(aside, { force: true });
        throw e;
      }
    },
    liveFiles(folder) {
      const live = realpathSync(current);
      return filesUnder(join(live, folder))
        .map((full) => relative(live, full))
        .filter((path) => !isVariant(path) && !basename(path).startsWith('.'));
    },
    removeFiles(paths) {
      const live = realpathSync(current);
      const removed = paths.filter((path) => existsSync(join(live, path)));
      // Variants first, as in replaceFiles: a file is never served with a compressed copy it no longer has.
      for (const path of removed) for (const [file] of diskFiles({ path, raw: Buffer.alloc(0), gzip: null, br: null })) rmSync(join(live, file), { force: true });
      return removed;
    },
    async readRelease(dir) {
      const files: EncodedFile[] = [];
      for (const [i, full] of filesUnder(dir).entries()) {
        const path = relative(dir, full);
        if (isVariant(path) || basename(path).startsWith('.')) continue;
        files.push(readEncoded(dir, path));
        if (i % 256 === 255) await breathe();
      }
      return files;
    },
    readFiles(dir, paths) {
      const files: EncodedFile[] = [];
      for (const path of paths) {
        try {
          files.push(encode({ path, body: readFileSync(join(dir, path)) }));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
      return files;
    },
  };
}

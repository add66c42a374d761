// The rendered site on disk: whole releases swapped in by one rename, single files replaced by rename, each with .gz and .br.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdir, realpath, rename, rm } from 'node:fs/promises';
import { dirname, extname, join, relative } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { systemClock } from '../clock.ts';

/** One file of the public site, by its path inside the site ("incidents/abc/index.html"). */
export interface SiteFile {
  path: string;
  body: string | Buffer;
}

const compressible = new Set(['.html', '.json', '.xml', '.css', '.txt', '.svg', '.js']);
const brotliOptions = (size: number) => ({
  params: {
    // Quality 5 with a small window costs under a millisecond for the front page, where 11 would cost fifty times that.
    [constants.BROTLI_PARAM_QUALITY]: 5,
    [constants.BROTLI_PARAM_LGWIN]: 20,
    [constants.BROTLI_PARAM_SIZE_HINT]: size,
  },
});

/**
 * The variants written for a file: itself, and for text worth compressing, .gz and .br next to it. Compressed in this
 * thread: for pages of a few kB that is several times faster than zlib's thread pool.
 */
function variants(file: SiteFile): [string, Buffer][] {
  const raw = Buffer.isBuffer(file.body) ? file.body : Buffer.from(file.body);
  if (!compressible.has(extname(file.path)) || raw.length < 256) return [[file.path, raw]];
  return [
    [`${file.path}.br`, brotliCompressSync(raw, brotliOptions(raw.length))],
    [`${file.path}.gz`, gzipSync(raw, { level: 7 })],
    [file.path, raw],
  ];
}

/** Lets requests in between chunks of synchronous work, so serving goes on during a full render. */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

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
  /** Makes the release live; returns its folder. */
  commit(): Promise<string>;
  abort(): Promise<void>;
}

export interface SiteOutput {
  /** DATA_DIR/site: `current` (a symlink to the live release) and `releases/`. */
  root: string;
  /** The path readers are served from; resolves to the live release. */
  current: string;
  /** The live release's folder, or null before the first render. */
  live(): Promise<string | null>;
  /**
   * Starts a complete site in a new release, written file by file as pages are rendered; `commit` makes it live with
   * one rename. Until then, and if it is aborted or the process dies, the old release keeps serving.
   */
  beginRelease(assetsDir: string): Promise<Release>;
  /**
   * Replaces files of the live release, each atomically (write aside, then rename over), in the order given:
   * a reader sees a file whole, old or new. Files whose content is unchanged are left alone, so their ETag stays.
   */
  replaceFiles(files: SiteFile[]): Promise<number>;
}

export function siteOutput(dataDir: string): SiteOutput {
  const root = join(dataDir, 'site');
  const releases = join(root, 'releases');
  const current = join(root, 'current');

  /** Removes releases other than the live one and the one before it, and staging folders of dead processes. */
  function prune(keep: string[]) {
    for (const name of existsSync(releases) ? readdirSync(releases) : []) {
      const staging = /^\.staging-(\d+)-/.exec(name);
      if (staging ? alive(Number(staging[1])) : keep.includes(name)) continue;
      rm(join(releases, name), { recursive: true, force: true }).catch(() => {});
    }
  }

  return {
    root,
    current,
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
      let written = 0;
      const write = async (file: SiteFile) => {
        const target = join(staging, file.path);
        mkdirSync(dirname(target), { recursive: true });
        for (const [path, body] of variants(file)) writeFileSync(join(staging, path), body);
        if (++written % 32 === 0) await breathe();
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
          return join(releases, name);
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
      try {
        for (const file of files) {
          const target = join(live, file.path);
          const body = Buffer.isBuffer(file.body) ? file.body : Buffer.from(file.body);
          if (existsSync(target) && readFileSync(target).equals(body)) continue;
          mkdirSync(dirname(target), { recursive: true });
          for (const [path, content] of variants({ path: file.path, body })) {
            const aside = `${join(live, path)}.${randomBytes(4).toString('hex')}.tmp`;
            writeFileSync(aside, content);
            staged.push([aside, join(live, path)]);
          }
        }
        // Everything is on disk before the first rename, so a failed render changes nothing.
        for (const [aside, target] of staged) renameSync(aside, target);
        return staged.length;
      } catch (e) {
        for (const [aside] of staged) rmSync(aside, { force: true });
        throw e;
      }
    },
  };
}

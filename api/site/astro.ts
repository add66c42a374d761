// The renderer's one door into Astro: builds the site's server bundle when missing or stale, then renders pages in-process.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dropXmlForbidden } from '../characters.ts';
import { systemClock } from '../clock.ts';
import type { PageView } from './view-model.ts';

export interface PageRenderer {
  renderPage(view: PageView): Promise<string>;
  /** Astro's client assets (the stylesheet), copied next to every rendered site. */
  clientDir: string;
}

export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const buildsDir = join(projectRoot, 'dist', 'renderer');
const sources = [join(projectRoot, 'site'), join(projectRoot, 'astro.config.mjs')];
const astroPackage = createRequire(import.meta.url).resolve('astro/package.json');

function files(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .flatMap((e) => (e.name.startsWith('.') ? [] : files(join(path, e.name))))
    .sort();
}

/** Names a bundle by what it was built from: the site's sources and Astro's version, so a bundle is never stale. */
export function bundleKey(): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(astroPackage));
  for (const file of sources.flatMap(files)) hash.update(relative(projectRoot, file)).update('\0').update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One build at a time across processes (test workers, a start-up and `npm run build:site`): a directory is the lock. */
async function withBuildLock<T>(run: () => Promise<T>, ready: () => boolean): Promise<T | null> {
  mkdirSync(buildsDir, { recursive: true });
  const lock = join(buildsDir, '.lock');
  for (;;) {
    if (ready()) return null;
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than the longest plausible build was left by a killed process.
      try {
        if (systemClock.now().getTime() - statSync(lock).mtimeMs > 5 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {}
      await sleep(200);
    }
  }
  try {
    return ready() ? null : await run();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function astroBuild(outDir: string): Promise<void> {
  const bin = join(dirname(astroPackage), 'bin', 'astro.mjs');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'build', '--outDir', outDir, '--silent'], {
      cwd: projectRoot,
      env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`astro build failed (exit ${code}):\n${output.slice(-4000)}`))));
  });
}

/** Removes bundles of older sources; a recent one may still be in use by another process. */
function pruneOldBundles(keep: string) {
  for (const name of readdirSync(buildsDir)) {
    const path = join(buildsDir, name);
    if (name === keep || name === '.lock') continue;
    try {
      if (systemClock.now().getTime() - statSync(path).mtimeMs > 10 * 60_000) rmSync(path, { recursive: true, force: true });
    } catch {}
  }
}

/** Makes sure the bundle for the current sources exists, building it (a few seconds) if not; returns its folder. */
export async function ensureBundle(log: (message: string) => void = console.log): Promise<string> {
  const key = bundleKey();
  const dir = join(buildsDir, key);
  const entry = join(dir, 'server', 'entry.mjs');
  await withBuildLock(
    async () => {
      log('Building the site renderer (Astro), once for these sources...');
      const started = performance.now();
      const tmp = join(buildsDir, `.tmp-${key}-${process.pid}`);
      rmSync(tmp, { recursive: true, force: true });
      await astroBuild(tmp);
      renameSync(tmp, dir);
      pruneOldBundles(key);
      log(`Site renderer built in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
    },
    () => existsSync(entry),
  );
  return dir;
}

export async function loadRenderer(log?: (message: string) => void): Promise<PageRenderer> {
  const dir = await ensureBundle(log);
  const entry = (await import(pathToFileURL(join(dir, 'server', 'entry.mjs')).href)) as typeof import('../../site/server-entry.ts');
  // Every page, public and internal, passes here: rows stored before input refused XML-forbidden characters lose them.
  return { renderPage: async (view) => dropXmlForbidden(await entry.renderPage(view)), clientDir: join(dir, 'client') };
}

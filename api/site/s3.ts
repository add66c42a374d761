// Publishes the live release to S3-compatible object storage: what changed, pages before the lists that link them, removals last, retried until the bucket matches.
import { createHash } from 'node:crypto';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Queryable } from '../../db/client.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { BucketTarget } from '../config.ts';
import { createSupervisor } from '../supervisor.ts';
import { holdLease } from './coordination.ts';
import { cacheControlOf, contentTypeOf, type LiveFile, type LiveSite } from './live.ts';

/** One object as it should be in the bucket. */
export interface BucketObject {
  key: string;
  body: Buffer;
  md5: string;
  contentType: string;
  cacheControl: string;
  contentEncoding: 'gzip' | 'br' | undefined;
  /** Upload order: lower first (see uploadRank). */
  rank: number;
}

/**
 * Which objects go up first, so a reader following links never finds a page missing: assets, then the pages a
 * list links to (incidents, maintenance), then history months, then the lists (JSON, feed, history index, front page).
 */
export function uploadRank(path: string): number {
  if (path.startsWith('_astro/')) return 0;
  if (path.startsWith('incidents/') || path.startsWith('maintenances/')) return 1;
  if (/^history\/[^/]+\/index\.html$/.test(path)) return 2;
  if (path === 'index.html') return 4;
  return 3;
}

const md5s = new WeakMap<Buffer, string>();
function md5(body: Buffer): string {
  let sum = md5s.get(body);
  if (!sum) md5s.set(body, (sum = createHash('md5').update(body).digest('hex')));
  return sum;
}

/**
 * The objects for one live file: the file itself at prefix + site path, raw, so any client and any CDN can read it;
 * and its precompressed variants beside it (`.gz`, `.br`) with Content-Encoding set, for a CDN or edge rule that
 * serves them by Accept-Encoding (decision 011).
 */
export function bucketObjects(prefix: string, file: LiveFile): BucketObject[] {
  const { path, raw, gzip, br } = file.encoded;
  const base = { contentType: contentTypeOf(path), cacheControl: cacheControlOf(path), rank: uploadRank(path) };
  const objects: BucketObject[] = [{ key: prefix + path, body: raw, md5: md5(raw), contentEncoding: undefined, ...base }];
  if (gzip) objects.push({ key: `${prefix}${path}.gz`, body: gzip, md5: md5(gzip), contentEncoding: 'gzip', ...base });
  if (br) objects.push({ key: `${prefix}${path}.br`, body: br, md5: md5(br), contentEncoding: 'br', ...base });
  return objects;
}

/** An S3 client for the target; credentials from the SDK's usual chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY …). */
export function bucketClient(target: BucketTarget): S3Client {
  return new S3Client({
    region: target.region,
    endpoint: target.endpoint,
    forcePathStyle: target.forcePathStyle,
    // Checksums only where S3 requires them: MinIO, R2 and other S3-compatible servers differ on the newer ones.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
  });
}

export interface BucketSyncOptions {
  db: Queryable;
  live: LiveSite;
  target: BucketTarget;
  log: (message: string) => void;
  client?: S3Client;
  /** How often a process that does not upload checks whether the uploader is gone. */
  pollMs?: number;
  leaseClock?: Clock;
  /** Uploads in flight at once. */
  concurrency?: number;
}

export interface BucketSync {
  /** Resolves when the bucket matched the live release at the last look, or a failed sync waits out its back-off. */
  settled(): Promise<void>;
  /** Why the last sync failed, until one succeeds. */
  readonly lastError: Error | null;
  /** Objects put and deleted so far, for logs and benchmarks. */
  readonly stats: { puts: number; deletes: number; syncs: number };
  close(): Promise<void>;
}

/** How often the uploader lists the bucket again, in case something else changed it. */
const relistMs = 10 * 60_000;

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

/**
 * Keeps the bucket equal to the live release of whichever process holds the bucket's lease (one uploader however many
 * processes run). It remembers what the bucket holds (listed at the first sync, every 10 minutes, and after three
 * failures in a row; an object is forgotten while its put is in flight) and puts only objects whose MD5 differs, rank
 * by rank, then deletes objects the release no longer has. A failure is retried with back-off (1 s doubling to 10 s),
 * so the bucket converges after an outage of the storage.
 */
export function startBucketSync(o: BucketSyncOptions): BucketSync {
  const client = o.client ?? bucketClient(o.target);
  const lease = holdLease(o.db, `s3:${o.target.url}`, o.leaseClock ?? systemClock, o.log);
  const concurrency = o.concurrency ?? 16;
  /** What the bucket holds under the prefix, key → MD5; null before the first listing. */
  let remote: Map<string, string> | null = null;
  let listedAt = 0;
  let failuresInRow = 0;
  const stats = { puts: 0, deletes: 0, syncs: 0 };

  async function list(): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: o.target.bucket, Prefix: o.target.prefix, ContinuationToken: token }));
      for (const item of page.Contents ?? []) if (item.Key) found.set(item.Key, (item.ETag ?? '').replaceAll('"', ''));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found;
  }

  async function sync() {
    const { holding } = await lease.claim();
    if (!holding) {
      remote = null;
      return;
    }
    if (o.live.release === null) return;
    const generation = o.live.generation;
    const wanted = [...o.live.files()].flatMap((f) => bucketObjects(o.target.prefix, f));
    try {
      // Listing thousands of objects costs seconds on some servers: list again only when what we know may be wrong.
      if (!remote || failuresInRow >= 3 || performance.now() - listedAt > relistMs) {
        remote = await list();
        listedAt = performance.now();
      }
      const known = remote;
      const puts = wanted.filter((w) => known.get(w.key) !== w.md5);
      for (const rank of [...new Set(puts.map((p) => p.rank))].sort()) {
        await inBatches(
          puts.filter((p) => p.rank === rank),
          concurrency,
          async (p) => {
            known.delete(p.key);
            await client.send(
              new PutObjectCommand({
                Bucket: o.target.bucket,
                Key: p.key,
                Body: p.body,
                ContentType: p.contentType,
                CacheControl: p.cacheControl,
                ContentEncoding: p.contentEncoding,
                ContentMD5: Buffer.from(p.md5, 'hex').toString('base64'),
              }),
            );
            known.set(p.key, p.md5);
            stats.puts++;
          },
        );
      }
      const keep = new Set(wanted.map((w) => w.key));
      const removals = [...known.keys()].filter((k) => !keep.has(k));
      await inBatches(removals, concurrency, async (key) => {
        await client.send(new DeleteObjectCommand({ Bucket: o.target.bucket, Key: key }));
        known.delete(key);
        stats.deletes++;
      });
      stats.syncs++;
      if (puts.length + removals.length > 0) {
        o.log(`Site: bucket ${o.target.url} now holds generation ${generation} (${puts.length} put, ${removals.length} deleted).`);
      }
      failuresInRow = 0;
    } catch (e) {
      failuresInRow++;
      throw e;
    }
    if (o.live.generation !== generation) queue.wake(0);
  }

  const queue = createSupervisor({
    run: sync,
    pollMs: o.pollMs ?? 1_000,
    maxBackoffMs: 10_000,
    onFailure: (error, attempt, retryIn) =>
      o.log(`Site: upload to ${o.target.url} failed (attempt ${attempt}, retrying in ${retryIn / 1000} s): ${error.message}`),
  });
  const unsubscribe = o.live.onChange(() => queue.wake(0));
  queue.wake(0);
  return {
    settled: () => queue.idle(),
    get lastError() {
      return queue.lastError;
    },
    stats,
    async close() {
      unsubscribe();
      await queue.close();
      await lease.release();
      client.destroy();
    },
  };
}

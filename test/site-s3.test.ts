// Publishing the site to S3-compatible storage (a real s3rver on 127.0.0.1): the bucket holds exactly the live release, with the right headers, and converges after an outage.
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assetCacheControl, pageCacheControl } from '../api/site/live.ts';
import { s3rverCredentials, startS3Server, type S3Server } from './s3-server.ts';
import { declare, makeSiteFixture, postUpdate, type SiteFixture } from './site-fixture.ts';
import { waitFor } from './server-process.ts';

let s3: S3Server;
let f: SiteFixture;
let client: S3Client;
beforeAll(async () => {
  // The SDK takes credentials from the environment, as in production.
  Object.assign(process.env, s3rverCredentials);
  s3 = await startS3Server();
  client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
});
afterEach(() => f?.close());
afterAll(async () => {
  client.destroy();
  await s3.close();
});

interface Stored {
  body: Buffer;
  contentType: string | undefined;
  cacheControl: string | undefined;
  contentEncoding: string | undefined;
}

async function bucketContents(prefix: string): Promise<Map<string, Stored>> {
  const found = new Map<string, Stored>();
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, ContinuationToken: token }));
    for (const item of page.Contents ?? []) {
      const object = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: item.Key! }));
      found.set(item.Key!, {
        body: Buffer.from(await object.Body!.transformToByteArray()),
        contentType: object.ContentType,
        cacheControl: object.CacheControl,
        contentEncoding: object.ContentEncoding,
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}

/** What differs between the bucket and the live release: missing, extra or different objects, wrong headers. */
async function differences(prefix: string): Promise<string[]> {
  const stored = await bucketContents(prefix);
  const problems: string[] = [];
  const expected = new Set<string>();
  for (const file of f.site.live.files()) {
    const { path, raw, gzip, br } = file.encoded;
    const type = file.identity.headers['content-type'];
    const cache = path.startsWith('_astro/') ? assetCacheControl : pageCacheControl;
    for (const [key, encoding, body] of [
      [prefix + path, undefined, raw],
      [`${prefix}${path}.gz`, 'gzip', gzip],
      [`${prefix}${path}.br`, 'br', br],
    ] as const) {
      if (!body) continue;
      expected.add(key);
      const object = stored.get(key);
      if (!object) {
        problems.push(`missing ${key}`);
        continue;
      }
      if (!object.body.equals(body)) problems.push(`different ${key}`);
      if (object.contentType !== type) problems.push(`${key} has Content-Type ${object.contentType}, not ${type}`);
      if (object.cacheControl !== cache) problems.push(`${key} has Cache-Control ${object.cacheControl}, not ${cache}`);
      if (object.contentEncoding !== encoding) problems.push(`${key} has Content-Encoding ${object.contentEncoding}`);
      // Every variant unpacks to its file as it is in the bucket.
      if (encoding) {
        const unpacked = encoding === 'gzip' ? gunzipSync(object.body) : brotliDecompressSync(object.body);
        const rawObject = stored.get(prefix + path);
        if (!rawObject || !unpacked.equals(rawObject.body)) problems.push(`${key} does not unpack to ${prefix + path}`);
      }
    }
  }
  for (const key of stored.keys()) if (!expected.has(key)) problems.push(`extra ${key}`);
  return problems;
}

async function converged(prefix: string, timeoutMs: number) {
  let last: string[] = [];
  try {
    await waitFor(
      'the bucket to match the live release',
      async () => {
        await f.rendered();
        await f.site.bucket!.settled();
        try {
          last = await differences(prefix);
        } catch (e) {
          // A connection this test's own client pooled before the storage restarted: look again.
          last = [`reading the bucket: ${(e as Error).message}`];
        }
        return last.length === 0;
      },
      timeoutMs,
      100,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; still: ${last.slice(0, 10).join('; ')}`);
  }
}

describe('publishing to object storage', () => {
  it('holds exactly the live release after declare, update and resolve: keys, bytes, Content-Type, Cache-Control, variants', async () => {
    f = await makeSiteFixture(s3.env('site'));
    expect(f.site.bucket).not.toBeNull();
    await converged('site/', 15_000);
    const keys = [...(await bucketContents('site/')).keys()];
    expect(keys).toContain('site/index.html');
    expect(keys).toContain('site/api/v2/summary.json');

    // Internal wording planted where a leak would show: an internal title, and a whole internal-only incident.
    const incident = await declare(f, { title: 'Uploads are failing', internalTitle: 'Canary-7f3a internal title' });
    await declare(f, { title: 'Canary-7f3a SEV3 only', severity: 'SEV3' });
    await converged('site/', 10_000);
    expect((await bucketContents('site/')).has(`site/incidents/${incident.id}/index.html`)).toBe(true);
    await postUpdate(f, incident.id, 'identified');
    await converged('site/', 10_000);
    await postUpdate(f, incident.id, 'resolved');
    await converged('site/', 10_000);
    const summary = JSON.parse((await bucketContents('site/api/v2/summary.json')).get('site/api/v2/summary.json')!.body.toString());
    expect(summary.incidents).toEqual([]);
    expect(f.logs.filter((l) => l.includes('upload to') && l.includes('failed'))).toEqual([]);
    // The bucket is a public artifact: no object, raw or unpacked, carries internal wording.
    const leaks = [...(await bucketContents('site/'))].filter(([key, o]) => {
      const text = (o.contentEncoding === 'gzip' ? gunzipSync(o.body) : o.contentEncoding === 'br' ? brotliDecompressSync(o.body) : o.body).toString();
      return text.includes('Canary-7f3a') || key.includes('internal');
    });
    expect(leaks.map(([key]) => key)).toEqual([]);
  }, 60_000);

  it('converges after the storage stops mid-render and comes back', async () => {
    f = await makeSiteFixture(s3.env('outage'));
    await converged('outage/', 15_000);
    const first = await declare(f, { title: 'Storage went away' });
    // Stop it while this publish renders and uploads, then publish more while it is down.
    await s3.stop();
    await postUpdate(f, first.id, 'identified');
    const second = await declare(f, { title: 'Published while storage was down', components: [{ id: 'webhooks', status: 'partial_outage' }] });
    await f.rendered();
    await waitFor('an upload to fail', async () => f.site.bucket!.lastError !== null, 15_000, 50);
    expect(f.logs.some((l) => /upload to s3:\/\/status\/outage failed \(attempt \d+, retrying in/.test(l))).toBe(true);
    await s3.start();
    await converged('outage/', 20_000);
    expect((await bucketContents('outage/')).has(`outage/incidents/${second.id}/index.html`)).toBe(true);
    expect(f.site.bucket!.lastError).toBeNull();
  }, 90_000);
});

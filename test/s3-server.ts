// A real S3-compatible server (s3rver) on 127.0.0.1 with one bucket, that a test can stop and start again on the same port and data.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** Environment for a process (or readConfig) that publishes the site under `prefix`. */
  env(prefix: string): Record<string, string>;
  stop(): Promise<void>;
  /** Starts again on the same port with the same objects. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** s3rver's fixed credentials; the SDK reads them from the environment like any AWS credentials. */
export const s3rverCredentials = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

export async function startS3Server(bucket = 'status'): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), 'status-s3-'));
  const options = { address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] };
  let server: S3rver | null = new S3rver({ ...options, port: 0 });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: (prefix) => ({
      ...s3rverCredentials,
      SITE_S3_URL: `s3://${bucket}${prefix ? `/${prefix}` : ''}`,
      AWS_ENDPOINT_URL_S3: endpoint,
      SITE_S3_FORCE_PATH_STYLE: 'true',
    }),
    async stop() {
      await server?.close();
      server = null;
    },
    async start() {
      server = new S3rver({ ...options, port });
      await server.run();
    },
    async close() {
      await server?.close();
      server = null;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

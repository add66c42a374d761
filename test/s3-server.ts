// A real S3-compatible server (s3rver) on 127.0.0.1 with one bucket, that a test can stop and start again with the same data at the same endpoint.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** Environment for a process (or readConfig) that publishes the site under `prefix`. */
  env(prefix: string): Record<string, string>;
  stop(): Promise<void>;
  /** Starts again with the same objects, behind the same endpoint. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** s3rver's fixed credentials; the SDK reads them from the environment like any AWS credentials. */
export const s3rverCredentials = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

export async function startS3Server(bucket = 'status'): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), 'status-s3-'));
  const options = { address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] };
  let server: S3rver | null = null;
  let port = 0;
  const run = async () => {
    server = new S3rver({ ...options, port: 0 });
    port = (await server.run()).port;
  };
  await run();
  // The endpoint is a small TCP relay that keeps its port while s3rver is stopped (connections are refused then),
  // so a restart cannot lose the port to another process on this busy machine.
  const open = new Set<Socket>();
  const relay = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    if (!server) return void client.destroy();
    const upstream = connect(port, '127.0.0.1');
    open.add(upstream);
    upstream.on('close', () => open.delete(upstream));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(relay.address() as { port: number }).port}`;
  const stop = async () => {
    const s = server;
    server = null;
    for (const socket of open) socket.destroy();
    await s?.close();
  };
  return {
    endpoint,
    bucket,
    env: (prefix) => ({
      ...s3rverCredentials,
      SITE_S3_URL: `s3://${bucket}${prefix ? `/${prefix}` : ''}`,
      AWS_ENDPOINT_URL_S3: endpoint,
      SITE_S3_FORCE_PATH_STYLE: 'true',
    }),
    stop,
    start: run,
    async close() {
      await stop();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

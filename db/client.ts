// Opens the database named by DATABASE_URL (a local file, libsql:// or http://) and applies migrations.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from '@libsql/client';
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import * as schema from './schema.ts';

export type Database = LibSQLDatabase<typeof schema> & { $client: Client };
/** A database handle or an open transaction: services accept either. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
export type Queryable = Database | Tx;

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

export interface OpenOptions {
  url: string;
  authToken?: string | undefined;
}

/** A path like ./data/status.db becomes a file: URL; remote URLs pass through. */
export function databaseUrl(url: string): string {
  if (/^(libsql|https?|wss?):/.test(url)) return url;
  const path = url.replace(/^file:(\/\/)?/, '');
  return `file:${resolve(path)}`;
}

export async function openDatabase({ url, authToken }: OpenOptions): Promise<Database> {
  const full = databaseUrl(url);
  const isFile = full.startsWith('file:');
  if (isFile) mkdirSync(dirname(full.slice('file:'.length)), { recursive: true });
  // busy timeout: the API, the render loop and outbox workers write from several connections at once.
  const client = createClient({ url: full, authToken, timeout: isFile ? 5_000 : undefined, intMode: 'number' });
  if (isFile) {
    await client.execute('PRAGMA journal_mode = WAL');
    await client.execute('PRAGMA synchronous = NORMAL');
  }
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder });
  return db;
}

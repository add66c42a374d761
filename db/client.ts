// Opens the database named by DATABASE_URL (a local file, libsql:// or http://) and applies migrations.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client, type InArgs, type InStatement, type TransactionMode } from '@libsql/client';
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import * as schema from './schema.ts';

export type Database = LibSQLDatabase<typeof schema> & { $client: Client };
/** A database handle or an open transaction: services accept either. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
export type Queryable = Database | Tx;

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

interface OpenOptions {
  url: string;
  authToken?: string | undefined;
}

/** A path like ./data/status.db becomes a file: URL; remote URLs pass through. */
function databaseUrl(url: string): string {
  if (/^(libsql|https?|wss?):/.test(url)) return url;
  const path = url.replace(/^file:(\/\/)?/, '');
  return `file:${resolve(path)}`;
}

export async function openDatabase({ url, authToken }: OpenOptions): Promise<Database> {
  const full = databaseUrl(url);
  const isFile = full.startsWith('file:');
  if (isFile) mkdirSync(dirname(full.slice('file:'.length)), { recursive: true });
  // busy timeout: the API, the render loop and outbox workers write from several connections at once.
  const opened = createClient({ url: full, authToken, timeout: isFile ? 5_000 : undefined, intMode: 'number' });
  const queue = isFile ? writeQueue(full) : undefined;
  const client = queue ? queue.wrap(opened) : opened;
  if (isFile) {
    await client.execute('PRAGMA journal_mode = WAL');
    await client.execute('PRAGMA synchronous = NORMAL');
  }
  const db = drizzle(client, { schema });
  if (queue) {
    const transaction = db.transaction.bind(db);
    db.transaction = ((run, config) => queue.locked(() => transaction(run, config))) as typeof db.transaction;
  }
  await migrate(db, { migrationsFolder });
  return db;
}

/**
 * SQLite has one writer. Two connections of this process writing at once would wait for each other in SQLite's
 * busy handler, which sleeps on the event loop: the holder can never commit, so the whole process stalls for the
 * timeout and the waiter fails with SQLITE_BUSY. Writers of one file queue here instead; readers (WAL) never wait.
 */
const writeQueues = new Map<string, ReturnType<typeof createWriteQueue>>();
function writeQueue(url: string) {
  let queue = writeQueues.get(url);
  if (!queue) writeQueues.set(url, (queue = createWriteQueue()));
  return queue;
}

function createWriteQueue() {
  let tail = Promise.resolve();
  // Marks the async context that holds the lock, so a write inside a transaction passes instead of waiting on itself.
  const holder = new AsyncLocalStorage<true>();
  const acquire = async () => {
    let release!: () => void;
    const previous = tail;
    tail = new Promise<void>((r) => (release = r));
    // A writer that waits on itself (a raw transaction, then a write outside it) fails like SQLite would, never hangs.
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([previous.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), 10_000)))]);
    clearTimeout(timer);
    if (!waited) {
      void previous.then(release);
      throw new Error('SQLITE_BUSY: waited 10 s for another writer in this process');
    }
    return release;
  };
  const locked = async <T>(run: () => Promise<T>): Promise<T> => {
    if (holder.getStore()) return run();
    const release = await acquire();
    try {
      return await holder.run(true, run);
    } finally {
      release();
    }
  };
  const isRead = (stmt: InStatement) => /^\s*select\b/i.test(typeof stmt === 'string' ? stmt : stmt.sql);
  const wrap = (client: Client): Client =>
    new Proxy(client, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        if (prop === 'execute') {
          return (stmt: InStatement, args?: InArgs) => (isRead(stmt) ? target.execute(stmt as never, args) : locked(() => target.execute(stmt as never, args)));
        }
        if (prop === 'batch' || prop === 'migrate' || prop === 'executeMultiple') {
          return (...args: unknown[]) => locked(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
        }
        if (prop === 'transaction') {
          // A raw transaction outside db.transaction holds the lock until it settles.
          return async (mode?: TransactionMode) => {
            if (holder.getStore()) return target.transaction(mode);
            const release = await acquire();
            try {
              const tx = await target.transaction(mode);
              const settle = <A extends unknown[], R>(f: (...a: A) => R) => (...a: A): R => {
                try {
                  return f.apply(tx, a);
                } finally {
                  release();
                }
              };
              return Object.assign(tx, { commit: settle(tx.commit), rollback: settle(tx.rollback), close: settle(tx.close) });
            } catch (e) {
              release();
              throw e;
            }
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  return { locked, wrap };
}

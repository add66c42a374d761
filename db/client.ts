// Opens the database named by DATABASE_URL (a local file, libsql:// or http://), applies migrations, and waits for SQLite's write lock without blocking.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createClient, type Client, type InArgs, type InStatement, type TransactionMode } from '@libsql/client';
import { sql, type SQL } from 'drizzle-orm';
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { backoffMs } from '../api/backoff.ts';
import { InsufficientStorageError, UnavailableError } from '../api/errors.ts';
import * as schema from './schema.ts';

export type Database = LibSQLDatabase<typeof schema> & { $client: Client };
/** A database handle or an open transaction: services accept either. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
export type Queryable = Database | Tx;

/**
 * The rows of a large read, each as the array of its columns in order, built as one JSON text inside SQLite and
 * parsed once. @libsql/client makes a JavaScript object per row (about 5 µs each on a 2-core machine: 80 ms for
 * 15,000 rows), where SQLite's json_group_array and one JSON.parse of the same rows cost a third of that (decision 022).
 * `columns`: SQL expressions whose values are numbers, text or null (a JSON column comes back as its text);
 * `from`: the rest of the query after the select list (FROM, WHERE; no GROUP BY: the rows are aggregated into one);
 * `orderBy`: the rows' order (aggregate ORDER BY, SQLite 3.44+). Returns [] when nothing matches.
 */
export async function selectArrays<T extends unknown[]>(db: Queryable, columns: SQL[], from: SQL, orderBy?: SQL): Promise<T[]> {
  const order = orderBy ? sql` ORDER BY ${orderBy}` : sql``;
  const [row] = await db.all<{ rows: string | null }>(sql`SELECT json_group_array(json_array(${sql.join(columns, sql`, `)})${order}) AS rows ${from}`);
  return JSON.parse(row?.rows ?? '[]') as T[];
}

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** How long a write waits for the write lock by default, in ms, before it is answered 503. */
export const defaultLockWaitMs = 5_000;

interface OpenOptions {
  url: string;
  authToken?: string | undefined;
  /** How long a write waits for the lock (another process's or this one's other writers) before UnavailableError, in ms. */
  lockWaitMs?: number | undefined;
}

/** A path like ./data/status.db becomes a file: URL; remote URLs pass through. */
function databaseUrl(url: string): string {
  if (/^(libsql|https?|wss?):/.test(url)) return url;
  const path = url.replace(/^file:(\/\/)?/, '');
  return `file:${resolve(path)}`;
}

/**
 * Opens and migrates the database. A file database keeps WAL (readers never wait for the writer) and waits for the
 * write lock asynchronously (see fileClient); a remote libSQL server does its own locking, so its client is used as is.
 * Errors: UnavailableError (503) when the lock stays taken past `lockWaitMs`, InsufficientStorageError (507) on a full disk.
 */
export async function openDatabase({ url, authToken, lockWaitMs = defaultLockWaitMs }: OpenOptions): Promise<Database> {
  const full = databaseUrl(url);
  if (!full.startsWith('file:')) {
    const db = drizzle(createClient({ url: full, authToken, intMode: 'number' }), { schema });
    await migrate(db, { migrationsFolder });
    return db;
  }
  mkdirSync(dirname(full.slice('file:'.length)), { recursive: true });
  const file = fileClient(full, lockWaitMs);
  await file.client.execute('PRAGMA journal_mode = WAL');
  const db = drizzle(file.client, { schema });
  const transaction = db.transaction.bind(db);
  db.transaction = ((run, config) => file.writing(() => transaction(run, config))) as typeof db.transaction;
  await migrate(db, { migrationsFolder });
  return db;
}

/** A SQLite result code of an error from @libsql/client or drizzle (which wraps it as `cause`), e.g. SQLITE_BUSY. */
function sqliteCode(e: unknown): string | null {
  for (let cause = e, depth = 0; cause && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    const { code, rawCode } = cause as { code?: unknown; rawCode?: unknown };
    if (typeof rawCode === 'number') return sqliteCodes[rawCode & 0xff] ?? `SQLITE_${rawCode}`;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return code.replace(/^(SQLITE_[A-Z]+).*/, '$1');
    if (code === 'ENOSPC') return 'SQLITE_FULL';
  }
  return null;
}
const sqliteCodes: Record<number, string> = { 5: 'SQLITE_BUSY', 6: 'SQLITE_LOCKED', 10: 'SQLITE_IOERR', 13: 'SQLITE_FULL', 14: 'SQLITE_CANTOPEN', 15: 'SQLITE_PROTOCOL' };

/** The lock is taken (by another process, or another connection of this one): wait and try again. */
const isBusy = (e: unknown) => ['SQLITE_BUSY', 'SQLITE_LOCKED'].includes(sqliteCode(e) ?? '');
/**
 * After these a connection is not trusted again. A statement that failed with SQLITE_BUSY can stay "in progress" on
 * @libsql/client's connection, and then every later write on it is answered but never committed (issue 17).
 */
const breaksConnection = (e: unknown) => ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN', 'SQLITE_PROTOCOL'].includes(sqliteCode(e) ?? '');

/** The error a caller sees for a database fault it can act on: 507 for a full disk; anything else as it was. */
function asDomainError(e: unknown): unknown {
  if (sqliteCode(e) === 'SQLITE_FULL') return new InsufficientStorageError('The disk holding the database is full; nothing was stored. Free some space and try again.');
  return e;
}

const isRead = (stmt: InStatement) => /^\s*select\b/i.test(typeof stmt === 'string' ? stmt : stmt.sql);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Lock retries start at 5 ms and back off to 100 ms: a short write elsewhere is waited for at once, a long one cheaply. */
const lockBackoff = { baseMs: 5, maxMs: 100 };

/**
 * SQLite has one writer per file. Its busy handler would wait for the lock by sleeping on the event loop (the whole
 * process freezes, GET / included), so the connections here have no busy timeout: a write that finds the lock taken
 * fails at once with SQLITE_BUSY, and is tried again after an asynchronous back-off until `lockWaitMs` has passed from
 * when it asked, then fails with UnavailableError (503). Only the BEGIN of a transaction is retried, never the work in
 * it, and a single statement is retried only when SQLite refused it whole.
 *
 * Writers of this process queue in one line (a transaction holds it to the end), so at most one of them waits on
 * SQLite; they write on their own client, and reads go through another (WAL: readers never wait for the writer).
 * After a busy or I/O error the client that saw it is closed and a fresh one opened behind the same handle.
 */
function fileClient(url: string, lockWaitMs: number) {
  const open = (which: 'read' | 'write') => {
    const opened = createClient({ url, timeout: 0, intMode: 'number' });
    // Per connection; the write line keeps reusing the same one. WAL with NORMAL loses nothing on kill -9, only on power loss.
    if (which === 'write') void opened.execute('PRAGMA synchronous = NORMAL').catch(() => {});
    return opened;
  };
  const clients = { read: open('read'), write: open('write'), closed: false };
  const renew = (which: 'read' | 'write') => {
    const old = clients[which];
    clients[which] = open(which);
    old.close();
  };
  const queue = writeQueue(url);

  /** Runs `op` until it is not refused for a busy lock, or the deadline passes; renews the client after any fault. */
  async function retrying<T>(which: 'read' | 'write', deadline: number, op: (client: Client) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await op(clients[which]);
      } catch (e) {
        // Another operation renewed this client between our borrow and our statement: use the new one.
        if ((e as { code?: string }).code === 'CLIENT_CLOSED' && !clients.closed && attempt < 3) continue;
        // Our own open transaction holds the lock (a write outside it, inside it): waiting would never end.
        if (which === 'write' && queue.holder.getStore()?.inTransaction) throw asDomainError(e);
        if (!breaksConnection(e) || clients.closed) throw asDomainError(e);
        renew(which);
        if (!isBusy(e)) throw asDomainError(e);
        const left = deadline - performance.now();
        if (left <= 0) throw busy(lockWaitMs);
        await sleep(Math.min(left, backoffMs(attempt, lockBackoff)));
      }
    }
  }

  /** Runs `run` holding this process's write line, with the deadline of the write that asked. */
  const writing = async <T>(run: () => Promise<T>): Promise<T> => {
    if (queue.holder.getStore()) return run();
    const deadline = performance.now() + lockWaitMs;
    const release = await queue.acquire(deadline, lockWaitMs);
    try {
      return await queue.holder.run({ deadline, inTransaction: false }, run);
    } catch (e) {
      if (breaksConnection(e) && !clients.closed) renew('write');
      throw asDomainError(e);
    } finally {
      release();
    }
  };
  const deadline = () => queue.holder.getStore()?.deadline ?? performance.now() + lockWaitMs;
  const write = <T>(op: (client: Client) => Promise<T>) => writing(() => retrying('write', deadline(), op));

  const client = {
    get closed() {
      return clients.closed;
    },
    protocol: 'file',
    execute(stmt: InStatement | string, args?: InArgs) {
      const call = (c: Client) => (typeof stmt === 'string' ? c.execute(stmt, args) : c.execute(stmt));
      return isRead(stmt) ? retrying('read', performance.now() + lockWaitMs, call) : write(call);
    },
    batch(stmts: InStatement[], mode?: TransactionMode) {
      return write((c) => c.batch(stmts, mode));
    },
    migrate(stmts: InStatement[]) {
      return write((c) => c.migrate(stmts));
    },
    executeMultiple(sql: string) {
      return write((c) => c.executeMultiple(sql));
    },
    /** A transaction outside db.transaction holds the write line until it settles. */
    async transaction(mode?: TransactionMode) {
      const held = queue.holder.getStore();
      if (held) {
        const tx = await retrying('write', held.deadline, (c) => c.transaction(mode));
        held.inTransaction = true;
        return tx;
      }
      const started = performance.now() + lockWaitMs;
      const release = await queue.acquire(started, lockWaitMs);
      try {
        const tx = await queue.holder.run({ deadline: started, inTransaction: false }, () => retrying('write', started, (c) => c.transaction(mode)));
        const settle =
          <A extends unknown[], R>(f: (...a: A) => R) =>
          (...a: A): R => {
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
    },
    sync() {
      return clients.write.sync();
    },
    async reconnect() {
      renew('read');
      renew('write');
    },
    close() {
      clients.closed = true;
      clients.read.close();
      clients.write.close();
    },
  } as unknown as Client;
  return { client, writing };
}

function busy(lockWaitMs: number) {
  return new UnavailableError(
    `The database is busy: another writer held its lock for more than ${lockWaitMs / 1000} s. Nothing was stored; try again.`,
    Math.max(1, Math.ceil(lockWaitMs / 1000)),
  );
}

/** One line of writers per database file in this process, so two of its own connections never wait on each other. */
const writeQueues = new Map<string, ReturnType<typeof createWriteQueue>>();
function writeQueue(url: string) {
  let queue = writeQueues.get(url);
  if (!queue) writeQueues.set(url, (queue = createWriteQueue()));
  return queue;
}

function createWriteQueue() {
  let tail = Promise.resolve();
  // Marks the async context that holds the line, so a write inside a transaction passes instead of waiting on itself.
  const holder = new AsyncLocalStorage<{ deadline: number; inTransaction: boolean }>();
  /** Waits for the line until `deadline` (performance.now() ms); resolves to its release. */
  const acquire = async (deadline: number, lockWaitMs: number) => {
    let release!: () => void;
    const previous = tail;
    tail = new Promise<void>((r) => (release = r));
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      previous.then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), Math.max(0, deadline - performance.now())))),
    ]);
    clearTimeout(timer);
    if (!waited) {
      // Our place passes on when the writer ahead is done; we no longer use it.
      void previous.then(release);
      throw busy(lockWaitMs);
    }
    return release;
  };
  return { acquire, holder };
}

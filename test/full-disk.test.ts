// A full disk: writes that cannot be stored answer 507 problem+json and store nothing; .eml files are whole or absent.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, expect, it } from 'vitest';
import { systemClock } from '../api/clock.ts';
import { mailSettings } from '../api/mail/compose.ts';
import { fileTransport } from '../api/mail/transport.ts';
import { startOutboxWorker, type OutboxWorker } from '../api/outbox/worker.ts';
import { declare, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { addStakeholder, confirmedSubscriber, countRows } from './fanout-support.ts';
import { until } from './until.ts';

const mounts: string[] = [];
let f: Fixture | undefined;
let worker: OutboxWorker | undefined;

afterEach(async () => {
  await worker?.stop();
  await f?.close();
  worker = f = undefined;
  for (const dir of mounts.splice(0)) {
    // Lazy: a connection dropped after a fault is closed by libsql only once its statements are collected.
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A small tmpfs of its own (CI runs as root); a mount that fails fails the test, it never skips. */
function smallDisk(size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'status-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

/** Fills the file system holding `dir` to the last byte; returns the filler's path (remove it to free the space). */
function fill(dir: string): string {
  const filler = join(dir, 'filler');
  writeFileSync(filler, '');
  for (const chunk of [65_536, 4_096, 512, 1]) {
    const bytes = Buffer.alloc(chunk, 1);
    for (;;) {
      try {
        writeFileSync(filler, bytes, { flag: 'a' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
        break;
      }
    }
  }
  return filler;
}

it('answers 507 problem+json to a publish the full disk cannot hold, stores none of it, and stores the next one once there is room', async () => {
  const disk = smallDisk('8m');
  f = await makeFixture({ DATA_DIR: disk });
  await seedComponents(f);
  await declare(f, { title: 'Before the disk filled' });
  const filler = fill(disk);

  const refused = await f.call('POST', '/api/v1/incidents', {
    token: 'comms',
    body: { title: 'Cannot be stored', severity: 'SEV1', template: 'free-form', variables: { message: 'x'.repeat(3_900) }, components: [{ id: 'api', status: 'major_outage' }] },
  });
  expect(refused.status, await refused.clone().text()).toBe(507);
  expect(refused.headers.get('content-type')).toBe('application/problem+json');
  expect(await refused.json()).toMatchObject({ status: 507, title: 'Insufficient storage' });
  // Reads keep answering, and nothing of the refused publish is there.
  const list = await f.call('GET', '/api/v1/incidents', { token: 'viewer' });
  expect(list.status, await list.clone().text()).toBe(200);
  expect(await countRows(f, 'incidents', "title = 'Cannot be stored'")).toBe(0);
  expect(await countRows(f, 'updates')).toBe(1);

  rmSync(filler);
  await declare(f, { title: 'After the space came back' });
  expect(await countRows(f, 'incidents')).toBe(2);
});

it('writes each .eml whole or not at all on a full disk, and writes every one once there is room again', async () => {
  f = await makeFixture();
  await seedComponents(f);
  for (const email of ['a@example.com', 'b@example.com', 'c@example.com']) await confirmedSubscriber(f, email);
  await addStakeholder(f, 'exec@example.com', 'Eve Exec');
  await f.services.db.$client.execute("DELETE FROM deliveries WHERE kind = 'confirmation'");
  const mailDir = join(smallDisk('256k'), 'mail');
  const filler = fill(join(mailDir, '..'));
  f.clock.set(new Date());
  await declare(f);
  await declare(f, { title: 'Second' });
  const expected = await countRows(f, 'deliveries');
  expect(expected).toBe(8);

  const logs: string[] = [];
  worker = startOutboxWorker({
    db: f.services.db,
    clock: systemClock,
    transport: fileTransport(mailDir, () => {}),
    mail: mailSettings(f.config),
    log: (m) => logs.push(m),
    pollMs: 20,
    serverBackoffMs: 50,
  });
  await until(() => logs.filter((l) => l.includes('is full')).length >= 2, 'two tries against the full disk');
  // Nothing half-written: no .eml at all, no temporary left behind, nothing spent or given up.
  expect(readdirSync(mailDir)).toEqual([]);
  expect(await countRows(f, 'deliveries', "status = 'pending' AND attempts = 0")).toBe(expected);

  rmSync(filler);
  await until(async () => (await countRows(f!, 'deliveries', "status = 'sent'")) === expected, 'every message written once there is room');
  const files = readdirSync(mailDir);
  expect(files.filter((n) => n.endsWith('.eml'))).toHaveLength(expected);
  expect(files.filter((n) => !n.endsWith('.eml'))).toEqual([]);
  for (const name of files) {
    expect(statSync(join(mailDir, name)).size, name).toBeGreaterThan(0);
    const parsed = await simpleParser(readFileSync(join(mailDir, name)));
    expect(parsed.subject, name).toBeTruthy();
    expect(parsed.text, name).toBeTruthy();
  }
});

// The shell's side of people: `npm run member` adds a member and prints a one-time link, refuses bad input naming each flag; `npm start` prints the first admin's link while no admin exists, and not after.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfig } from '../api/config.ts';
import { openServices } from '../api/server.ts';
import { systemActor } from '../api/services/context.ts';
import { addMember } from '../api/services/members.ts';
import { runProcess } from './server-process.ts';
import { startServerProcess } from './server-process.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'status-member-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const env = (extra: Record<string, string>) => ({ PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, NODE_ENV: 'test', ...extra });
const member = (dir: string, ...args: string[]) => runProcess(process.execPath, [tsx, 'bin/member.ts', ...args], { cwd: root, env: env({ DATA_DIR: dir, PUBLIC_URL: 'https://status.example.com' }) });

describe('npm run member', () => {
  it('adds a member and prints a one-time sign-in link as the last line; a second add of the address says so', async () => {
    const dir = tempDir();
    const added = await member(dir, 'add', '--email', 'Dana@Example.com', '--name', 'Dana Lee', '--role', 'comms');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toContain('Added comms member "Dana Lee" <dana@example.com>');
    expect(added.stdout.trim()).toMatch(/^https:\/\/status\.example\.com\/internal\/sign-in\/link\?token=[A-Za-z0-9_-]{43}$/);
    const again = await member(dir, 'add', '--email', 'dana@example.com', '--name', 'Dana', '--role', 'admin');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('dana@example.com is already a member.');
    const listed = await member(dir, 'list');
    expect(listed.stdout).toMatch(/comms\s+Dana Lee <dana@example.com>\s+never signed in/);
  });

  it('refuses bad flags with exit code 2, one line per flag, and stores nothing', async () => {
    const dir = tempDir();
    const bad = await member(dir, 'add', '--email', 'nope', '--name', '', '--role', 'owner');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--email must be an email address.');
    expect(bad.stderr).toContain('--name must not be empty.');
    expect(bad.stderr).toContain('--role must be one of viewer, comms, admin.');
    expect((await member(dir, 'list')).stdout.trim()).toBe('');
  });
});

describe('npm start on a first run', () => {
  it('prints one line with the first admin sign-in link while no admin member exists, and none once one does', async () => {
    const dir = tempDir();
    const first = await startServerProcess({ DATA_DIR: dir });
    await first.stop();
    const line = first.lines.filter((l) => /first admin/.test(l));
    expect(line).toHaveLength(1);
    expect(line[0]).toMatch(/^No admin yet: sign in as the first admin within 15 minutes, once, at http:\/\/\S+\/internal\/sign-in\/link\?token=\S+$/);
    const services = await openServices(readConfig({ DATA_DIR: dir }), { log: () => {} });
    await addMember(services, systemActor('test'), { email: 'ada@example.com', name: 'Ada', role: 'admin' });
    services.db.$client.close();
    const second = await startServerProcess({ DATA_DIR: dir });
    await second.stop();
    expect(second.lines.filter((l) => /first admin/.test(l))).toEqual([]);
  });
});

// A newcomer's first commands: `npm start` on too old a Node stops with one line, and `npm install` leaves the checkout as cloned.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeVersionProblem, requiredNodeRange } from '../bin/check-node.mjs';
import { runProcess } from './server-process.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The machine's old Node (Debian's is 20); CI puts a current Node first on PATH and leaves this one in place. */
const oldNode = process.env.OLD_NODE ?? '/usr/bin/node';

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});



describe('the Node.js version check', () => {
  it('reads the range from package.json engines and compares versions part by part', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(requiredNodeRange()).toBe(pkg.engines.node);
    expect(nodeVersionProblem('22.12.0', '>=22.12.0')).toBeNull();
    expect(nodeVersionProblem('22.13.1', '>=22.12.0')).toBeNull();
    expect(nodeVersionProblem('24.0.0', '>=22.12.0')).toBeNull();
    expect(nodeVersionProblem('v100.0.0', '>=22.12.0')).toBeNull();
    expect(nodeVersionProblem('22.11.9', '>=22.12.0')).toMatch(/^statusdesk needs Node\.js >=22\.12\.0 \(package\.json engines\); this is Node\.js 22\.11\.9 /);
    expect(nodeVersionProblem('20.20.2', '>=22.12.0')).toContain('Node.js 20.20.2');
    expect(nodeVersionProblem('9.99.99', '>=22.12.0')).not.toBeNull();
    // A range the check does not understand must not switch it off quietly.
    expect(() => nodeVersionProblem('24.0.0', '^22 || ^24')).toThrow(/not of the form/);
  });

  it('`npm start` with Node 20 first on PATH exits non-zero with one line naming the version needed, before anything starts', async () => {
    assert.ok(existsSync(oldNode), `this test runs npm start under an old Node at ${oldNode}; install one there or set OLD_NODE`);
    const version = spawnSync(oldNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    expect(nodeVersionProblem(version), `${oldNode} is Node ${version}, not older than engines ${requiredNodeRange()}: the test would prove nothing`).not.toBeNull();

    // A person whose `node` is 20: put it first on PATH, so npm and the start script both run on it.
    const bin = tempDir('status-oldnode-');
    symlinkSync(oldNode, join(bin, 'node'));
    const data = tempDir('status-oldnode-data-');
    const env = { PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME, DATA_DIR: data, PORT: '0', NO_COLOR: '1' };
    const result = await runProcess('npm', ['start'], { cwd: root, env, timeoutMs: 60_000 });
    const output = result.stdout + result.stderr;
    expect(result.code, output).not.toBe(0);
    expect(result.code, output).not.toBeNull();
    const lines = result.stderr.split('\n').filter((l) => l.includes('statusdesk needs Node.js'));
    expect(lines, output).toEqual([`statusdesk needs Node.js ${requiredNodeRange()} (package.json engines); this is Node.js ${version} (${oldNode}). Install Node.js 24 LTS and run the command again.`]);
    expect(output).not.toContain('Status page running');
    expect(existsSync(join(data, 'status.db')), 'nothing was migrated').toBe(false);
  });

  it('`npx statusctl` with Node 20 first on PATH exits non-zero with the same line, before tsx loads', async () => {
    assert.ok(existsSync(oldNode), `this test runs statusctl under an old Node at ${oldNode}; install one there or set OLD_NODE`);
    const version = spawnSync(oldNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    const bin = tempDir('status-oldnode-ctl-');
    symlinkSync(oldNode, join(bin, 'node'));
    const env = { PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME, NO_COLOR: '1', STATUS_URL: 'http://127.0.0.1:9' };
    const result = await runProcess('npx', ['statusctl', 'list'], { cwd: root, env, timeoutMs: 60_000 });
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(1);
    expect(result.stderr.split('\n').filter((l) => l.startsWith('statusdesk needs Node.js')), output).toEqual([
      `statusdesk needs Node.js ${requiredNodeRange()} (package.json engines); this is Node.js ${version} (${oldNode}). Install Node.js 24 LTS and run the command again.`,
    ]);
    expect(output).not.toContain('cannot reach');
  });

  it('run directly with the old Node, the check prints exactly one line and exits 1; with this Node it is silent', () => {
    assert.ok(existsSync(oldNode), `no old Node at ${oldNode}; set OLD_NODE`);
    const old = spawnSync(oldNode, [join(root, 'bin', 'check-node.mjs')], { encoding: 'utf8' });
    expect(old.status).toBe(1);
    expect(old.stdout).toBe('');
    expect(old.stderr.trimEnd().split('\n')).toHaveLength(1);
    const current = spawnSync(process.execPath, [join(root, 'bin', 'check-node.mjs')], { encoding: 'utf8' });
    expect(current).toMatchObject({ status: 0, stdout: '', stderr: '' });
  });
});

describe('npm install on a fresh clone', () => {
  it('leaves package-lock.json byte for byte as committed and warns about no install script', async () => {
    const dir = tempDir('status-install-');
    for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(root, f), join(dir, f));
    // The npm beside this (current) Node, as CI and the README's Node 24 would run it.
    // The machine's environment (its CA bundle and proxy settings reach the registry), less what the npm running
    // this test passed down to it.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
    const env = { ...inherited, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, NO_COLOR: '1' };
    const result = await runProcess('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, env, timeoutMs: 240_000 });
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(0);
    expect(readFileSync(join(dir, 'package-lock.json'), 'utf8')).toBe(readFileSync(join(root, 'package-lock.json'), 'utf8'));
    expect(output).not.toMatch(/install-scripts|allowScripts|npm warn/i);
    const pending = await runProcess('npm', ['install-scripts', 'ls'], { cwd: dir, env, timeoutMs: 60_000 });
    expect(pending.stdout + pending.stderr).toContain('No packages with unreviewed install scripts.');
  }, 300_000);
});

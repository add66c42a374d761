// statusctl as a subprocess against a real server: unattended with flags, and step by step through a pseudo-terminal.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../api/services/tokens.ts';
import { readConfig } from '../api/config.ts';
import { startServer, type Running } from '../api/server.ts';
import { projectRoot } from '../api/site/astro.ts';
import { runProcess, type ProcessResult } from './server-process.ts';
import { systemActor } from '../api/services/context.ts';

let running: Running;
let dir: string;
const tokens = { comms: '', viewer: '' };
const shim = join(projectRoot, 'bin', 'statusctl.mjs');


function statusctl(args: string[], env: Record<string, string> = {}, command = [process.execPath, shim]): Promise<ProcessResult> {
  return runProcess(command[0]!, [...command.slice(1), ...args], {
    cwd: projectRoot,
    env: { ...process.env, STATUS_URL: running.url, STATUS_TOKEN: tokens.comms, NO_COLOR: '1', ...env },
    closeStdin: true,
  });
}

/** statusctl in a pseudo-terminal (util-linux `script`, 200 columns wide), answering each prompt once it shows. */
class Terminal {
  private raw = '';
  private child: ChildProcessWithoutNullStreams;
  private waiting: (() => void) | null = null;
  readonly done: Promise<number | null>;
  constructor(args: string[]) {
    const quote = (a: string) => `'${a.replaceAll("'", "'\\''")}'`;
    const line = `stty cols 200 rows 50; exec ${[process.execPath, shim, ...args].map(quote).join(' ')}`;
    this.child = spawn('script', ['-qfec', line, '/dev/null'], {
      cwd: projectRoot,
      env: { ...process.env, STATUS_URL: running.url, STATUS_TOKEN: tokens.comms, TERM: 'xterm' },
    });
    const take = (d: Buffer) => {
      this.raw += d;
      this.waiting?.();
    };
    this.child.stdout.on('data', take);
    this.child.stderr.on('data', take);
    this.done = new Promise((resolve) => this.child.on('close', (code) => (this.waiting?.(), resolve(code))));
  }
  /** What the screen showed, without colours and cursor moves. */
  get output() {
    return this.raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  }
  /**
   * Waits until `text` shows after position `after`; fails loudly with what the screen showed. A condition, so the
   * generous bound costs nothing on a quiet machine and holds on a busy one (tsx compiling statusctl under load).
   */
  async waitFor(text: string, after = 0, timeoutMs = 60_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.output.indexOf(text, after);
      if (at >= 0) return at + text.length;
      const left = deadline - Date.now();
      if (left <= 0 || this.child.exitCode !== null) {
        this.child.kill();
        throw new Error(`waited for "${text}"; the terminal showed:\n${this.output.slice(-3000)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting = () => (clearTimeout(timer), (this.waiting = null), resolve());
      });
    }
  }
  send(keys: string) {
    this.child.stdin.write(keys);
  }
}

const enter = '\r';
const down = '\x1b[B';
const space = ' ';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'status-ctl-'));
  running = await startServer(readConfig({ DATA_DIR: dir, PORT: '0', SEED_DEMO: 'false', PUBLIC_URL: 'http://127.0.0.1' }), {
    log: () => {},
    schedulerIntervalMs: 0,
    outboxPollMs: 0,
  });
  tokens.comms = (await createToken(running.services, systemActor('test'), { role: 'comms', name: 'Casey Comms' })).token;
  tokens.viewer = (await createToken(running.services, systemActor('test'), { role: 'viewer', name: 'Vic Viewer' })).token;
  const admin = (await createToken(running.services, systemActor('test'), { role: 'admin', name: 'Ada' })).token;
  for (const [order, [id, name]] of [['api', 'API'], ['dashboard', 'Dashboard']].entries()) {
    const res = await fetch(`${running.url}/api/v1/components`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id, name, order }),
    });
    if (res.status !== 201) throw new Error(`component ${id}: ${res.status}`);
  }
}, 120_000);

afterAll(async () => {
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function incident(id: string) {
  const res = await fetch(`${running.url}/api/v1/incidents/${id}`, { headers: { authorization: `Bearer ${tokens.comms}` } });
  return (await res.json()) as { status: string; severity: string; title: string; components: { id: string; status: string }[]; updates: { template: string; variables: Record<string, string> }[] };
}

describe('statusctl unattended', () => {
  it('runs from the checkout with npx statusctl', async () => {
    const r = await statusctl(['--help'], {}, ['npx', '--no-install', 'statusctl']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('statusctl declare');
  });

  it('declares with flags and --yes, printing the incident id; update and resolve follow', async () => {
    const r = await statusctl([
      'declare', '--severity', 'SEV1', '--template', 'investigating', '--title', 'Checkout is failing',
      '--component', 'api=major_outage', '--var', 'symptom=Card payments fail = sometimes', '--yes',
    ]);
    expect(r.stderr).toContain('Published SEV1');
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(/^[a-z0-9]+$/);
    const declared = await incident(id);
    expect(declared).toMatchObject({ status: 'investigating', severity: 'SEV1', title: 'Checkout is failing' });
    expect(declared.updates[0]!.variables.symptom).toBe('Card payments fail = sometimes');

    const list = await statusctl(['list']);
    expect(list.stdout).toContain(id);
    const show = await statusctl(['show', id]);
    expect(show.stdout).toContain('Card payments fail = sometimes');

    const u = await statusctl(['update', id, '--status', 'identified', '--template', 'identified', '--var', 'symptom=x', '--var', 'cause=y', '--var', 'fix=z', '--yes']);
    expect(u.code, u.stderr).toBe(0);
    expect((await incident(id)).status).toBe('identified');

    const resolved = await statusctl(['resolve', id, '--var', 'what_happened=Payments failed.', '--var', 'resolution=Fixed.', '--yes']);
    expect(resolved.code, resolved.stderr).toBe(0);
    const after = await incident(id);
    expect(after.status).toBe('resolved');
    expect(after.updates[0]!.template).toBe('resolved');
    expect(after.components.every((c) => c.status === 'operational')).toBe(true);
  });

  it('prints the template keys and previews both wordings with the audience', async () => {
    const t = await statusctl(['templates']);
    expect(t.code).toBe(0);
    for (const key of ['investigating', 'identified', 'resolved', 'free-form']) expect(t.stdout).toMatch(new RegExp(`^${key}\\s`, 'm'));
    // One column each: every row's name starts at the same place, however long a status list is.
    const lines = t.stdout.trim().split('\n');
    const nameAt = (line: string, name: string) => line.lastIndexOf(name);
    const named = lines.map((l) => /(\S.*)$/.exec(l.replace(/^(\S+\s+){3}/, ''))?.[1] ?? '');
    expect(new Set(lines.map((l, i) => nameAt(l, named[i]!))).size).toBe(1);
    const p = await statusctl(['preview', '--template', 'investigating', '--var', 'symptom=Slow pages', '--var', 'hypothesis=CANARY-INTERNAL', '--title', 'Slow', '--severity', 'SEV2', '--component', 'dashboard=degraded_performance']);
    expect(p.code, p.stderr).toBe(0);
    const [external, internal] = p.stdout.split('--- Internal wording');
    expect(p.stdout).toContain('Who will be told: public page · 0 subscribers · 0 executives');
    expect(p.stdout).toContain('Warning: 0 executives will be briefed');
    expect(external).toContain('Investigating: Slow');
    expect(external).not.toContain('CANARY-INTERNAL');
    expect(internal).toContain('CANARY-INTERNAL');
  });

  it('fails with the problem detail and a non-zero exit: a refused token says 401, a viewer 403, bad input names the field', async () => {
    const bad = await statusctl(['list'], { STATUS_TOKEN: 'sdk_not-a-token' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/401 Unauthorized: The token is unknown or revoked/);
    const viewer = await statusctl(['declare', '--severity', 'SEV2', '--template', 'investigating', '--title', 'x', '--component', 'api=major_outage', '--var', 'symptom=y', '--yes'], { STATUS_TOKEN: tokens.viewer });
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toContain('403');
    const missing = await statusctl(['declare', '--severity', 'SEV2', '--template', 'investigating', '--title', 'x', '--component', 'api=major_outage', '--yes']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/variables\.symptom: required variable is missing/);
    const usage = await statusctl(['declare', '--title', 'x']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--severity is required');
    const noYes = await statusctl(['declare', '--severity', 'SEV2', '--template', 'investigating', '--title', 'x', '--component', 'api=major_outage', '--var', 'symptom=y']);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toContain('needs --yes');
    const unreachable = await statusctl(['list'], { STATUS_URL: 'http://127.0.0.1:9' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach');
  });

  it('a STATUS_URL that answers a web page fails with one line saying so, not a stack trace', async () => {
    const page = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Sign in</html>'));
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    try {
      const r = await statusctl(['list'], { STATUS_URL: `http://127.0.0.1:${(page.address() as AddressInfo).port}` });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^statusctl: 200 OK: .* did not answer with the status page API's JSON \(text\/html\); check STATUS_URL\n$/);
    } finally {
      page.close();
    }
    const wrongPath = await statusctl(['list'], { STATUS_URL: `${running.url}/status` });
    expect(wrongPath.code).toBe(1);
    expect(wrongPath.stderr).toContain('404 Not Found');
    expect(wrongPath.stderr).toContain('check STATUS_URL');
    expect(wrongPath.stderr).not.toContain('<');
  });

  it('--next-update sets the next update on declare and update; a value that is not whole minutes is a usage error', async () => {
    const bad = await statusctl(['declare', '--severity', 'SEV2', '--template', 'investigating', '--title', 'Typo', '--component', 'api=major_outage', '--var', 'symptom=y', '--next-update', '30m', '--yes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--next-update takes whole minutes');
    const open = await statusctl(['list']);
    expect(open.stdout).not.toContain('Typo');

    const d = await statusctl(['declare', '--severity', 'SEV2', '--template', 'investigating', '--title', 'Cadence', '--component', 'api=major_outage', '--var', 'symptom=y', '--next-update', '45', '--yes']);
    expect(d.code, d.stderr).toBe(0);
    const id = d.stdout.trim();
    const dueIn = async () => {
      const res = await fetch(`${running.url}/api/v1/incidents/${id}`, { headers: { authorization: `Bearer ${tokens.comms}` } });
      const body = (await res.json()) as { nextUpdateAt: string; updates: { createdAt: string }[] };
      return Math.round((Date.parse(body.nextUpdateAt) - Date.parse(body.updates[0]!.createdAt)) / 60_000);
    };
    expect(await dueIn()).toBe(45);
    const u = await statusctl(['update', id, '--status', 'identified', '--template', 'identified', '--var', 'symptom=x', '--var', 'cause=y', '--var', 'fix=z', '--next-update', '120', '--yes']);
    expect(u.code, u.stderr).toBe(0);
    expect(await dueIn()).toBe(120);
    const typo = await statusctl(['update', id, '--status', 'monitoring', '--template', 'monitoring', '--var', 'recovery=a', '--next-update', 'soon', '--yes']);
    expect(typo.code).toBe(2);
    expect((await incident(id)).status).toBe('identified');
  });
});

describe('statusctl in a terminal', () => {
  it('asks step by step, shows both wordings, and publishes on confirmation', async () => {
    const t = new Terminal(['declare']);
    let at = await t.waitFor('Severity');
    t.send(enter); // SEV1, the first choice
    at = await t.waitFor('Template', at);
    t.send(enter); // investigating comes first for the investigating status
    at = await t.waitFor('Title (public', at);
    t.send(`Sign-in is failing${enter}`);
    at = await t.waitFor('Internal title', at);
    t.send(`Auth DB failover stuck${enter}`);
    at = await t.waitFor('What users are seeing [symptom]', at);
    t.send(`Customers cannot sign in.${enter}`);
    at = await t.waitFor('Workaround for users [workaround]', at);
    t.send(enter);
    at = await t.waitFor('Working theory [hypothesis]', at);
    t.send(`Replica lag after failover.${enter}`);
    at = await t.waitFor('What we need from leadership [leadership_ask]', at);
    t.send(enter);
    at = await t.waitFor('Affected components', at);
    t.send(`${down}${space}${enter}`); // Dashboard
    at = await t.waitFor('Impact on Dashboard', at);
    t.send(enter); // major outage
    at = await t.waitFor('Internal wording', at);
    // The wording under its heading may reach the terminal a moment after the heading: wait for it, not read at once.
    await t.waitFor('Replica lag after failover.', at);
    expect(t.output).toContain('Investigating: Sign-in is failing');
    expect(t.output).toContain('Who will be told: public page');
    at = await t.waitFor('Publish this SEV1 incident?', at);
    t.send(`y${enter}`);
    await t.waitFor('Published. Incident', at);
    expect(await t.done).toBe(0);
    const id = /Published\. Incident ([a-z0-9]+)/.exec(t.output)![1]!;
    const declared = await incident(id);
    expect(declared).toMatchObject({ severity: 'SEV1', status: 'investigating', title: 'Sign-in is failing' });
    expect(declared.components).toEqual([{ id: 'dashboard', name: 'Dashboard', status: 'major_outage' }]);
  }, 180_000);

  it('publishes nothing when the comms lead says no', async () => {
    const before = (await running.services.db.$client.execute('SELECT count(*) FROM incidents')).rows[0]![0];
    const t = new Terminal(['declare', '--severity', 'SEV3', '--template', 'investigating', '--title', 'Quiet', '--internal-title', 'Quiet', '--component', 'api=degraded_performance', '--var', 'symptom=s', '--var', 'workaround=', '--var', 'hypothesis=', '--var', 'leadership_ask=']);
    const at = await t.waitFor('Publish this SEV3 incident?');
    expect(t.output).toContain('Who will be told: internal page only');
    t.send(enter); // the default is No
    expect(await t.done).toBe(1);
    expect(t.output.slice(at)).toContain('Nothing was published');
    expect((await running.services.db.$client.execute('SELECT count(*) FROM incidents')).rows[0]![0]).toBe(before);
  }, 120_000);
});

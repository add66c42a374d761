// Starts real server processes (`npm start`'s entry, bin/start.ts under tsx) on a shared database, and reads their logs.
import { spawn, type ChildProcess } from 'node:child_process';
import { projectRoot } from '../api/site/astro.ts';

/** What a command that ran to its end printed, and its exit code (null when a signal ended it). */
export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end and collects what it printed. `closeStdin` gives it end-of-input at once (no terminal,
 * nothing typed). With `timeoutMs` the command gets its own process group, SIGKILLed as a whole once the time is up,
 * so whatever it started (npm starting a server) stops too.
 */
export function runProcess(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; closeStdin?: boolean; timeoutMs?: number }): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: options.timeoutMs !== undefined });
    let stdout = '';
    let stderr = '';
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), options.timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (options.closeStdin) child.stdin.end();
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Every line the process printed so far, stdout and stderr. */
  lines: string[];
  /** The change ranges this process rendered, from its "Site: rendered changes a–b" lines. */
  renderedRanges(): [number, number][];
  /** kill -9. */
  kill(): Promise<void>;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
}

/** Starts `bin/start.ts` with the environment given (PORT=0 and HOST=127.0.0.1 by default); resolves once it listens. */
export async function startServerProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/start.ts'], {
    cwd: projectRoot,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', SEED_DEMO: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
    let buffered = '';
    const take = (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        const m = /running at (http:\/\/[^/\s]+)\//.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      }
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening:\n${lines.join('\n')}`));
    });
  });
  return {
    child,
    url,
    lines,
    renderedRanges() {
      return lines.flatMap((l) => {
        const m = /Site: rendered changes (\d+)–(\d+)/.exec(l);
        return m ? [[Number(m[1]), Number(m[2])] as [number, number]] : [];
      });
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Waits until `check` returns true, polling every `everyMs`; throws with `what` after `timeoutMs`. Returns the time waited in ms. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

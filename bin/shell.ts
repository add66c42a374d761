// What the server-shell commands (npm run token, npm run member) share: who acts, their flags, the usage error, the database.
import { parseArgs } from 'node:util';
import { ConfigError, readConfig, type Config } from '../api/config.ts';
import { systemActor, type Actor } from '../api/services/context.ts';
import { openDatabase, type Database } from '../db/client.ts';

/** How the audit timeline names someone at the server's shell. */
export const commandLine: Actor = systemActor('command line');

/** Prints `message` on stderr and exits 2 (a usage or configuration error). */
export function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

/** The positionals and the --role, --name and --email flags; a flag without its value or an unknown one is a usage error, said in one line with `usage`. */
export function readShellArgs(usage: string) {
  try {
    return parseArgs({ allowPositionals: true, options: { role: { type: 'string' }, name: { type: 'string' }, email: { type: 'string' } } });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const flag = /'(--?[\w-]+)/.exec((e as Error).message)?.[1];
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag) fail(`${flag} needs a value.\n${usage}`);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag) fail(`Unknown option ${flag}.\n${usage}`);
    fail(`${(e as Error).message}\n${usage}`);
  }
}

/** The configuration (bad configuration: its one line, exit 2) and the migrated database it names. */
export async function openShellDatabase(): Promise<{ config: Config; db: Database }> {
  let config: Config;
  try {
    config = readConfig();
  } catch (e) {
    fail(e instanceof ConfigError ? e.message : String(e));
  }
  return { config, db: await openDatabase({ url: config.databaseUrl, authToken: config.databaseAuthToken }) };
}

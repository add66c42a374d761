// npm run token -- create --role comms --name "..." [--email ...] | list | revoke <id>: manage API tokens from the server's shell.
import { parseArgs } from 'node:util';
import { systemClock } from '../api/clock.ts';
import { ConfigError, readConfig } from '../api/config.ts';
import { NotFoundError, ValidationError } from '../api/errors.ts';
import type { Actor } from '../api/services/context.ts';
import { createToken, listTokens, revokeToken } from '../api/services/tokens.ts';
import { openDatabase } from '../db/client.ts';
import { systemActor } from '../api/services/context.ts';

const usage = `Usage:
  npm run token -- create --role admin|comms|viewer --name "Who it is for" [--email reminders@example.com]
  npm run token -- list
  npm run token -- revoke <id>`;

/** How the audit timeline names someone at the server's shell. */
const commandLine: Actor = systemActor('command line');

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

/** Flags as given; a flag without its value or an unknown one is a usage error, said in one line. */
function readArgs() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { role: { type: 'string' }, name: { type: 'string' }, email: { type: 'string' } },
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const flag = /'(--?[\w-]+)/.exec((e as Error).message)?.[1];
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag) fail(`${flag} needs a value.\n${usage}`);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag) fail(`Unknown option ${flag}.\n${usage}`);
    fail(`${(e as Error).message}\n${usage}`);
  }
}
const { positionals, values } = readArgs();
const [command, id] = positionals;

let config;
try {
  config = readConfig();
} catch (e) {
  fail(e instanceof ConfigError ? e.message : String(e));
}
const db = await openDatabase({ url: config.databaseUrl, authToken: config.databaseAuthToken });
const services = { db, clock: systemClock };

if (command === 'create') {
  try {
    const created = await createToken(services, commandLine, { role: values.role ?? '', name: values.name ?? '', email: values.email });
    const reaches = created.email ? `, reminders to ${created.email}` : '';
    console.error(`Created ${created.role} token "${created.name}" (id ${created.id}${reaches}). It is shown once; store it now:`);
    console.log(created.token);
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    fail(`${(e.errors ?? []).map((f) => `--${f.path} ${f.message}.`).join('\n')}\n${usage}`);
  }
} else if (command === 'list') {
  for (const t of await listTokens(services)) {
    const used = t.lastUsedAt ? `used ${t.lastUsedAt.toISOString()}` : 'never used'.padEnd(29);
    const holder = t.email ? `${t.name} <${t.email}>` : t.name;
    console.log([t.id, t.role.padEnd(6), t.revokedAt ? 'revoked' : 'active ', `created ${t.createdAt.toISOString()}`, used, holder].join('  '));
  }
} else if (command === 'revoke') {
  if (!id) fail(usage);
  try {
    await revokeToken(services, commandLine, id);
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
    fail(`No token with id "${id}".`);
  }
  console.log(`Revoked ${id}.`);
} else {
  fail(usage);
}
db.$client.close();

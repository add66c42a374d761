// npm run token -- create --role comms --name "..." [--email ...] | list | revoke <id>: manage API tokens from the server's shell.
import { systemClock } from '../api/clock.ts';
import { NotFoundError, ValidationError } from '../api/errors.ts';
import { createToken, listTokens, revokeToken } from '../api/services/tokens.ts';
import { commandLine, fail, openShellDatabase, readShellArgs } from './shell.ts';

const usage = `Usage:
  npm run token -- create --role admin|comms|viewer --name "Who it is for" [--email reminders@example.com]
  npm run token -- list
  npm run token -- revoke <id>`;

const { positionals, values } = readShellArgs(usage);
const [command, id] = positionals;
const { db } = await openShellDatabase();
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

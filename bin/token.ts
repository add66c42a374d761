// npm run token -- create --role comms --name "..." | list | revoke <id>: manage API tokens.
import { parseArgs } from 'node:util';
import { createToken, listTokens, revokeToken, roles, type Role } from '../api/auth.ts';
import { ConfigError, readConfig } from '../api/config.ts';
import { openDatabase } from '../db/client.ts';

const usage = `Usage:
  npm run token -- create --role admin|comms|viewer --name "Who it is for"
  npm run token -- list
  npm run token -- revoke <id>`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { role: { type: 'string' }, name: { type: 'string' } },
});
const [command, id] = positionals;

let config;
try {
  config = readConfig();
} catch (e) {
  fail(e instanceof ConfigError ? e.message : String(e));
}
const db = await openDatabase({ url: config.databaseUrl, authToken: config.databaseAuthToken });

if (command === 'create') {
  const role = values.role as Role | undefined;
  if (!role || !roles.includes(role)) fail(`--role must be one of ${roles.join(', ')}.\n${usage}`);
  const name = values.name?.trim();
  if (!name || /[\x00-\x1f]/.test(name) || name.length > 120) fail(`--name is required (one line, at most 120 characters).\n${usage}`);
  const created = await createToken(db, { role, name });
  console.error(`Created ${role} token "${name}" (id ${created.id}). It is shown once; store it now:`);
  console.log(created.token);
} else if (command === 'list') {
  for (const t of await listTokens(db)) {
    const used = t.lastUsedAt ? `used ${t.lastUsedAt.toISOString()}` : 'never used'.padEnd(29);
    console.log([t.id, t.role.padEnd(6), t.revokedAt ? 'revoked' : 'active ', `created ${t.createdAt.toISOString()}`, used, t.name].join('  '));
  }
} else if (command === 'revoke') {
  if (!id) fail(usage);
  try {
    await revokeToken(db, id);
  } catch {
    fail(`No token with id "${id}".`);
  }
  console.log(`Revoked ${id}.`);
} else {
  fail(usage);
}
db.$client.close();

// npm run member -- add --email … --name … --role … | link <email> | list | remove <id>: manage team members from the server's shell; add and link print a one-time sign-in link.
import { systemClock } from '../api/clock.ts';
import { ConflictError, NotFoundError, ValidationError } from '../api/errors.ts';
import { addMember, findMemberByEmail, listMembers, removeMember } from '../api/services/members.ts';
import { issueMemberSignInLink, signInLinkLifetimeMs } from '../api/services/stakeholder-sign-in.ts';
import { commandLine, fail, openShellDatabase, readShellArgs } from './shell.ts';

const usage = `Usage:
  npm run member -- add --email dana@example.com --name "Dana Lee" --role admin|comms|viewer
  npm run member -- link dana@example.com      (a new one-time sign-in link)
  npm run member -- list
  npm run member -- remove <id>`;

const { positionals, values } = readShellArgs(usage);
const [command, arg] = positionals;
const { config, db } = await openShellDatabase();
const services = { db, clock: systemClock, publicUrl: config.publicUrl };
const minutes = signInLinkLifetimeMs / 60_000;

async function printLink(id: string, who: string) {
  const link = await issueMemberSignInLink(services, commandLine, id);
  console.error(`One-time sign-in link for ${who} (works once, for ${minutes} minutes; later ones by email from the sign-in page):`);
  console.log(link.url);
}

try {
  if (command === 'add') {
    const m = await addMember(services, commandLine, { email: values.email ?? '', name: values.name ?? '', role: values.role ?? '' }, { signInLink: false });
    console.error(`Added ${m.role} member "${m.name}" <${m.email}> (id ${m.id}).`);
    await printLink(m.id, m.email);
  } else if (command === 'link') {
    const m = arg ? await findMemberByEmail(db, arg) : undefined;
    if (!m) fail(arg ? `No member with the address ${arg}.` : usage);
    await printLink(m.id, m.email);
  } else if (command === 'list') {
    for (const m of await listMembers(services, commandLine)) {
      const seen = m.lastSignedInAt ? `signed in ${m.lastSignedInAt.toISOString()}` : 'never signed in';
      console.log([m.id, m.role.padEnd(6), `${m.name} <${m.email}>`, seen].join('  '));
    }
  } else if (command === 'remove') {
    if (!arg) fail(usage);
    await removeMember(services, commandLine, arg);
    console.log(`Removed ${arg}; their sessions are ended.`);
  } else {
    fail(usage);
  }
} catch (e) {
  if (e instanceof ValidationError) fail(`${(e.errors ?? []).map((f) => `--${f.path} ${f.message}.`).join('\n')}\n${usage}`);
  if (e instanceof ConflictError || e instanceof NotFoundError) fail(e.message);
  throw e;
} finally {
  db.$client.close();
}

// `npm run admin -- <command>`: user recovery from the command line against DATABASE_URL (SQLite or
// PostgreSQL), for when no admin can sign in: reset a password, create a user.
import 'dotenv/config';
import fs from 'node:fs';
import type { Knex } from 'knex';
import { ROLES, type Role } from '../api/operation';
import { generatePassword, insertUser } from '../auth/bootstrap';
import { hashPassword } from '../model/passwords';
import { loadConfig } from '../config';
import { connectDatabase } from '../db/connect';
import { nowIso } from '../db/dialect';
import { migrateLatest } from '../schema/migrate';

const USAGE = `usage:
  npm run admin -- reset-password <username> [--stdin]
  npm run admin -- create <username> [--role admin|user|reader]... [--display-name <name>] [--stdin]
The new password is read from stdin when it is piped in (or with --stdin); otherwise one is generated and printed once.`;

/** The same rules as the users resource (src/resources/users/definition.ts). */
const USERNAME = /^[A-Za-z0-9_.@-]{1,64}$/;
const PASSWORD_MIN = 8;
const PASSWORD_MAX = 256;

class UsageError extends Error {}

interface Command {
  name: 'reset-password' | 'create';
  username: string;
  roles: Role[];
  displayName: string | undefined;
  stdin: boolean;
}

function parseArgs(argv: string[]): Command {
  const [name, username, ...rest] = argv;
  if (name !== 'reset-password' && name !== 'create')
    throw new UsageError(name === undefined ? 'no command given' : `unknown command "${name}"`);
  if (username === undefined || !USERNAME.test(username))
    throw new UsageError('the username must be 1-64 of A-Z a-z 0-9 _ . @ -');
  const command: Command = { name, username, roles: [], displayName: undefined, stdin: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--stdin') command.stdin = true;
    else if (arg === '--role' && name === 'create') {
      const role = rest[++i] as Role;
      if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      if (!command.roles.includes(role)) command.roles.push(role);
    } else if (arg === '--display-name' && name === 'create' && rest[i + 1] !== undefined)
      command.displayName = rest[++i];
    else throw new UsageError(`unexpected argument "${arg}"`);
  }
  if (command.roles.length === 0) command.roles.push('user');
  return command;
}

/**
 * Piped in (a shell's pipe, a file, or a socket pair as Node's child processes get), not a terminal
 * or /dev/null: then the password comes from stdin.
 */
function stdinIsPiped(): boolean {
  const stat = fs.fstatSync(0);
  return stat.isFIFO() || stat.isFile() || stat.isSocket();
}

async function readStdinPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
    throw new UsageError(`the password on stdin must be ${PASSWORD_MIN}-${PASSWORD_MAX} characters`);
  }
  return password;
}

async function resetPassword(knex: Knex, username: string, password: string): Promise<void> {
  const hash = await hashPassword(password);
  // The checksum moves as it does for any change made through the API.
  const changed = await knex('users')
    .where({ username })
    .update({ password_hash: hash, checksum: knex.raw('checksum + 1'), update_time: nowIso() });
  if (changed === 0) throw new Error(`there is no user named "${username}"`);
  const row = await knex('users').where({ username }).first('active');
  if (!row.active)
    process.stderr.write(`note: "${username}" is inactive and cannot sign in until an admin activates it\n`);
}

async function run(command: Command): Promise<void> {
  const fromStdin = command.stdin || stdinIsPiped();
  const password = fromStdin ? await readStdinPassword() : generatePassword();
  // A password reset changes one row in one transaction, so it may run beside a server on the same
  // SQLite file (recovery without downtime); a create reserves an id, which only the lock holder may.
  const knex = await connectDatabase(loadConfig(), { lock: command.name !== 'reset-password' });
  try {
    await migrateLatest(knex);
    if (command.name === 'reset-password') {
      await resetPassword(knex, command.username, password);
      process.stdout.write(`the password of "${command.username}" was reset\n`);
    } else {
      if (await knex('users').where({ username: command.username }).first('id'))
        throw new Error(`a user named "${command.username}" already exists`);
      await insertUser(knex, {
        username: command.username,
        displayName: command.displayName ?? command.username,
        roles: command.roles,
        password,
      });
      process.stdout.write(`created user "${command.username}" with roles ${command.roles.join(', ')}\n`);
    }
    if (!fromStdin) process.stdout.write(`generated password: ${password}\nStore it now; it is not shown again.\n`);
  } finally {
    await knex.destroy();
  }
}

async function main(): Promise<void> {
  let command: Command;
  try {
    command = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`admin: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  try {
    await run(command);
  } catch (err) {
    process.stderr.write(`admin: ${(err as Error).message.split('\n')[0]}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
}

void main();

// `node dist/src/cli/copyData.js --from <DATABASE_URL> --to <DATABASE_URL>`: copies a server's data
// into a fresh database (see src/schema/copy.ts for what and how); prints what it copied.
import type { Knex } from 'knex';
import { loadConfig } from '../config';
import { connectDatabase } from '../db/connect';
import { copyData } from '../schema/copy';
import { STORED_DATA } from '../storedData';
import { dbErrorCode } from '../db/errors';

function argument(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(args: string[]): Promise<number> {
  const from = argument(args, '--from');
  const to = argument(args, '--to');
  if (!from || !to) {
    process.stderr.write(
      'usage: copy-data --from <DATABASE_URL> --to <DATABASE_URL>   (the target must be a fresh, empty database)\n',
    );
    return 2;
  }
  if (from === to) {
    process.stderr.write('copy failed: --from and --to are the same database\n');
    return 2;
  }
  let source: Knex | undefined;
  let target: Knex | undefined;
  try {
    source = await connectDatabase(loadConfig({ DATABASE_URL: from }));
    target = await connectDatabase(loadConfig({ DATABASE_URL: to }));
    const report = await copyData(source, target, STORED_DATA);
    for (const [what, n] of Object.entries(report)) process.stdout.write(`${what}: ${n}\n`);
    process.stdout.write('copy complete\n');
    return 0;
  } catch (err) {
    // Name, code and first line only: a driver message may quote a row, never a stack.
    const code = dbErrorCode(err);
    process.stderr.write(
      `copy failed: ${(err as Error).message.split('\n')[0]}${code !== undefined ? ` (${code})` : ''}\n`,
    );
    return 1;
  } finally {
    await source?.destroy();
    await target?.destroy();
  }
}

void main(process.argv.slice(2)).then((code) => process.exit(code));

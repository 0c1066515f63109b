// .env.example lists every configuration variable with its default, exactly as the configuration
// table of docs/configuration.md does (both parsed here, so a variable added to one and not the other
// fails), and every variable src/config.ts reads is in that table.
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const NAME = /^[A-Z][A-Z0-9_]*$/;

/** The variables of docs/configuration.md's table, each with its default ('' for none, generated, off). */
function configurationTable(): Map<string, string> {
  const section = fs.readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8');
  const table = new Map<string, string>();
  for (const row of section.split('\n').filter((l) => /^\| `[A-Z]/.test(l))) {
    const cells = row
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((c) => c.trim());
    const names = [...cells[0].matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    // A family of variables (`CONNECTOR_SECRET_<NAME>`) has no single default to list.
    if (names.length === 1 && /^[A-Z_]+<[A-Z]+>$/.test(names[0])) continue;
    if (names.length === 0 || !names.every((n) => NAME.test(n)))
      throw new Error(`docs/configuration.md row names no variable: ${row}`);
    // "`8080`, `127.0.0.1`" pairs with two names; one default ("off", "none: …") serves every name of its row.
    const parts = cells[cells.length - 1].split(/,\s+/);
    if (parts.length !== names.length && parts.length !== 1)
      throw new Error(`docs/configuration.md row: ${names.length} variables but ${parts.length} defaults: ${row}`);
    names.forEach((name, i) => {
      const literal = /^`([^`]*)`$/.exec(parts.length === 1 ? parts[0] : parts[i]);
      table.set(name, literal ? literal[1] : '');
    });
  }
  return table;
}

/** NAME=value lines of .env.example, commented out or not. */
function envExample(): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8').split('\n')) {
    const m = /^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    if (entries.has(m[1])) throw new Error(`.env.example lists ${m[1]} twice`);
    entries.set(m[1], m[2].trim());
  }
  return entries;
}

test('.env.example and the table of docs/configuration.md list the same variables with the same defaults', () => {
  const table = configurationTable();
  expect(table.size).toBeGreaterThan(20);
  expect(Object.fromEntries(envExample())).toEqual(Object.fromEntries(table));
});

test('every variable src/config.ts reads is in the table of docs/configuration.md', () => {
  const source = fs.readFileSync(path.join(ROOT, 'src/config.ts'), 'utf8');
  const read = new Set(
    [...source.matchAll(/env\.([A-Z][A-Z0-9_]*)|env, '([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1] ?? m[2]),
  );
  expect(read.size).toBeGreaterThan(20);
  const table = configurationTable();
  expect([...read].filter((name) => !table.has(name))).toEqual([]);
});

// Pins the direction of imports between the floors of src/: a lower floor never imports a higher one,
// and a feature never reaches into another feature. Reads the sources; runs nothing.
import fs from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '../../src');

/** Floors from the process edges down to the ground; a file may import its own floor or lower ones. */
const FLOORS: Array<{ floor: number; name: string; match: (rel: string) => boolean }> = [
  {
    floor: 8,
    name: 'edge',
    match: (r) => r === 'server.ts' || ['cli/', 'client/', 'process/'].some((d) => r.startsWith(d)),
  },
  {
    floor: 7,
    name: 'app',
    match: (r) =>
      ['app.ts', 'extensions.ts', 'routeTable.ts', 'storedData.ts'].includes(r) ||
      r.startsWith('http/') ||
      r.startsWith('openapi/'),
  },
  { floor: 6, name: 'feature', match: (r) => FEATURES.some((f) => r.startsWith(`${f}/`)) },
  { floor: 5, name: 'api', match: (r) => r.startsWith('api/') },
  { floor: 4, name: 'query', match: (r) => r.startsWith('query/') },
  // The tables' history (migrations and their runner) and copying rows between databases.
  { floor: 3, name: 'schema', match: (r) => r.startsWith('schema/') },
  { floor: 2, name: 'model', match: (r) => r.startsWith('model/') },
  {
    floor: 1,
    name: 'ground',
    match: (r) =>
      ['db/', 'config/'].some((d) => r.startsWith(d)) ||
      ['errors.ts', 'config.ts', 'logger.ts', 'observe.ts'].includes(r),
  },
];
const FEATURES = ['auth', 'composite', 'connectors', 'batch', 'durable', 'async', 'resources'];

function floorOf(rel: string): { floor: number; name: string } {
  const hit = FLOORS.find((f) => f.match(rel));
  if (!hit) throw new Error(`${rel} belongs to no floor: add its folder to test/architecture/layers.test.ts`);
  return hit;
}

function featureOf(rel: string): string | undefined {
  return FEATURES.find((f) => rel.startsWith(`${f}/`));
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import of a file, resolved to a path relative to src (or outside it). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  return specs.map((s) => {
    const base = path.resolve(path.dirname(file), s);
    const found = [base, `${base}.ts`, path.join(base, 'index.ts')].find(
      (c) => fs.existsSync(c) && fs.statSync(c).isFile(),
    );
    return path.relative(SRC, found ?? base);
  });
}

describe('import direction in src/', () => {
  const files = sourceFiles(SRC).map((f) => ({ abs: f, rel: path.relative(SRC, f) }));

  it('finds the sources it checks', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it('never imports a higher floor, nor outside src', () => {
    const upward: string[] = [];
    for (const f of files) {
      const from = floorOf(f.rel);
      for (const target of importsOf(f.abs)) {
        if (target.startsWith('..')) {
          upward.push(`${f.rel} imports ${target} (outside src)`);
          continue;
        }
        const to = floorOf(target);
        if (to.floor > from.floor) upward.push(`${f.rel} (${from.name}) imports ${target} (${to.name})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('keeps each feature out of the others', () => {
    const across: string[] = [];
    for (const f of files) {
      const mine = featureOf(f.rel);
      if (!mine) continue;
      for (const target of importsOf(f.abs)) {
        const theirs = featureOf(target);
        if (theirs && theirs !== mine) across.push(`${f.rel} imports ${target}`);
      }
    }
    expect(across).toEqual([]);
  });
});

describe("the README's project layout", () => {
  const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('## Project layout'),
    readme.indexOf('\n## ', readme.indexOf('## Project layout') + 1),
  );

  it('names every folder and top-level file of src/', () => {
    const entries = fs.readdirSync(SRC, { withFileTypes: true }).map((e) => (e.isDirectory() ? `${e.name}/` : e.name));
    expect(entries.filter((name) => !new RegExp(`^  ${name.replace('.', '\\.')}\\s`, 'm').test(section))).toEqual([]);
  });
});

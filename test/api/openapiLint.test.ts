// The served /openapi.json (and each API's own document) lints with no error and no warning under Redocly (recommended rules, redocly.yaml)
// and Spectral (spectral:oas, .spectral.yaml), each run as the CLI a developer would run. A document with
// the faults the issue found (no servers, undefined tags, no descriptions) is refused by both, so this can fail.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { ROOT, runBin } from '../helpers/cli';

// Neither tool may phone home from a test run.
const ENV = {
  ...process.env,
  REDOCLY_TELEMETRY: 'off',
  REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
  SCARF_ANALYTICS: 'false',
  NO_COLOR: '1',
};

/** Redocly writes one JSON report per document, so each is linted on its own and the counts summed. */
async function redocly(docs: string[]): Promise<{ code: number; errors: number; warnings: number }> {
  const sum = { code: 0, errors: 0, warnings: 0 };
  for (const doc of docs) {
    const r = await runBin(
      'redocly',
      ['lint', doc, '--config', path.join(ROOT, 'redocly.yaml'), '--format', 'json'],
      ENV,
    );
    const totals = (JSON.parse(r.stdout) as { totals: { errors: number; warnings: number } }).totals;
    sum.code = Math.max(sum.code, r.code);
    sum.errors += totals.errors;
    sum.warnings += totals.warnings;
  }
  return sum;
}

async function spectral(docs: string[]): Promise<{ code: number; problems: Array<{ code: string; path: string[] }> }> {
  // --fail-severity hint: a warning (or less) fails the run too.
  const r = await runBin(
    'spectral',
    [
      'lint',
      ...docs,
      '--ruleset',
      path.join(ROOT, '.spectral.yaml'),
      '--format',
      'json',
      '--fail-severity',
      'hint',
      '--quiet',
    ],
    ENV,
  );
  return { code: r.code, problems: JSON.parse(r.stdout || '[]') as Array<{ code: string; path: string[] }> };
}

let t: TestApp;
let dir: string;
/** /openapi.json and each /rest/<api>/v1/openapi.json, as files. */
let served: string[];
let faulty: string;
beforeAll(async () => {
  t = await startTestApp();
  const res = await t.http.get('/openapi.json').set('Authorization', t.auth('reader'));
  expect(res.status).toBe(200);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openapi-lint-'));
  served = [path.join(dir, 'openapi.json')];
  fs.writeFileSync(served[0], JSON.stringify(res.body));
  for (const api of ['common', 'admin', 'composite', 'connectors']) {
    const one = await t.http.get(`/rest/${api}/v1/openapi.json`).set('Authorization', t.auth('reader'));
    served.push(path.join(dir, `${api}.json`));
    fs.writeFileSync(served[served.length - 1], JSON.stringify(one.body));
  }
  const broken = JSON.parse(JSON.stringify(res.body)) as {
    servers: unknown[];
    tags?: unknown;
    paths: Record<string, Record<string, { description?: string }>>;
  };
  broken.servers = [];
  delete broken.tags;
  for (const item of Object.values(broken.paths)) for (const op of Object.values(item)) delete op.description;
  faulty = path.join(dir, 'faulty.json');
  fs.writeFileSync(faulty, JSON.stringify(broken));
});
afterAll(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('Redocly (recommended): 0 errors, 0 warnings', async () => {
  expect(await redocly(served)).toEqual({ code: 0, errors: 0, warnings: 0 });
  const refused = await redocly([faulty]);
  expect(refused.code).not.toBe(0);
  expect(refused.errors + refused.warnings).toBeGreaterThan(0);
}, 120_000);

test('Spectral (spectral:oas): no problem of any severity', async () => {
  const result = await spectral(served);
  expect(result.problems.map((p) => `${p.code} at ${p.path.join('.')}`)).toEqual([]);
  expect(result.code).toBe(0);
  const refused = await spectral([faulty]);
  expect(refused.code).not.toBe(0);
  expect(new Set(refused.problems.map((p) => p.code))).toEqual(
    new Set(['oas3-api-servers', 'operation-tag-defined', 'operation-description']),
  );
}, 120_000);

// A client generated from the served /openapi.json compiles and runs a composite without casts (issue 18):
// openapi-typescript generates the types, tsc type-checks test/generated-client/ against them (misuse.ts
// proves the types are strict: its @ts-expect-error lines fail the check if they compile), and the
// compiled client runs as a child process against this server listening on a loopback port.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { ROOT, compile, outputDir, runBin } from '../helpers/cli';
import { listen, type Listening } from '../helpers/listen';

const SOURCES = path.join(ROOT, 'test/generated-client');

let t: TestApp;
let server: Listening;
let baseUrl: string;
let dir: string;
beforeAll(async () => {
  t = await startTestApp();
  server = await listen(t.app);
  baseUrl = server.origin;
  dir = outputDir('generated-client');
});
afterAll(async () => {
  await server.close();
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function runNode(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { cwd: dir }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, stdout, stderr }),
    );
  });
}

test('openapi-typescript types from the served document; an openapi-fetch client compiles without casts and runs a composite', async () => {
  const res = await fetch(`${baseUrl}/openapi.json`, { headers: { Authorization: t.auth('reader') } });
  expect(res.status).toBe(200);
  fs.writeFileSync(path.join(dir, 'openapi.json'), await res.text());
  const generated = await runBin('openapi-typescript', [
    path.join(dir, 'openapi.json'),
    '--output',
    path.join(dir, 'api.d.ts'),
  ]);
  expect(`${generated.code} ${generated.stderr}`).toMatch(/^0 /);
  for (const file of ['client.ts', 'misuse.ts']) fs.copyFileSync(path.join(SOURCES, file), path.join(dir, file));
  // no cast, no any, no non-null assertion in the client's code (its comments aside)
  const code = fs.readFileSync(path.join(dir, 'client.ts'), 'utf8').replace(/^\s*\/\/.*$/gm, '');
  expect(code).not.toMatch(/\bas (?!const\b)\w|\bany\b|\w!\./);

  const compiled = await compile(dir, ['client.ts', 'misuse.ts'], true);
  expect(compiled.stdout + compiled.stderr).toBe('');
  expect(compiled.code).toBe(0);

  const run = await runNode(path.join(dir, 'out/client.js'), [baseUrl, t.auth('user')]);
  expect(run.stderr).toBe('');
  const seen = JSON.parse(run.stdout) as {
    createdStatus: number;
    location: string;
    noteIncluded: boolean;
    selections: Array<{ data: unknown }>;
    failedStatus: number;
    requestFailed: boolean;
    failures: Array<{ status: number; errorCode: string; details: unknown[] }>;
    skipped: number;
  };
  expect(seen).toMatchObject({
    createdStatus: 201,
    noteIncluded: false,
    failedStatus: 400,
    requestFailed: true,
    skipped: 1,
  });
  expect(seen.location).toMatch(/^\/common\/v1\/activities\/xc:\d+$/);
  const id = seen.location.split('/').pop();
  expect(seen.selections[0]).toMatchObject({ data: { attributes: { id, subject: 'Call the insured' } } });
  expect(seen.selections[1]).toMatchObject({ count: 1, data: [{ attributes: { body: 'First call made' } }] });
  expect(seen.failures).toEqual([
    { status: 404, errorCode: 'gw.api.rest.exception.NotFoundException', details: expect.any(Array) },
  ]);
  // what the client saw is what was committed: the first composite's activity, not the failed one's
  const subjects = (await t.knex('activities').select('subject')).map((r: { subject: string }) => r.subject);
  expect(subjects).toEqual(['Call the insured']);
}, 120_000);

test('the type check fails when the generated types are loose: a method typed as any string leaves an @ts-expect-error unused', async () => {
  const loose = path.join(dir, 'loose');
  fs.mkdirSync(loose);
  const types = fs
    .readFileSync(path.join(dir, 'api.d.ts'), 'utf8')
    .replace(/method: "post" \| "patch" \| "delete" \| "POST" \| "PATCH" \| "DELETE";/, 'method: string;');
  expect(types).toContain('method: string;');
  fs.writeFileSync(path.join(loose, 'api.d.ts'), types);
  fs.copyFileSync(path.join(SOURCES, 'misuse.ts'), path.join(loose, 'misuse.ts'));
  const compiled = await compile(loose, ['misuse.ts'], false);
  expect(compiled.code).not.toBe(0);
  expect(compiled.stdout).toMatch(/misuse\.ts\(10,1\): error TS2578: Unused '@ts-expect-error' directive/);
}, 120_000);

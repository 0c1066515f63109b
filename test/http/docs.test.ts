// /docs (issue 18): Swagger UI from swagger-ui-dist renders /openapi.json in headless Chromium (Debian's
// chromium package, driven by puppeteer-core, which downloads nothing) — the composite operation and its
// x-gw-allowForCompositeApi flag are on the page, nothing is loaded from another origin, and the page's
// Content-Security-Policy (which applies to /docs only) refuses nothing it needs. Over HTTP: the same
// authentication as /openapi.json, or none with DOCS_PUBLIC=true. A screenshot goes to test-output/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { ROOT } from '../helpers/cli';
import { listen } from '../helpers/listen';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium)
  process.stdout.write(
    `docs.test.ts: the browser test is skipped: ${CHROMIUM} is missing (apt-get install -y chromium)\n`,
  );

let t: TestApp;
let open: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  open = await startTestApp({ DOCS_PUBLIC: 'true' });
});
afterAll(async () => {
  await t.close();
  await open.close();
});

test('/docs needs the credentials /openapi.json needs, unless DOCS_PUBLIC=true', async () => {
  for (const p of ['/docs', '/docs/openapi.json', '/docs/assets/swagger-ui-bundle.js', '/openapi.json']) {
    expect(`${p}: ${(await t.http.get(p)).status}`).toBe(`${p}: 401`);
    expect(`${p}: ${(await t.http.get(p).set('Authorization', t.auth('reader'))).status}`).toBe(`${p}: 200`);
  }
  for (const p of ['/docs', '/docs/openapi.json', '/docs/assets/swagger-ui.css', '/docs/assets/init.js']) {
    expect(`${p}: ${(await open.http.get(p)).status}`).toBe(`${p}: 200`);
  }
  // DOCS_PUBLIC opens the reference only: the API and its /openapi.json still need credentials
  expect([
    (await open.http.get('/openapi.json')).status,
    (await open.http.get('/rest/common/v1/activities')).status,
  ]).toEqual([401, 401]);
  const served = await open.http.get('/docs/openapi.json');
  const whole = await open.http.get('/openapi.json').set('Authorization', open.auth('reader'));
  expect(served.body).toEqual(whole.body);
});

test("only the page's own files are served, and its CSP applies to /docs alone", async () => {
  for (const p of [
    '/docs/assets/index.html',
    '/docs/assets/package.json',
    '/docs/assets/..%2fpackage.json',
    '/docs/assets/swagger-ui.js.map',
  ]) {
    expect(`${p}: ${(await open.http.get(p)).status}`).toBe(`${p}: 404`);
  }
  const page = await open.http.get('/docs');
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  expect(page.headers['content-security-policy']).toContain("script-src 'self'");
  expect(page.text).not.toMatch(/https?:\/\//);
  const api = await t.http.get('/rest/common/v1/activities').set('Authorization', t.auth('reader'));
  expect(api.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
});

(haveChromium ? test : test.skip)(
  'headless Chromium renders the composite operation and its x-gw-allowForCompositeApi flag',
  async () => {
    const server = await listen(t.app);
    const origin = server.origin;
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'docs-chromium-'));
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      const elsewhere: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(msg.text());
      });
      page.on('pageerror', (err) => problems.push(String(err)));
      page.on('response', (res) => {
        if (res.status() >= 400) problems.push(`${res.status()} ${res.url()}`);
      });
      page.on('request', (req) => {
        if (!req.url().startsWith(origin) && !req.url().startsWith('data:')) elsewhere.push(req.url());
      });
      await page.authenticate({ username: 'rita', password: 'rita-secret-pw' });
      await page.setViewport({ width: 1280, height: 1600 });
      await page.goto(`${origin}/docs#/Composite/executeComposite`, { waitUntil: 'networkidle0' });
      await page.waitForFunction(() => document.body.innerText.includes('x-gw-allowForCompositeApi'), {
        timeout: 30_000,
      });
      const text = await page.evaluate(() => document.body.innerText);
      expect(text).toContain('/composite/v1/composite');
      expect(text).toContain('Run writes in one transaction, then selections against the committed data');
      // the expanded composite operation shows its flag with its value
      expect(text).toMatch(/x-gw-allowForCompositeApi\tfalse\n/);
      expect(text).toContain('Activities');
      const shots = path.join(ROOT, 'test-output');
      fs.mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: path.join(shots, 'docs.png'), fullPage: false });
      expect(fs.statSync(path.join(shots, 'docs.png')).size).toBeGreaterThan(10_000);
      expect(elsewhere).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
      fs.rmSync(profile, { recursive: true, force: true });
    }
  },
  120_000,
);

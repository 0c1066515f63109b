// Node's own refusals, before any route runs, over raw sockets to the real server process: a raw
// non-ASCII byte in the request line, a 20 KB header, headers that never finish. Each answers in the
// contract's error body (SPEC §2), and slow headers are cut at REQUEST_TIMEOUT_MS, not Node's 60 s.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { builtDist, killIfRunning, startDistServer, type RunningServer } from '../helpers/distServer';

let dir: string;
let server: RunningServer;
beforeAll(async () => {
  builtDist();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'composite-clienterror-'));
  server = await startDistServer({
    DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`,
    ADMIN_PASSWORD: 'client-error-pw',
    REQUEST_TIMEOUT_MS: '1500',
  });
}, 120000);
afterAll(async () => {
  await killIfRunning(server);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes raw bytes (optionally leaving the request unfinished) and reads until the server closes. */
function rawExchange(bytes: Buffer): Promise<{ text: string; elapsedMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () =>
      resolve({ text: Buffer.concat(chunks).toString('utf8'), elapsedMs: Date.now() - started }),
    );
  });
}

function parseAnswer(text: string): { statusLine: string; headers: string[]; body: Record<string, unknown> } {
  const [head, body] = text.split('\r\n\r\n');
  const [statusLine, ...headers] = head.split('\r\n');
  return { statusLine, headers: headers.map((h) => h.toLowerCase()), body: JSON.parse(body) };
}

test('a raw non-ASCII byte in the request line: 400 in the error body', async () => {
  const { text } = await rawExchange(
    Buffer.concat([
      Buffer.from('GET /rest/common/v1/activit'),
      Buffer.from([0xe9]),
      Buffer.from('s HTTP/1.1\r\nHost: x\r\n\r\n'),
    ]),
  );
  const answer = parseAnswer(text);
  expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
  expect(answer.headers).toEqual(
    expect.arrayContaining(['content-type: application/json; charset=utf-8', 'connection: close']),
  );
  expect(answer.body).toEqual({
    status: 400,
    errorCode: 'gw.api.rest.exception.BadInputException',
    userMessage: 'The request is not valid HTTP',
    developerMessage: 'The request is not valid HTTP',
    details: [{ message: 'Refused by the HTTP parser', properties: { code: expect.stringMatching(/^HPE_/) } }],
  });
});

test('a 20 KB header: 431 in the error body', async () => {
  const { text } = await rawExchange(
    Buffer.from(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`),
  );
  const answer = parseAnswer(text);
  expect(answer.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
  expect(answer.body).toMatchObject({
    status: 431,
    errorCode: 'gw.api.rest.exception.RequestHeaderFieldsTooLargeException',
  });
});

test("headers that never finish: 408 in the error body, at REQUEST_TIMEOUT_MS (1.5 s here) rather than after Node's default minute", async () => {
  const { text, elapsedMs } = await rawExchange(Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: '));
  const answer = parseAnswer(text);
  expect(answer.statusLine).toBe('HTTP/1.1 408 Request Timeout');
  expect(answer.body).toMatchObject({ status: 408, errorCode: 'gw.api.rest.exception.RequestTimeoutException' });
  // The configured limit plus at most one check interval (1 s), with room for a loaded machine.
  expect(elapsedMs).toBeGreaterThanOrEqual(1400);
  expect(elapsedMs).toBeLessThan(15000);
});

test('the server keeps serving after the refusals, and logs each one with its errorCode', async () => {
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  // The log is written asynchronously: wait for each line rather than read what is there so far.
  for (const status of [400, 408, 431])
    await server.line(new RegExp(`"status":${status},.*"msg":"request refused by the HTTP parser"`));
  const refused = server
    .output()
    .split('\n')
    .filter((l) => l.includes('refused by the HTTP parser'))
    .map((l) => JSON.parse(l));
  expect(refused.map((l) => l.status).sort()).toEqual([400, 408, 431]);
  for (const line of refused) expect(line.errorCode).toMatch(/^gw\.api\.rest\.exception\./);
});

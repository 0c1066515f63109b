// Owns the HTTP floor: the rows of a composite written by a bare node:http handler in a process of its
// own — JSON.parse of the request, the floor's prepared statements in one transaction, an answer of the
// same shape and size as the server's, JSON.stringify'd. No framework, auth, validation or planning:
// what a round trip with these bodies costs on this machine before any server logic.
// With `express`, the same handler behind an Express app (one route, a raw body, `res.send`), set as the
// server sets it: what Express itself adds to a round trip, since the server keeps Express.
// With an Idempotency-Key header, the handler also does what a keyed call cannot do without: the
// request's fingerprint, the key's lookup first in the transaction and the answer's record last in it —
// the server's own statements and record (src/durable/records.ts) — so that the bench can tell the
// record's own cost from the rest of a keyed call's.
import http from 'node:http';
import { fork } from 'node:child_process';
import express from 'express';
import { connectDriver, type Driver } from './database';
import { stopChild } from './server';
import { compositeRows } from './workloads';
import { fingerprint } from '../src/durable/headers';
import { answeredRecord, KEYED_CALL_SQL, rowValues } from '../src/durable/records';

/** Ids this process writes stay apart from the floor's, the bulk load's, the server's and the other framework's. */
const HTTP_FLOOR_ID_BASE: Record<Framework, number> = { 'node:http': 3_000_000_000, express: 3_500_000_000 };
/** The caller the floor's Idempotency-Key records are kept under (keys are scoped to a caller). */
const FLOOR_CALLER = 'http-floor';
/** The server's default IDEMPOTENCY_TTL_HOURS. */
const KEY_TTL_HOURS = 24;

/** What the handler is given of one request. */
interface FloorRequest {
  method: string;
  url: string;
  body: Buffer;
  idempotencyKey?: string;
}

interface SentComposite {
  requests: Array<{ body: { data: { attributes: Record<string, unknown> } } }>;
}

const link = (href: string, methods: string[]) => ({ href, methods });
const created = (uri: string, data: unknown) => ({
  body: { data },
  headers: { 'GW-Checksum': '0', Location: uri },
  status: 201,
});

/** The answer to one composite of the bench's shape, after its rows are written. */
function compositeHandler(
  driver: Driver,
  authorId: number,
  framework: Framework,
): (req: FloorRequest) => Promise<string> {
  let nextId = HTTP_FLOOR_ID_BASE[framework];
  const author = { id: `xc:${authorId}`, displayName: 'bench', type: 'User', uri: `/admin/v1/users/xc:${authorId}` };
  return async (req) => {
    const sent = JSON.parse(req.body.toString('utf8')) as SentComposite;
    const activityId = nextId + 1;
    nextId += sent.requests.length;
    const activity = sent.requests[0].body.data.attributes;
    const priority = (activity.priority as { code: string }).code;
    const notes = sent.requests.slice(1).map((r) => r.body.data.attributes.body);
    const statements = compositeRows(driver.kind, authorId, activityId, { subject: activity.subject, priority }, notes);
    const activityUri = `/common/v1/activities/xc:${activityId}`;
    const responses: unknown[] = [
      created(activityUri, {
        attributes: {
          id: `xc:${activityId}`,
          subject: activity.subject,
          priority: { code: priority, name: 'High' },
          status: { code: 'open', name: 'Open' },
        },
        checksum: '0',
        links: {
          self: link(activityUri, ['get', 'patch', 'delete']),
          assign: link(`${activityUri}/assign`, ['post']),
          complete: link(`${activityUri}/complete`, ['post']),
          notes: link(`${activityUri}/notes`, ['get', 'post']),
        },
      }),
    ];
    const relatedTo = { id: `xc:${activityId}`, type: 'Activity', uri: activityUri };
    notes.forEach((body, i) => {
      const id = activityId + 1 + i;
      const uri = `/common/v1/notes/xc:${id}`;
      responses.push(
        created(uri, {
          attributes: { id: `xc:${id}`, body, confidential: false, relatedTo, author },
          checksum: '0',
          links: { self: link(uri, ['get', 'patch', 'delete']) },
        }),
      );
    });
    const json = JSON.stringify({ responses });
    const key = req.idempotencyKey;
    if (key !== undefined) {
      const record = answeredRecord({
        caller: FLOOR_CALLER,
        key,
        method: req.method,
        uri: req.url,
        fingerprint: fingerprint(req.method, req.url, req.body),
        ttlHours: KEY_TTL_HOURS,
        answer: { status: 200, headers: {}, body: { responses }, partial: true },
        bodyJson: json,
        replayState: { vars: [['activityId', `xc:${activityId}`]] },
      });
      statements.unshift([KEYED_CALL_SQL.findByKey, [FLOOR_CALLER, key]]);
      statements.push([KEYED_CALL_SQL.insertRecord, rowValues(record)]);
    }
    await driver.writeAll(statements);
    return json;
  };
}

type Handler = (req: FloorRequest) => Promise<string>;

function floorRequest(req: http.IncomingMessage, body: Buffer): FloorRequest {
  const key = req.headers['idempotency-key'];
  return {
    method: req.method as string,
    url: req.url as string,
    body,
    idempotencyKey: typeof key === 'string' ? key : undefined,
  };
}

function answer(res: http.ServerResponse, handle: Handler, req: FloorRequest): void {
  handle(req).then(
    (json) => {
      res.writeHead(200, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(json),
      });
      res.end(json);
    },
    (err: Error) => {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(err.message);
    },
  );
}

/** A bare node:http server: read the body, answer. */
function bareServer(handle: Handler): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(res, handle, floorRequest(req, Buffer.concat(chunks))));
  });
}

/** The same handler in Express 5, with the server's app settings (no ETag, no X-Powered-By, simple query parser). */
function expressServer(handle: Handler): http.Server {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.post('/', express.raw({ type: () => true, limit: '10mb' }), (req, res) =>
    answer(res, handle, floorRequest(req, req.body as Buffer)),
  );
  return http.createServer(app);
}

async function serve(framework: Framework): Promise<void> {
  const driver = await connectDriver(process.env.HTTP_FLOOR_DATABASE_URL as string);
  const handle = compositeHandler(driver, Number(process.env.HTTP_FLOOR_AUTHOR_ID), framework);
  const server = framework === 'express' ? expressServer(handle) : bareServer(handle);
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as { port: number }).port));
}

export interface HttpFloor {
  origin: string;
  stop(): Promise<void>;
}

export type Framework = 'node:http' | 'express';

/** Starts the HTTP floor as a child process on a free 127.0.0.1 port, writing to `databaseUrl`. */
export async function startHttpFloor(
  databaseUrl: string,
  authorId: number,
  framework: Framework = 'node:http',
): Promise<HttpFloor> {
  const child = fork(__filename, ['serve', framework], {
    env: { ...process.env, HTTP_FLOOR_DATABASE_URL: databaseUrl, HTTP_FLOOR_AUTHOR_ID: String(authorId) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve(Number(m)));
    child.once('exit', (code) => reject(new Error(`the HTTP floor exited with code ${code}`)));
  });
  return { origin: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

if (require.main === module && process.argv[2] === 'serve') {
  serve(process.argv[3] as Framework).catch((err: Error) => {
    process.stderr.write(`http floor failed: ${err.message}\n`);
    process.exit(1);
  });
}

// Owns the HTTP floor: the rows of a composite written by a bare node:http handler in a process of its
// own — JSON.parse of the request, the floor's prepared statements in one transaction, an answer of the
// same shape and size as the server's, JSON.stringify'd. No framework, auth, validation or planning:
// what a round trip with these bodies costs on this machine before any server logic.
// With `express`, the same handler behind an Express app (one route, a raw body, `res.send`), set as the
// server sets it: what Express itself adds to a round trip, since the server keeps Express.
import http from 'node:http';
import { fork } from 'node:child_process';
import express from 'express';
import { connectDriver, type Driver } from './database';
import { stopChild } from './server';
import { compositeRows } from './workloads';

/** Ids this process writes stay apart from the floor's, the bulk load's, the server's and the other framework's. */
const HTTP_FLOOR_ID_BASE: Record<Framework, number> = { 'node:http': 3_000_000_000, express: 3_500_000_000 };

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
function compositeHandler(driver: Driver, authorId: number, framework: Framework): (text: string) => Promise<string> {
  let nextId = HTTP_FLOOR_ID_BASE[framework];
  const author = { id: `xc:${authorId}`, displayName: 'bench', type: 'User', uri: `/admin/v1/users/xc:${authorId}` };
  return async (text) => {
    const sent = JSON.parse(text) as SentComposite;
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
    await driver.writeAll(statements);
    return JSON.stringify({ responses });
  };
}

function answer(res: http.ServerResponse, handle: (text: string) => Promise<string>, text: string): void {
  handle(text).then(
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
function bareServer(handle: (text: string) => Promise<string>): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(res, handle, Buffer.concat(chunks).toString('utf8')));
  });
}

/** The same handler in Express 5, with the server's app settings (no ETag, no X-Powered-By, simple query parser). */
function expressServer(handle: (text: string) => Promise<string>): http.Server {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.post('/', express.raw({ type: () => true, limit: '10mb' }), (req, res) =>
    answer(res, handle, (req.body as Buffer).toString('utf8')),
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

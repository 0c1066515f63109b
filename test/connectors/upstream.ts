// Real HTTP servers on 127.0.0.1 for connector tests: a scriptable API, an OAuth token endpoint
// (oauth2-mock-server), and a registry file on disk.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { OAuth2Server, type MutableResponse } from 'oauth2-mock-server';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: Recorded, res: http.ServerResponse) => void;

export interface Upstream {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>`, for CONNECTORS_ALLOWED_HOSTS. */
  host: string;
  port: number;
  requests: Recorded[];
  close(): Promise<void>;
}

export async function startUpstream(handler: Handler, host = '127.0.0.1'): Promise<Upstream> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      handler(recorded, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    host: `${host}:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export interface OAuthServer {
  server: OAuth2Server;
  tokenUrl: string;
  host: string;
  /** Form bodies of the token requests, in order. */
  tokenRequests: Array<Record<string, string>>;
  close(): Promise<void>;
}

export async function startOAuth(): Promise<OAuthServer> {
  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');
  await server.start(0, '127.0.0.1');
  const tokenRequests: Array<Record<string, string>> = [];
  server.service.on('beforeResponse', (_response: MutableResponse, req: { body: Record<string, string> }) => {
    tokenRequests.push({ ...req.body });
  });
  const port = server.address().port;
  return {
    server,
    tokenUrl: `http://127.0.0.1:${port}/token`,
    host: `127.0.0.1:${port}`,
    tokenRequests,
    close: () => server.stop(),
  };
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'connectors-test-'));
}

export function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
}

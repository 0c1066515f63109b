// Owns the TypeScript client of the server: connectors (simple and composite), the composite API,
// batch requests and asynchronous calls, over the standard fetch API so it runs in Node 18+ and in browsers alike.
import { AsyncCall, type AsyncRecord, type Exchange } from './async';
import { ConnectorBoundaryError, errorFor } from './errors';
import { CompositeBuilder } from './composite';
import type {
  AsyncOptions,
  BatchRequest,
  BatchResponse,
  BatchRunOptions,
  ClientOptions,
  CompositeExecuteOptions,
  CompositeRequest,
  CompositeResponse,
  CompositeRunOptions,
  ExecuteOptions,
} from './options';
import { base64, encodePayload, handlingHeaders, queryString } from './requestEncoding';

export { ApiRequestError, ConnectorBoundaryError, ConnectorExecutionError } from './errors';
export { CompositeBuilder, ref } from './composite';
export type { CompositeResult, FailedEntry, Item, Collection, Ran, NotIncluded, Selection } from './compositeTypes';
export { AsyncCall, type AsyncRecord, type WaitOptions } from './async';
export type {
  Credentials,
  ClientOptions,
  QueryParams,
  ExecuteOptions,
  CompositeExecuteOptions,
  CompositeRequest,
  CompositeSubrequest,
  CompositeSubselection,
  ActivityAttributes,
  NoteAttributes,
  UserAttributes,
  CompositeResponse,
  BatchRequest,
  BatchSubrequest,
  BatchResponse,
  UnknownMode,
  HandlingOptions,
  BatchRunOptions,
  WriteOptions,
  AsyncOptions,
  CompositeRunOptions,
} from './options';

export class CompositeApiClient {
  private readonly fetchImpl: typeof fetch;
  private readonly baseUrl: string;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const f = options.fetch ?? globalThis.fetch;
    if (!f) throw new Error('No fetch implementation: pass options.fetch');
    this.fetchImpl = f.bind(globalThis);
  }

  readonly connectors = {
    /** Runs a simple connector; resolves to the parsed JSON (or text) the upstream answered. */
    execute: (opts: ExecuteOptions): Promise<unknown> => {
      const headers: Record<string, string> = {};
      if (opts.pathParams !== undefined) headers['X-Path-Params'] = JSON.stringify(opts.pathParams);
      return this.send(
        'POST',
        `/rest/connectors/v1/connectors/${encodeURIComponent(opts.permalink)}/execute${queryString(opts.queryParams)}`,
        opts.payload,
        headers,
      );
    },
    list: (): Promise<unknown> => this.send('GET', '/rest/connectors/v1/connectors'),
    composite: {
      /**
       * Runs a composite connector (always POST). Path parameters are a simple-connector concept:
       * passing `pathParams` throws ConnectorBoundaryError at once, and nothing is sent.
       */
      execute: (opts: CompositeExecuteOptions): Promise<unknown> => {
        if ((opts as ExecuteOptions).pathParams !== undefined) {
          throw new ConnectorBoundaryError(
            'pathParams are not supported on composite connectors; embed values in step URLs with templates',
          );
        }
        return this.send(
          'POST',
          `/rest/connectors/v1/composite/${encodeURIComponent(opts.permalink)}/execute${queryString(opts.queryParams)}`,
          opts.payload,
        );
      },
      list: (): Promise<unknown> => this.send('GET', '/rest/connectors/v1/composite'),
      get: (permalink: string): Promise<unknown> =>
        this.send('GET', `/rest/connectors/v1/composite/${encodeURIComponent(permalink)}`),
    },
  };

  /**
   * `client.composite()` starts a typed composite builder (see ./composite.ts);
   * `client.composite.run(body)` sends a body as it is.
   */
  readonly composite = Object.assign(
    () =>
      new CompositeBuilder(async (body, headers) => {
        const answer = await this.exchange('POST', '/rest/composite/v1/composite', body, headers);
        return { status: answer.status, body: answer.data, serverTiming: answer.headers.get('server-timing') ?? '' };
      }),
    {
      /**
       * POST /rest/composite/v1/composite; a failed composite (400 requestFailed) rejects with the body on
       * the error. With `async: true` it resolves to an AsyncCall whose `waitForResult()` does the same.
       */
      run: ((request: CompositeRequest, opts: CompositeRunOptions & Partial<AsyncOptions> = {}) => {
        const headers = handlingHeaders(opts);
        if (opts.transactionId) headers['GW-DBTransaction-ID'] = opts.transactionId;
        if (opts.async) return this.sendAsync<CompositeResponse>('/rest/composite/v1/composite', request, headers);
        return this.send('POST', '/rest/composite/v1/composite', request, headers);
      }) as {
        (request: CompositeRequest, opts: CompositeRunOptions & AsyncOptions): Promise<AsyncCall<CompositeResponse>>;
        (request: CompositeRequest, opts?: CompositeRunOptions): Promise<CompositeResponse>;
      },
    },
  );

  readonly batch = {
    /**
     * POST /rest/<api>/v1/batch: the subrequests run one after another, each as if sent alone; a
     * failed one is an entry with its own status (the promise rejects only when the batch is refused).
     */
    run: (request: BatchRequest, opts: BatchRunOptions = {}): Promise<BatchResponse> => {
      const shown = opts.includeResponseHeaders;
      const query =
        shown === undefined
          ? undefined
          : { includeResponseHeaders: typeof shown === 'string' ? shown : shown.join(',') };
      return this.send(
        'POST',
        `/rest/${opts.api ?? 'common'}/v1/batch${queryString(query)}`,
        request,
        handlingHeaders(opts),
      ) as Promise<BatchResponse>;
    },
  };

  readonly asyncRequests = {
    /** The record of an asynchronous call you sent (404 for anyone else's). */
    get: (id: string): Promise<AsyncRecord> =>
      new AsyncCall<unknown>((m, p) => this.exchange(m, p), `/async/v1/requests/${id}`).record(),
    /** Its original answer, once complete. */
    response: (id: string): Promise<unknown> =>
      this.send('GET', `/rest/async/v1/requests/${encodeURIComponent(id)}/response`),
  };

  private async sendAsync<T>(path: string, payload: unknown, headers: Record<string, string>): Promise<AsyncCall<T>> {
    const res = await this.exchange('POST', path, payload, headers);
    if (res.status === 202)
      return new AsyncCall<T>((m, p) => this.exchange(m, p), res.headers.get('GW-Async-Location') ?? undefined);
    // Refused at once, or failed within `wait`: rejected as the synchronous call would be.
    if (res.status >= 300) throw errorFor(res.status, res.data);
    // Finished within `wait`: the answer is here already.
    return new AsyncCall<T>((m, p) => this.exchange(m, p), undefined, res);
  }

  private authorization(): Record<string, string> {
    const c = this.options.credentials;
    if (!c) return {};
    return { Authorization: 'bearer' in c ? `Bearer ${c.bearer}` : `Basic ${base64(`${c.username}:${c.password}`)}` };
  }

  private async send(
    method: string,
    path: string,
    payload?: unknown,
    extra: Record<string, string> = {},
  ): Promise<unknown> {
    const res = await this.exchange(method, path, payload, extra);
    if (res.status >= 300) throw errorFor(res.status, res.data);
    return res.data;
  }

  /** One request; the answer whatever its status, its body parsed when it is JSON. */
  private async exchange(
    method: string,
    path: string,
    payload?: unknown,
    extra: Record<string, string> = {},
  ): Promise<Exchange> {
    const { body, contentType } = encodePayload(payload);
    const headers: Record<string, string> = {
      Accept: 'application/json, */*',
      ...this.options.headers,
      ...this.authorization(),
      ...extra,
    };
    if (contentType) headers['Content-Type'] = contentType;
    const res = await this.fetchImpl(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    const isJson = /^application\/([a-z0-9.+-]+\+)?json\b/i.test(res.headers.get('content-type') ?? '');
    let data: unknown = text;
    if (isJson && text !== '') {
      try {
        data = JSON.parse(text);
      } catch {
        // Not JSON after all: the text stands.
      }
    }
    return { status: res.status, headers: res.headers, data };
  }
}

export function createClient(options: ClientOptions): CompositeApiClient {
  return new CompositeApiClient(options);
}

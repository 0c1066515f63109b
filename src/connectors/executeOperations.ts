// Owns running simple and composite connectors; neither may run inside a composite (no rollback of outbound calls).
import { WRITERS, type Operation } from '../api/operation';
import { REQUEST_HEADERS, type ResponseHeaderName } from '../api/headers';
import { clientData, parsePathParams } from './clientInput';
import { ConnectorFailure } from './failure';
import { base, failed, notFound, outcomeResult } from './operationAnswers';
import type { ConnectorRegistry } from './registry';
import type { ConnectorRunner } from './run';

/** A connector run's answer carries its timing (src/connectors/timing.ts), whatever its outcome. */
const RUN_HEADERS: readonly ResponseHeaderName[] = ['Server-Timing', 'X-Connector-Timing'];

export function executeOperations(registry: ConnectorRegistry, runner: ConnectorRunner): Operation[] {
  return [
    {
      ...base,
      operationId: 'executeConnector',
      api: 'connectors',
      method: 'post',
      path: '/connectors/{permalink}/execute',
      tag: 'Connectors',
      summary:
        'Run a simple connector: body = payload, query string = query parameters, X-Path-Params = path parameters',
      roles: WRITERS,
      rawBody: true,
      anyQueryParams: true,
      headers: [REQUEST_HEADERS.pathParams],
      responses: [
        {
          status: 200,
          description: 'The upstream response (status, content type and body pass through)',
          headers: RUN_HEADERS,
        },
        { status: 400, description: 'Missing or invalid X-Path-Params' },
        { status: 404, description: 'Unknown permalink' },
        { status: 422, description: 'A template could not be rendered', headers: RUN_HEADERS },
        {
          status: 502,
          description: 'The upstream answered 4xx/5xx, failed, timed out, or broke the outbound rule',
          headers: RUN_HEADERS,
        },
      ],
      handler: async (ctx, input) => {
        const permalink = input.params.permalink;
        const c = (await registry.current()).simple.get(permalink);
        if (!c) return failed(notFound('connector', permalink), ctx.requestId);
        let pathParams: Record<string, string>;
        try {
          pathParams = parsePathParams(input.headers['x-path-params'], c.pathParams, { kind: 'connector', permalink });
        } catch (err) {
          return failed(err as ConnectorFailure, ctx.requestId);
        }
        return outcomeResult(await runner.runSimple(c, clientData(input, pathParams)), ctx.requestId);
      },
    },
    {
      ...base,
      operationId: 'executeCompositeConnector',
      api: 'connectors',
      method: 'post',
      path: '/composite/{permalink}/execute',
      tag: 'Connectors',
      summary: 'Run a composite connector: body = payload, query string = query parameters',
      roles: WRITERS,
      rawBody: true,
      anyQueryParams: true,
      responses: [
        { status: 200, description: "The last step's response (status, content type and body)", headers: RUN_HEADERS },
        { status: 400, description: 'X-Path-Params sent (path parameters are a simple-connector concept)' },
        { status: 404, description: 'Unknown permalink' },
        { status: 422, description: 'A template could not be rendered', headers: RUN_HEADERS },
        {
          status: 502,
          description: 'A step answered 4xx/5xx, failed, timed out, or broke the outbound rule',
          headers: RUN_HEADERS,
        },
      ],
      handler: async (ctx, input) => {
        const permalink = input.params.permalink;
        const c = (await registry.current()).composite.get(permalink);
        if (!c) return failed(notFound('composite connector', permalink), ctx.requestId);
        if (input.headers['x-path-params'] !== undefined) {
          return failed(
            new ConnectorFailure(
              'pathParams',
              'PATH_PARAMS_NOT_SUPPORTED',
              'path parameters are not supported on composite connectors; use step templates',
              { kind: 'connector', permalink },
            ),
            ctx.requestId,
          );
        }
        return outcomeResult(await runner.runComposite(c, clientData(input, {})), ctx.requestId);
      },
    },
  ];
}

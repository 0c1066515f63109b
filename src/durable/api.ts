// Owns the asynchronous-call API (/rest/async/v1): a request's record and its original answer, readable
// only by the caller who sent it or an admin — to anyone else it does not exist (404).
import { Type } from '@sinclair/typebox';
import { READERS, type Caller, type Operation, type OpResponse } from '../api/operation';
import { errors } from '../errors';
import type { RequestRecord } from './records';
import type { DurableRequests } from './requests';

const STATUS_NAMES: Record<RequestRecord['state'], string> = {
  accepted: 'Accepted',
  inProgress: 'In progress',
  complete: 'Complete',
};

const RecordSchema = Type.Object({
  data: Type.Object({
    attributes: Type.Object({
      id: Type.String(),
      status: Type.Object({
        code: Type.Union([Type.Literal('accepted'), Type.Literal('inProgress'), Type.Literal('complete')]),
        name: Type.String(),
      }),
      requestMethod: Type.String(),
      requestUri: Type.String(),
      responseStatus: Type.Optional(Type.Integer({ description: 'Once complete' })),
      createTime: Type.String({ format: 'date-time' }),
      completeTime: Type.Optional(Type.String({ format: 'date-time' })),
    }),
    links: Type.Object({ self: Type.Object({ href: Type.String(), methods: Type.Array(Type.String()) }) }),
  }),
});

const ERRORS: OpResponse[] = [
  { status: 400, description: 'Bad input' },
  { status: 401, description: 'Not authenticated' },
  { status: 404, description: 'No such request, or not yours' },
];

/** The record, if this caller may see it: its sender or an admin. */
async function visibleRecord(durable: DurableRequests, caller: Caller, id: string): Promise<RequestRecord> {
  const record = id.length <= 36 ? await durable.record(id) : undefined;
  if (!record || record.kind !== 'async' || (record.caller !== caller.username && !caller.roles.includes('admin'))) {
    throw errors.notFound(`No asynchronous request ${id}`);
  }
  return record;
}

function attributes(r: RequestRecord): Record<string, unknown> {
  const a: Record<string, unknown> = {
    id: r.id,
    status: { code: r.state, name: STATUS_NAMES[r.state] },
    requestMethod: r.method,
    requestUri: r.request_uri,
    createTime: r.create_time,
  };
  if (r.state === 'complete') {
    a.responseStatus = r.response_status;
    a.completeTime = r.complete_time;
  }
  return a;
}

export function asyncOperations(durable: DurableRequests): Operation[] {
  const common = {
    api: 'async' as const,
    method: 'get' as const,
    tag: 'Asynchronous calls',
    roles: READERS,
    allowForComposite: false,
    queryParams: [],
    transactional: false,
  };
  return [
    {
      ...common,
      operationId: 'getAsyncRequest',
      path: '/requests/{requestId}',
      summary: 'The record of an asynchronous request: its status, and the status of its answer once complete',
      responses: [{ status: 200, description: 'The record', schema: RecordSchema }, ...ERRORS],
      async handler(ctx, input) {
        const record = await visibleRecord(durable, ctx.caller, input.params.requestId);
        return {
          status: 200,
          body: {
            data: {
              attributes: attributes(record),
              links: { self: { href: `/async/v1/requests/${record.id}`, methods: ['get'] } },
            },
          },
        };
      },
    },
    {
      ...common,
      operationId: 'getAsyncResponse',
      path: '/requests/{requestId}/response',
      summary: 'The original answer of a complete asynchronous request: its status, headers and body',
      responses: [
        {
          status: 200,
          description: 'The original answer, with its own status (201, 200, 204, 4xx…), headers and body',
        },
        ...ERRORS,
      ],
      async handler(ctx, input) {
        const record = await visibleRecord(durable, ctx.caller, input.params.requestId);
        if (record.state !== 'complete') {
          throw errors.badInput(`Asynchronous request ${record.id} is not complete yet`, [
            { message: 'Not complete', properties: { status: record.state } },
          ]);
        }
        return durable.original(record, ctx.requestId);
      },
    },
  ];
}

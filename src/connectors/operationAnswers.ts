// Owns what the connector operations share: their common route-table fields and their failure and run answers.
import type { OpResult } from '../api/operation';
import { ConnectorFailure } from './failure';
import type { RunOutcome } from './run';
import { timingHeaders } from './timing';

export const base = { queryParams: [], transactional: false, allowForComposite: false } as const;

export function notFound(kind: 'connector' | 'composite connector', permalink: string): ConnectorFailure {
  const shown = permalink.slice(0, 100);
  return new ConnectorFailure('notFound', 'CONNECTOR_NOT_FOUND', `no ${kind} with permalink "${shown}"`, {
    kind: 'connector',
    permalink: shown,
  });
}

export function failed(failure: ConnectorFailure, requestId: string, headers: Record<string, string> = {}): OpResult {
  return { status: failure.status, body: failure.toBody(requestId), headers };
}

export function outcomeResult(outcome: RunOutcome, requestId: string): OpResult {
  const headers = timingHeaders(outcome.timings, outcome.totalMs);
  if (!outcome.ok) return failed(outcome.failure, requestId, headers);
  return { status: outcome.status, headers, raw: { contentType: outcome.contentType, body: outcome.body } };
}

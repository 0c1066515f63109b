// Owns the client's typed errors: a connector failure carries `errors.scope` from the server; any
// other error body (SPEC §2) is an ApiRequestError; pathParams on a composite is refused locally.

/** pathParams given to a composite connector: refused before anything is sent. */
export class ConnectorBoundaryError extends Error {
  override name = 'ConnectorBoundaryError';
}

/** Any non-2xx answer. `body` is the parsed error body (or text). */
export class ApiRequestError extends Error {
  override name = 'ApiRequestError';
  constructor(
    readonly status: number,
    readonly body: unknown,
    message: string,
    /** SPEC §2 `errorCode`, when the body has one. */
    readonly errorCode?: string,
  ) {
    super(message);
  }
}

/** A connector execution that failed: `scope` says where (`Composite step 'x' (index 1): Downstream (HTTP error)`). */
export class ConnectorExecutionError extends ApiRequestError {
  override name = 'ConnectorExecutionError';
  constructor(
    status: number,
    body: unknown,
    readonly code: string,
    readonly detail: string,
    readonly scope: string,
    readonly requestId: string | undefined,
  ) {
    super(status, body, `${scope}: ${detail}`, (body as { errorCode?: string }).errorCode);
  }
}

interface ConnectorErrorBody {
  success: false;
  errors: { code: string; detail: string; scope: string };
  request_id?: string;
}

function isConnectorErrorBody(body: unknown): body is ConnectorErrorBody {
  const b = body as ConnectorErrorBody | undefined;
  return (
    !!b &&
    b.success === false &&
    typeof b.errors === 'object' &&
    b.errors !== null &&
    typeof b.errors.scope === 'string'
  );
}

export function errorFor(status: number, body: unknown): ApiRequestError {
  if (isConnectorErrorBody(body))
    return new ConnectorExecutionError(
      status,
      body,
      body.errors.code,
      body.errors.detail,
      body.errors.scope,
      body.request_id,
    );
  const b = body as { userMessage?: string; errorCode?: string } | undefined;
  const message = typeof b?.userMessage === 'string' ? b.userMessage : `HTTP ${status}`;
  return new ApiRequestError(status, body, message, typeof b?.errorCode === 'string' ? b.errorCode : undefined);
}

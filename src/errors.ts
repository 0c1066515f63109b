// Owns the contract's error body (SPEC §2) and the one factory every error in the server is built with.

export interface ErrorDetail {
  message: string;
  properties?: Record<string, unknown>;
}

export interface ErrorBody {
  status: number;
  errorCode: string;
  userMessage: string;
  developerMessage: string;
  details: ErrorDetail[];
}

/** An error that is safe to show the client: its status, code and messages are the whole response. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly userMessage: string,
    readonly details: ErrorDetail[] = [],
    readonly developerMessage: string = userMessage,
    readonly headers: Record<string, string> = {},
  ) {
    super(userMessage);
  }

  toBody(): ErrorBody {
    return {
      status: this.status,
      errorCode: this.errorCode,
      userMessage: this.userMessage,
      developerMessage: this.developerMessage,
      details: this.details,
    };
  }
}

/** The prefix of every REST error code (`gw.api.rest.exception.NotFoundException`). */
export const REST_EXCEPTION = 'gw.api.rest.exception.';

/** Every error the server answers with. Callers never pick a status by hand. */
export const errors = {
  badInput: (message: string, details: ErrorDetail[] = []) =>
    new ApiError(400, `${REST_EXCEPTION}BadInputException`, message, details),
  malformedJson: (message: string) =>
    new ApiError(400, `${REST_EXCEPTION}BadInputException`, `The request body is not valid JSON: ${message}`),
  unauthenticated: (
    message = 'Authentication is required',
    challenge = 'Basic realm="composite-api", charset="UTF-8"',
  ) =>
    new ApiError(401, `${REST_EXCEPTION}UnauthenticatedException`, message, [], message, {
      'WWW-Authenticate': challenge,
    }),
  forbidden: (message: string) => new ApiError(403, `${REST_EXCEPTION}PermissionDeniedException`, message),
  notFound: (message: string, details: ErrorDetail[] = []) =>
    new ApiError(404, `${REST_EXCEPTION}NotFoundException`, message, details),
  methodNotAllowed: (method: string, path: string, allowed: string[]) =>
    new ApiError(
      405,
      `${REST_EXCEPTION}MethodNotAllowedException`,
      `${method} is not allowed on ${path}`,
      [{ message: `Allowed methods: ${allowed.join(', ')}`, properties: { allowed } }],
      undefined,
      { Allow: allowed.join(', ') },
    ),
  checksumMismatch: (uri: string, currentChecksum: string, suppliedChecksum: string) =>
    new ApiError(
      409,
      `${REST_EXCEPTION}ChecksumMismatchException`,
      `The checksum supplied for ${uri} does not match the current checksum`,
      [{ message: 'Checksum mismatch', properties: { uri, currentChecksum, suppliedChecksum } }],
    ),
  conflict: (message: string, details: ErrorDetail[] = []) =>
    new ApiError(409, `${REST_EXCEPTION}ConflictException`, message, details),
  payloadTooLarge: (limit: number) =>
    new ApiError(
      413,
      `${REST_EXCEPTION}PayloadTooLargeException`,
      `The request body is larger than the limit of ${limit} bytes`,
    ),
  unsupportedMediaType: (contentType: string) =>
    new ApiError(
      415,
      `${REST_EXCEPTION}UnsupportedMediaTypeException`,
      `Content type "${contentType}" is not supported; send application/json`,
    ),
  tooManyRequests: (retryAfterSeconds: number) =>
    new ApiError(
      429,
      `${REST_EXCEPTION}TooManyRequestsException`,
      'Too many failed authentication attempts; try again later',
      [],
      undefined,
      {
        'Retry-After': String(retryAfterSeconds),
      },
    ),
  alreadyExecuted: (transactionId: string) =>
    new ApiError(
      400,
      'gw.api.webservice.exception.AlreadyExecutedException',
      'This composite transaction has already been executed',
      [{ message: 'GW-DBTransaction-ID already committed', properties: { transactionId } }],
    ),
  idempotencyKeyInUse: (key: string) =>
    new ApiError(
      409,
      `${REST_EXCEPTION}ConflictException`,
      'A request with this Idempotency-Key is still running; try again when it has finished',
      [{ message: 'Idempotency-Key in use', properties: { idempotencyKey: key } }],
      undefined,
      { 'Retry-After': '1' },
    ),
  idempotencyKeyReused: (key: string) =>
    new ApiError(
      422,
      `${REST_EXCEPTION}UnprocessableEntityException`,
      'This Idempotency-Key was used for a different request (method, path or body)',
      [{ message: 'Idempotency-Key reused for another request', properties: { idempotencyKey: key } }],
    ),
  serviceUnavailable: (message: string, retryAfterSeconds: number) =>
    new ApiError(503, `${REST_EXCEPTION}ServiceUnavailableException`, message, [], undefined, {
      'Retry-After': String(retryAfterSeconds),
    }),
  /** Node's HTTP parser refused the request before any route saw it (src/http/clientError.ts). */
  malformedHttp: (code: string) =>
    new ApiError(400, `${REST_EXCEPTION}BadInputException`, 'The request is not valid HTTP', [
      { message: 'Refused by the HTTP parser', properties: { code } },
    ]),
  headersTooLarge: () =>
    new ApiError(
      431,
      `${REST_EXCEPTION}RequestHeaderFieldsTooLargeException`,
      'The request headers are larger than the server accepts',
    ),
  headersTimeout: () =>
    new ApiError(408, `${REST_EXCEPTION}RequestTimeoutException`, 'The request was not received in time'),
  requestTimeout: () =>
    new ApiError(503, `${REST_EXCEPTION}ServiceUnavailableException`, 'The request took too long and was stopped'),
  internal: (requestId: string) =>
    new ApiError(500, `${REST_EXCEPTION}InternalServerErrorException`, 'Something unexpected happened', [
      { message: 'See the server log for this request id', properties: { requestId } },
    ]),
};

// Owns Node's own refusals (the HTTP parser's, before any route runs): a raw bad byte in the request
// line, headers over the size limit, headers not received in time. Answered in the contract's error
// body (SPEC §2) instead of Node's bare status line, whenever the socket can still take an answer.
import { STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { errors, type ApiError } from '../errors';

/** What Node's parser and timers report, as the error the client gets; undefined: just close. */
function refusal(code: string | undefined): ApiError | undefined {
  if (code === 'HPE_HEADER_OVERFLOW') return errors.headersTooLarge();
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return errors.headersTimeout();
  if (code?.startsWith('HPE_')) return errors.malformedHttp(code);
  return undefined; // ECONNRESET and other socket errors: nobody is listening for an answer
}

/** A complete HTTP/1.1 answer as bytes: the socket has no ServerResponse to write it. */
export function rawAnswer(err: ApiError): Buffer {
  const body = Buffer.from(JSON.stringify(err.toBody()), 'utf8');
  const head = [
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? ''}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${body.length}`,
    'X-Content-Type-Options: nosniff',
    'Connection: close',
    ...Object.entries(err.headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

export function answerClientErrors(server: Server, logger: Logger): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const apiError = refusal(err.code);
    // Node's own default handler makes the same check: an answer already started cannot be replaced.
    const started = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage?.headersSent === true;
    if (!apiError || !socket.writable || started) {
      socket.destroy();
      return;
    }
    logger.info(
      { status: apiError.status, errorCode: apiError.errorCode, code: err.code },
      'request refused by the HTTP parser',
    );
    socket.end(rawAnswer(apiError));
  });
}

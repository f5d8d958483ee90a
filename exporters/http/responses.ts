/**
 * Response and request helpers of the collector: the security headers every response
 * carries, plain/JSON/HTML senders, and a request-body reader with a size limit.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** The dashboard page's policy: our own script and stylesheet, nothing inline, no frames. */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
  "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Everything that is not the dashboard page may not load anything. */
const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'";

/** Most bytes of request body accepted; no route needs a body at all. */
export const MAX_BODY_BYTES = 1024;

/** Headers on every response. */
export function baseHeaders(csp = DEFAULT_CSP): OutgoingHttpHeaders {
  return {
    'Cache-Control': 'no-store',
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/** Sends a complete response (HEAD requests get the headers only; node:http drops the body). */
export function send(
  response: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: OutgoingHttpHeaders = {},
): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(status, {
    ...baseHeaders(),
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  response.end(body);
}

/** Sends `value` as JSON. */
export function sendJson(
  response: ServerResponse,
  status: number,
  value: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  send(response, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`, headers);
}

/** Sends a one-line error, as JSON under /api/ and as text elsewhere. */
export function sendError(
  response: ServerResponse,
  status: number,
  message: string,
  options: { json?: boolean; headers?: OutgoingHttpHeaders } = {},
): void {
  if (options.json === true) sendJson(response, status, { error: message }, options.headers);
  else send(response, status, 'text/plain; charset=utf-8', `${message}\n`, options.headers);
}

/** A request body over {@link MAX_BODY_BYTES}. */
export class BodyTooLargeError extends Error {
  constructor() {
    super(`request body larger than ${MAX_BODY_BYTES} bytes`);
  }
}

/**
 * Reads the request body, rejecting with BodyTooLargeError as soon as it passes `limit`
 * bytes (announced or sent), so a large upload is never buffered.
 */
export function readBody(request: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const announced = Number(request.headers['content-length'] ?? 0);
  if (announced > limit) return Promise.reject(new BodyTooLargeError());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    // The client hung up (or the request timed out) before the body ended.
    const onClose = (): void => onError(new Error('the request was aborted'));
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}

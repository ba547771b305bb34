import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A minimal HTTP answer: status, content type, headers and the whole body. */
export interface HttpAnswer {
  status: number;
  contentType: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * A `Retry-After` header in milliseconds from `nowMs`: delta-seconds or an HTTP date
 * (a date in the past is 0). Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // Only an HTTP date (always "… GMT"): Date.parse would take "-5" or "12" for a year.
  const at = /^[A-Za-z]{3}, .+ GMT$/.test(v) ? Date.parse(v) : NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * POSTs a body and reads the whole answer, with a timeout; no redirects followed.
 * node:http rather than fetch: the agent stays small (fetch loads undici and its
 * WASM parser), which matters for a process that runs all day on a pharmacy PC.
 */
export function httpPost(url: URL, body: Buffer, contentType: string, timeoutMs: number, maxAnswerBytes = 16 * 1024 * 1024): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      { method: 'POST', headers: { 'content-type': contentType, 'content-length': body.length }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxAnswerBytes) req.destroy(new Error('answer too large'));
          else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

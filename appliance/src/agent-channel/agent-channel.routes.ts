import type { Context } from 'koa';
import type { Router } from '@koa/router';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ENVELOPE_CONTENT_TYPE } from '../../../agent/src/protocol/envelope.js';
import { AGENT_API, enrolRequestSchema } from '../../../agent/src/protocol/messages.js';
import type { AppContext } from '../http/app-context.js';
import { AppError, ValidationError } from '../http/errors.js';
import { agentChannelService } from './agent-channel.factory.js';

/** Reads the raw request body up to `limit` bytes (envelopes are binary, not JSON). */
async function readRaw(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw new AppError(413, 'payload_too_large', 'Requête trop volumineuse.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new AppError(413, 'payload_too_large', 'Requête trop volumineuse.');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Agent-facing routes. No session or cookie here: the channel authenticates every
 * message itself (enrolment by one-time code, then sealed envelopes).
 */
export function registerAgentChannelRoutes(router: Router, app: AppContext): void {
  // Codes carry 100 bits, but guessing is still throttled: 10 enrolment attempts per client IP per 15 min.
  const enrolLimiter = new RateLimiterMemory({ points: 10, duration: 900 });
  router.post(AGENT_API.enrol, async (ctx) => {
    try {
      await enrolLimiter.consume(ctx.state.clientIp || 'unknown');
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      throw new AppError(429, 'rate_limited', 'Trop de tentatives d’enrôlement, réessayez plus tard.', 'enrolment rate limit', { 'Retry-After': String(Math.ceil(err.msBeforeNext / 1000)) });
    }
    const parsed = enrolRequestSchema.safeParse(ctx.request.body);
    if (!parsed.success) throw new ValidationError(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
    ctx.body = await agentChannelService(app).enrol(parsed.data);
  });

  router.post(AGENT_API.messages, async (ctx) => {
    if (!ctx.is(ENVELOPE_CONTENT_TYPE)) throw new AppError(415, 'unsupported_media_type', 'Type de contenu non pris en charge.');
    const raw = await readRaw(ctx, app.config.AGENT_MAX_MESSAGE_KB * 1024);
    const answer = await agentChannelService(app).handleMessage(raw);
    ctx.type = ENVELOPE_CONTENT_TYPE;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = answer;
  });
}

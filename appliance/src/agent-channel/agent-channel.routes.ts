import type { Context } from 'koa';
import type { Router } from '@koa/router';
import { ENVELOPE_CONTENT_TYPE } from '../../../agent/src/protocol/envelope.js';
import { AGENT_API, enrolRequestSchema } from '../../../agent/src/protocol/messages.js';
import type { AppContext } from '../http/app-context.js';
import { AppError } from '../http/errors.js';
import { defineRoute } from '../http/route.js';
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
 * Agent-facing routes. No session, no cookie, hence no CSRF: the channel
 * authenticates itself (enrolment by one-time code, then sealed envelopes). The
 * enrolment route sits behind the public per-IP limiter (code guessing).
 */
export function registerAgentChannelRoutes(router: Router, app: AppContext): void {
  defineRoute(router, app, {
    method: 'POST',
    path: AGENT_API.enrol,
    permission: 'public',
    tenant: false,
    csrf: false,
    rateLimit: 'public',
    body: enrolRequestSchema,
    summary: 'Agent enrolment with a one-time code (X25519 public key in, agent id and server key out).',
    handler: (_ctx, { body }) => agentChannelService(app).enrol(body),
  });

  defineRoute(router, app, {
    method: 'POST',
    path: AGENT_API.messages,
    permission: 'public',
    tenant: false,
    csrf: false,
    rateLimit: 'none',
    summary: 'Sealed agent message (batch, summary, hello); answers a sealed acknowledgement.',
    handler: async (ctx) => {
      if (!ctx.is(ENVELOPE_CONTENT_TYPE)) throw new AppError(415, 'unsupported_media_type', 'Type de contenu non pris en charge.');
      const raw = await readRaw(ctx as unknown as Context, app.config.AGENT_MAX_MESSAGE_KB * 1024);
      const answer = await agentChannelService(app).handleMessage(raw);
      ctx.type = ENVELOPE_CONTENT_TYPE;
      ctx.body = answer;
    },
  });
}

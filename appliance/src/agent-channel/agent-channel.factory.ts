import type { AppContext } from '../http/app-context.js';
import { AgentChannelRepository } from './agent-channel.repository.js';
import { AgentChannelService } from './agent-channel.service.js';
import { StagingBatchSink, type BatchSink } from './batch-sink.js';
import { ServerKeyProvider } from './server-key.js';

const services = new WeakMap<AppContext, AgentChannelService>();

/**
 * The channel service for an app context (one per context, so the HTTP routes and
 * the console share key caches). `sink` defaults to the staging sink until the
 * ingestion service is wired in.
 */
export function agentChannelService(app: AppContext, sink: BatchSink = new StagingBatchSink()): AgentChannelService {
  let s = services.get(app);
  if (!s) {
    s = new AgentChannelService(new AgentChannelRepository(app.db), new ServerKeyProvider(app.secrets), sink, app.logger, app.clock, {
      maxSkewMs: app.config.AGENT_MAX_SKEW_SECONDS * 1000,
      epochMs: app.config.AGENT_EPOCH_HOURS * 3_600_000,
      enrolCodeTtlMs: app.config.AGENT_ENROL_CODE_TTL_HOURS * 3_600_000,
    });
    services.set(app, s);
  }
  return s;
}

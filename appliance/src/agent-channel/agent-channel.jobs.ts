import type { AppContext } from '../http/app-context.js';
import type { ScheduledJob } from '../scheduler/job.js';
import { agentChannelService } from './agent-channel.factory.js';

/**
 * The scheduled key rotation of the agent channel: every hour, agents whose epoch is
 * older than AGENT_EPOCH_HOURS move to the next one (an agent also rotates on its
 * next message; this covers agents that stay silent).
 */
export function agentChannelJobs(): ScheduledJob[] {
  return [
    {
      name: 'agents.rotate-epochs',
      cron: '41 * * * *',
      run: async ({ app }: { app: AppContext }) => ({ rotated: await agentChannelService(app).rotateDueEpochs() }),
    },
  ];
}

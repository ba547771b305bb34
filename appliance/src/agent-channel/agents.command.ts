import type { Command } from 'commander';
import { cliLogger, fail, loadConfigOrExit, openRuntime, type GlobalOptions } from '../cli/bootstrap.js';
import { agentChannelService } from './agent-channel.factory.js';
import type { AgentChannelService } from './agent-channel.service.js';

/** Runs `fn` with the channel service on an opened runtime (console = super-admin on the machine). */
async function withService(program: Command, what: string, fn: (s: AgentChannelService) => Promise<void>): Promise<void> {
  const config = loadConfigOrExit(program.opts<GlobalOptions>());
  const logger = cliLogger(config.LOG_LEVEL);
  try {
    const rt = await openRuntime(config, logger);
    try {
      await fn(agentChannelService(rt.app));
    } finally {
      await rt.close();
    }
  } catch (err) {
    fail(logger, err, what);
  }
}

/** `appliance agents …`: enrolment codes, listing, revocation and epoch rotation of pharmacy agents. */
export function registerAgentsCommand(program: Command): void {
  const agents = program.command('agents').description('Pharmacy agents: enrolment codes, list, revoke, key epochs.');

  agents
    .command('enroll-code')
    .description('Create a one-time enrolment code for a pharmacy (give it to whoever installs the agent).')
    .requiredOption('--pharmacy <id>', 'pharmacy id (uuid)')
    .action((o: { pharmacy: string }) =>
      withService(program, 'création du code d’enrôlement impossible', async (s) => {
        const { code, expiresAt } = await s.createEnrolmentCode(o.pharmacy, null);
        process.stdout.write(`Code d’enrôlement (usage unique, valable jusqu’au ${expiresAt.toISOString()}) :\n  ${code}\n`);
      }),
    );

  agents
    .command('list')
    .description('List enrolled agents and their last sync summary.')
    .option('--pharmacy <id>', 'only this pharmacy')
    .option('--json', 'machine-readable output')
    .action((o: { pharmacy?: string; json?: boolean }) =>
      withService(program, 'liste des agents impossible', async (s) => {
        const list = await s.list(o.pharmacy);
        if (o.json) return void process.stdout.write(JSON.stringify(list, null, 2) + '\n');
        if (list.length === 0) return void process.stdout.write('Aucun agent enrôlé.\n');
        for (const a of list) {
          process.stdout.write(`${a.id}  pharmacie ${a.pharmacyId}  ${a.status === 'revoked' ? 'RÉVOQUÉ' : 'actif'}  époque ${a.epoch}  vu ${a.lastSeenAt?.toISOString() ?? 'jamais'}\n`);
        }
      }),
    );

  agents
    .command('revoke')
    .description('Revoke an agent: every further message from it is refused.')
    .requiredOption('--pharmacy <id>', 'pharmacy id')
    .requiredOption('--agent <id>', 'agent id')
    .action((o: { pharmacy: string; agent: string }) =>
      withService(program, 'révocation impossible', async (s) => {
        await s.revoke(o.pharmacy, o.agent, null);
        process.stdout.write(`Agent ${o.agent} révoqué.\n`);
      }),
    );

  agents
    .command('rotate-epochs')
    .description('Rotate key epochs now: those due (default, what the schedule runs) or one agent’s.')
    .option('--agent <id>', 'rotate this agent now, due or not')
    .action((o: { agent?: string }) =>
      withService(program, 'rotation des clés impossible', async (s) => {
        if (o.agent) process.stdout.write(`Agent ${o.agent} : époque ${await s.rotateEpoch(o.agent)}.\n`);
        else process.stdout.write(`${await s.rotateDueEpochs()} agent(s) passé(s) à une nouvelle époque.\n`);
      }),
    );
}

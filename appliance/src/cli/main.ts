#!/usr/bin/env node
import { Command } from 'commander';
import { APP_VERSION } from '../config/version.js';
import { registerBackupCommands } from './backup.command.js';
import { registerCatalogueCommand } from '../catalogue/catalogue.command.js';
import { registerIngestCommand } from '../ingest/ingest.command.js';
import { registerMigrateCommand } from './migrate.command.js';
import { registerSchedulerCommand } from './scheduler.command.js';
import { registerServeCommands } from './serve.command.js';
import { registerUpgradeCommand } from '../upgrade/upgrade.command.js';
import { registerUsersCommand } from './users.command.js';
import { registerAuditCommand } from './audit.command.js';
import { registerAgentsCommand } from '../agent-channel/agents.command.js';
import { registerOpsCommands } from './ops.command.js';
import { registerDataProtectionCommands } from './data-protection.command.js';

/**
 * `appliance`: the server and the operator console in one binary. Each domain
 * registers its own sub-commands here.
 */
export function buildProgram(): Command {
  const program = new Command('appliance')
    .description('Officine Appliance — serveur et console d’exploitation')
    .version(APP_VERSION)
    .option('--env-file <path>', 'configuration file (default /etc/officine/appliance.env, or $OFFICINE_ENV_FILE)')
    .showHelpAfterError();
  registerServeCommands(program);
  registerMigrateCommand(program);
  registerUpgradeCommand(program);
  registerUsersCommand(program);
  registerAuditCommand(program);
  registerBackupCommands(program);
  registerSchedulerCommand(program);
  registerCatalogueCommand(program);
  registerIngestCommand(program);
  registerAgentsCommand(program);
  registerOpsCommands(program);
  registerDataProtectionCommands(program);
  return program;
}

await buildProgram().parseAsync(process.argv);

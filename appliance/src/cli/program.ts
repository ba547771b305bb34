import { Command } from 'commander';
import { APP_VERSION } from '../config/version.js';

type Registrar = (program: Command) => void;

/**
 * Every domain's console commands: the top-level names each module registers, and how
 * to load it. Modules are imported only when needed: `appliance backup run` loads the
 * backup code, not the web server, the agent channel or the GDPR jobs. That keeps
 * start-up short for commands run by cron, WAL archiving (once per segment) and the
 * backup benchmark. `--help` and unknown commands load them all.
 */
export const COMMAND_MODULES: { names: string[]; load: () => Promise<Registrar> }[] = [
  { names: ['serve', 'demo'], load: async () => (await import('./serve.command.js')).registerServeCommands },
  { names: ['migrate'], load: async () => (await import('./migrate.command.js')).registerMigrateCommand },
  { names: ['upgrade'], load: async () => (await import('../upgrade/upgrade.command.js')).registerUpgradeCommand },
  { names: ['users'], load: async () => (await import('./users.command.js')).registerUsersCommand },
  { names: ['audit'], load: async () => (await import('./audit.command.js')).registerAuditCommand },
  { names: ['backup', 'restore', 'drill', 'wal'], load: async () => (await import('./backup.command.js')).registerBackupCommands },
  { names: ['scheduler'], load: async () => (await import('./scheduler.command.js')).registerSchedulerCommand },
  { names: ['catalogue'], load: async () => (await import('../catalogue/catalogue.command.js')).registerCatalogueCommand },
  { names: ['ingest'], load: async () => (await import('../ingest/ingest.command.js')).registerIngestCommand },
  { names: ['agents'], load: async () => (await import('../agent-channel/agents.command.js')).registerAgentsCommand },
  { names: ['status', 'readonly', 'alerts', 'console'], load: async () => (await import('./ops.command.js')).registerOpsCommands },
  { names: ['gdpr', 'archive', 'keys'], load: async () => (await import('./data-protection.command.js')).registerDataProtectionCommands },
];

/** The first word of argv that is not an option (nor the value of --env-file). */
export function commandName(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--env-file') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * `appliance`: the server and the operator console in one binary. Loads the module
 * of the command asked for (or every module, for help and errors).
 */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('appliance')
    .description('Officine Appliance — serveur et console d’exploitation')
    .version(APP_VERSION)
    .option('--env-file <path>', 'configuration file (default /etc/officine/appliance.env, or $OFFICINE_ENV_FILE)')
    .showHelpAfterError();
  const name = commandName(argv);
  const wanted = COMMAND_MODULES.filter((m) => name !== undefined && m.names.includes(name));
  for (const m of wanted.length ? wanted : COMMAND_MODULES) (await m.load())(program);
  return program;
}

import type { Command } from 'commander';
import { migrateDown, migrateUp, pendingMigrations } from '../db/migrator.js';
import { cliLogger, fail, loadConfigOrExit, openRuntime, type GlobalOptions } from './bootstrap.js';

/** `appliance migrate`: apply, inspect or revert schema migrations. */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending migrations (default), list them, or revert the last ones.')
    .option('--status', 'list pending migrations and exit (exit code 3 when some are pending)')
    .option('--down <n>', 'revert the last N migrations ("all" for every one)')
    .action(async (opts: { status?: boolean; down?: string }) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const logger = cliLogger(config.LOG_LEVEL);
      try {
        const rt = await openRuntime(config, logger, { migrate: false });
        try {
          if (opts.status) {
            const pending = await pendingMigrations(rt.app.db);
            process.stdout.write(pending.length ? `Migrations en attente :\n${pending.map((p) => `  ${p}`).join('\n')}\n` : 'Schéma à jour.\n');
            process.exitCode = pending.length ? 3 : 0;
          } else if (opts.down) {
            const steps = opts.down === 'all' ? Infinity : Number(opts.down);
            if (!Number.isInteger(steps) && steps !== Infinity) throw new Error('--down takes a whole number or "all"');
            const n = await migrateDown(rt.app.db, steps);
            process.stdout.write(`${n} migration(s) annulée(s).\n`);
          } else {
            const applied = await migrateUp(rt.app.db);
            process.stdout.write(applied.length ? `Appliquées :\n${applied.map((a) => `  ${a}`).join('\n')}\n` : 'Schéma à jour.\n');
          }
        } finally {
          await rt.close();
        }
      } catch (err) {
        fail(logger, err, 'la migration a échoué');
      }
    });
}

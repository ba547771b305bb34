import type { Command } from 'commander';
import { recordAudit, verifyAuditChain } from '../audit/audit.service.js';
import { createLogger } from '../logging/logger.js';
import { fail, loadConfigOrExit, openRuntime, type GlobalOptions } from './bootstrap.js';
import { consoleActor } from './users.command.js';

/** `appliance audit verify`: recomputes the hash chain; exit 1 when a row was edited or deleted. */
export function registerAuditCommand(program: Command): void {
  const auditCmd = program.command('audit').description('Audit log tools.');
  auditCmd
    .command('verify')
    .description('Verify the audit log hash chain (exit code 1 if a row was modified or deleted).')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
      try {
        const rt = await openRuntime(config, logger);
        try {
          const v = await verifyAuditChain(rt.app.db);
          if (!v.ok) {
            await recordAudit(rt.app.db, { ...consoleActor(), action: 'audit.tampering_detected', level: 'alert', details: { problems: v.problems.slice(0, 10).map((p) => ({ id: p.id, kind: p.kind })) } }).catch(() => undefined);
          }
          if (o.json) process.stdout.write(JSON.stringify(v) + '\n');
          else if (v.ok) process.stdout.write(`Journal d’audit intègre : ${v.rows} entrée(s) vérifiée(s).\n`);
          else {
            process.stdout.write(`ALERTE : journal d’audit altéré (${v.problems.length} problème(s) sur ${v.rows} entrée(s)) :\n`);
            for (const p of v.problems) {
              process.stdout.write(`  - entrée ${p.id} : ${p.kind === 'modified' ? 'modifiée après écriture' : 'chaînage rompu (entrée précédente supprimée ou réécrite)'}\n`);
            }
          }
          await rt.close();
          process.exit(v.ok ? 0 : 1);
        } catch (err) {
          await rt.close();
          throw err;
        }
      } catch (err) {
        fail(logger, err, 'la vérification du journal d’audit a échoué');
      }
    });
}

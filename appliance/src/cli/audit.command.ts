import type { Command } from 'commander';
import { recordAudit, verifyAuditChain } from '../audit/audit.service.js';
import { cliLogger, fail, loadConfigOrExit, openRuntime, type GlobalOptions } from './bootstrap.js';
import { consoleActor } from './users.command.js';

/** `appliance audit verify`: recomputes the hash chain; exit 1 when a row was edited or deleted. */
export function registerAuditCommand(program: Command): void {
  const auditCmd = program.command('audit').description('Audit log tools.');
  auditCmd
    .command('verify')
    .description('Verify the audit log hash chain (exit code 1 if a row was modified or deleted).')
    .option('--json', 'machine-readable output (includes the chain head to export)')
    .option('--anchor <id:hash>', 'a head exported earlier (`head` of --json): fails if it is no longer in the chain')
    .action(async (o: { json?: boolean; anchor?: string }) => {
      const anchorMatch = o.anchor === undefined ? null : /^(\d+):([0-9a-f]{64})$/.exec(o.anchor);
      if (o.anchor !== undefined && !anchorMatch) {
        process.stderr.write('Erreur : --anchor attend ID:EMPREINTE (64 caractères hexadécimaux), tel que donné par « head » de --json.\n');
        process.exit(2);
      }
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const logger = cliLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
      try {
        const rt = await openRuntime(config, logger);
        try {
          const v = await verifyAuditChain(rt.app.db, anchorMatch ? { anchor: { id: anchorMatch[1]!, hash: anchorMatch[2]! } } : {});
          if (!v.ok) {
            await recordAudit(rt.app.db, { ...consoleActor(), action: 'audit.tampering_detected', level: 'alert', details: { problems: v.problems.slice(0, 10).map((p) => ({ id: p.id, kind: p.kind })) } }).catch(() => undefined);
          }
          if (o.json) process.stdout.write(JSON.stringify(v) + '\n');
          else if (v.ok) process.stdout.write(`Journal d’audit intègre : ${v.rows} entrée(s) vérifiée(s).${v.head ? ` Dernière entrée : ${v.head.id}:${v.head.hash}` : ''}\n`);
          else {
            process.stdout.write(`ALERTE : journal d’audit altéré (${v.problems.length} problème(s) sur ${v.rows} entrée(s)) :\n`);
            for (const p of v.problems) {
              const what = { modified: 'modifiée après écriture', broken_link: 'chaînage rompu (entrée précédente supprimée ou réécrite)', truncated: 'ancre exportée absente : les entrées de fin ont été supprimées ou réécrites' }[p.kind];
              process.stdout.write(`  - entrée ${p.id} : ${what}\n`);
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

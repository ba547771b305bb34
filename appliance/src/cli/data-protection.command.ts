import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { rotateDataKey } from '../auth/secret-box.js';
import { recordAudit } from '../audit/audit.service.js';
import { GdprService } from '../gdpr/gdpr.service.js';
import { AppError } from '../http/errors.js';
import { InvoiceArchiveRepository } from '../invoices/invoice-archive.repository.js';
import { InvoiceArchiveService } from '../invoices/invoice-archive.service.js';
import { consoleActor, resolvePharmacy, withRuntime } from './users.command.js';

/**
 * `appliance archive verify|export|pharmacy-left` (invoice archive) and
 * `appliance keys rotate-data-key` (re-encrypts every sealed column),
 * `appliance gdpr reapply-erasures` (after a restore).
 */
export function registerDataProtectionCommands(program: Command): void {
  const archive = program.command('archive').description('Supplier invoice archive (legal retention).');
  archive
    .command('verify')
    .description('Verify the hash chain and every archived file (exit 1 if anything was tampered with).')
    .option('--pharmacy <finessOrId>', 'one pharmacy (default: all)')
    .option('--json', 'machine-readable output')
    .action((o: { pharmacy?: string; json?: boolean }) =>
      withRuntime(program, async (rt) => {
        const svc = new InvoiceArchiveService(rt.app);
        const ids = o.pharmacy ? [await resolvePharmacy(rt, o.pharmacy)] : await new InvoiceArchiveRepository(rt.app.db.manager).pharmaciesWithArchive();
        let bad = 0;
        const reports = [];
        for (const id of ids) {
          const v = await svc.verifyAndAlert(id, consoleActor());
          reports.push({ pharmacyId: id, ...v });
          if (!v.ok) bad++;
          if (!o.json) {
            process.stdout.write(v.ok ? `Pharmacie ${id} : archive intègre (${v.entries} entrée(s)).\n` : `ALERTE pharmacie ${id} : archive altérée\n${v.problems.map((p) => `  - ${p.message}\n`).join('')}`);
          }
        }
        if (o.json) process.stdout.write(JSON.stringify(reports) + '\n');
        if (bad) throw new AppError(409, 'archive_tampered', `archive altérée pour ${bad} pharmacie(s) : l’alerte est dans le journal d’audit.`);
      }),
    );
  archive
    .command('export')
    .description('Write a zip of the invoices issued in a period, with SHA256SUMS (verify with `sha256sum -c SHA256SUMS`).')
    .requiredOption('--pharmacy <finessOrId>', 'pharmacy (FINESS or id)')
    .requiredOption('--from <date>', 'first issue date (YYYY-MM-DD)')
    .requiredOption('--to <date>', 'last issue date (YYYY-MM-DD)')
    .requiredOption('--out <file>', 'zip file to write')
    .action((o: { pharmacy: string; from: string; to: string; out: string }) =>
      withRuntime(program, async (rt) => {
        const id = await resolvePharmacy(rt, o.pharmacy);
        const r = await new InvoiceArchiveService(rt.app).exportPeriod(id, o.from, o.to, createWriteStream(o.out, { mode: 0o600, flags: 'wx' }), consoleActor());
        process.stdout.write(`${r.entries} facture(s) exportée(s) dans ${o.out} (dossier ${r.folder}). Vérification : unzip puis « sha256sum -c SHA256SUMS » dans le dossier.\n`);
      }),
    );
  archive
    .command('pharmacy-left')
    .description('Record that a pharmacy left the groupement: its archive stays, in retention and export only.')
    .requiredOption('--pharmacy <finessOrId>', 'pharmacy (FINESS or id)')
    .action((o: { pharmacy: string }) =>
      withRuntime(program, async (rt) => {
        const id = await resolvePharmacy(rt, o.pharmacy);
        const changed = await new InvoiceArchiveService(rt.app).pharmacyLeft(id, consoleActor());
        process.stdout.write(changed ? 'Départ enregistré : l’archive reste conservée jusqu’à la fin des durées légales.\n' : 'Départ déjà enregistré.\n');
      }),
    );

  const hold = archive.command('hold').description('Legal holds (also for pharmacies that left the groupement).');
  hold
    .command('place')
    .description('Place a legal hold: nothing covered is purged while it is active.')
    .requiredOption('--pharmacy <finessOrId>', 'pharmacy (FINESS or id)')
    .requiredOption('--reason <text>', 'justification (10 characters at least)')
    .option('--from <date>', 'first issue date covered (default: all)')
    .option('--to <date>', 'last issue date covered (default: all)')
    .action((o: { pharmacy: string; reason: string; from?: string; to?: string }) =>
      withRuntime(program, async (rt) => {
        const id = await resolvePharmacy(rt, o.pharmacy);
        const holdId = await new InvoiceArchiveService(rt.app).placeHold(id, { reason: o.reason, coversFrom: o.from, coversTo: o.to }, consoleActor());
        process.stdout.write(`Gel juridique posé : ${holdId}\n`);
      }),
    );
  hold
    .command('release')
    .description('Release a legal hold.')
    .requiredOption('--pharmacy <finessOrId>', 'pharmacy (FINESS or id)')
    .requiredOption('--hold <id>', 'hold id')
    .action((o: { pharmacy: string; hold: string }) =>
      withRuntime(program, async (rt) => {
        await new InvoiceArchiveService(rt.app).releaseHold(await resolvePharmacy(rt, o.pharmacy), o.hold, consoleActor());
        process.stdout.write('Gel juridique levé.\n');
      }),
    );

  const gdpr = program.command('gdpr').description('Data protection (GDPR) maintenance.');
  gdpr
    .command('reapply-erasures')
    .description('After restoring a backup: erase again the accounts listed in DATA_DIR/gdpr/erasure-ledger.jsonl.')
    .action(() =>
      withRuntime(program, async (rt) => {
        const r = await new GdprService(rt.app).reapplyErasures();
        process.stdout.write(`${r.purged} compte(s) effacé(s) à nouveau (${r.inLedger} dans le registre des effacements).\n`);
      }),
    );

  const keys = program.command('keys').description('Encryption keys of the appliance.');
  keys
    .command('rotate-data-key')
    .description('Generate a new data key and re-encrypt every sealed column (TOTP seeds, connector credentials) with it.')
    .option('--forget-retired', 'delete retired keys afterwards (keep a copy in the vault first: older backups need them)')
    .action((o: { forgetRetired?: boolean }) =>
      withRuntime(program, async (rt) => {
        const r = await rotateDataKey(rt.app.db, rt.app.secrets, { forgetRetired: !!o.forgetRetired });
        await recordAudit(rt.app.db, { ...consoleActor(), action: 'keys.data_key_rotated', level: 'warning', details: { ...consoleActor().details, oldKeyId: r.oldKeyId, newKeyId: r.newKeyId, reencrypted: r.reencrypted, forgotten: r.forgotten } });
        const n = Object.values(r.reencrypted).reduce((a, b) => a + b, 0);
        process.stdout.write(`Clé de données renouvelée (${r.oldKeyId} → ${r.newKeyId}) : ${n} valeur(s) rechiffrée(s).${r.forgotten.length ? ` Anciennes clés supprimées : ${r.forgotten.join(', ')}.` : ''}\n`);
      }),
    );
}

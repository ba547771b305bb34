import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { cliLogger, fail, loadConfigOrExit, openRuntime, type GlobalOptions } from '../cli/bootstrap.js';
import { batchFile } from './ingest.schemas.js';
import { IngestService } from './ingest.service.js';

/** `appliance ingest FILE --pharmacy ID`: feeds a batch file (JSON) through the ingestion service. */
export function registerIngestCommand(program: Command): void {
  program
    .command('ingest')
    .argument('<file>', 'JSON batch file: { "batchId": "…", "sales": [...], "purchases": [...], … }')
    .requiredOption('--pharmacy <id>', 'pharmacy id (uuid)')
    .description('Ingest a batch file for one pharmacy (idempotent by batch id; bad lines go to quarantine).')
    .action(async (file: string, opts: { pharmacy: string }) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const logger = cliLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
      let parsed;
      try {
        parsed = batchFile.parse(JSON.parse(readFileSync(file, 'utf8')));
      } catch (err) {
        fail(logger, err, `fichier de lot illisible : ${file}`);
      }
      try {
        const rt = await openRuntime(config, logger);
        try {
          const { batchId, ...sections } = parsed;
          const r = await new IngestService(rt.app.db).ingestBatch(opts.pharmacy, batchId, sections, { source: 'console' });
          process.stdout.write(r.duplicate ? `Lot ${batchId} déjà intégré : rien n’a changé.\n` : `Lot ${batchId} intégré.\n`);
          for (const [kind, c] of Object.entries(r.counts)) {
            if (c.received) {
              process.stdout.write(
                `  ${kind} : ${c.received} reçues, ${c.inserted} nouvelles, ${c.updated} modifiées, ${c.unchanged} inchangées, ${c.quarantined} en quarantaine\n`,
              );
            }
          }
        } finally {
          await rt.close();
        }
      } catch (err) {
        fail(logger, err, 'l’intégration du lot a échoué');
      }
    });
}

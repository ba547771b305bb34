import type { Command } from 'commander';
import { cliLogger, fail, loadConfigOrExit, openRuntime, type GlobalOptions } from '../cli/bootstrap.js';
import { CatalogueService } from './catalogue.service.js';

/** `appliance catalogue import DIR`: loads the BDPM files into the product catalogue. */
export function registerCatalogueCommand(program: Command): void {
  const catalogue = program.command('catalogue').description('Product catalogue (BDPM public drug database).');
  catalogue
    .command('import')
    .argument('<dir>', 'directory holding CIS_bdpm.txt, CIS_CIP_bdpm.txt and CIS_GENER_bdpm.txt')
    .description('Import or refresh the catalogue from the BDPM files (idempotent).')
    .action(async (dir: string) => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const logger = cliLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
      try {
        const rt = await openRuntime(config, logger);
        try {
          const r = await new CatalogueService(rt.app.db).importBdpm(dir);
          process.stdout.write(
            `Catalogue importé : ${r.products} présentations (${r.changed} nouvelles ou modifiées), ` +
              `${r.genericGroups} groupes génériques, ${r.rejected.length} ligne(s) rejetée(s), ` +
              `${r.cip7KeyMismatches} CIP7 à clé non standard.\n`,
          );
          for (const x of r.rejected.slice(0, 20)) process.stdout.write(`  - ${x.file} ligne ${x.line} : ${x.reason}\n`);
        } finally {
          await rt.close();
        }
      } catch (err) {
        fail(logger, err, 'l’import du catalogue a échoué');
      }
    });
}

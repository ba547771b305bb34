import type { Command } from 'commander';
import { startHttpServer } from '../http/server.js';
import { createLogger } from '../logging/logger.js';
import { createProcessLogger } from '../logging/log-retention.js';
import { seedDemo } from '../tenancy/demo-seed.js';
import { seedDemoData } from '../ingest/demo-data.js';
import { startServeBackground } from '../ops/ops.factory.js';
import { fail, loadConfigOrExit, onShutdown, openRuntime, type GlobalOptions } from './bootstrap.js';

/** `appliance serve` (production) and `appliance demo` (what `npm start` runs). */
export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description('Start the HTTP server on loopback (migrates the database first, under an advisory lock).')
    .action(async () => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>());
      const logger = createProcessLogger(config);
      try {
        const rt = await openRuntime(config, logger);
        const srv = await startHttpServer(rt.app);
        const ops = await startServeBackground(rt.app);
        logger.info({ url: srv.url, metricsUrl: ops.metricsUrl, version: rt.app.version }, 'appliance listening');
        onShutdown(logger, async () => {
          await ops.stop();
          await srv.close();
          await rt.close();
        });
      } catch (err) {
        fail(logger, err, 'le serveur n’a pas pu démarrer');
      }
    });

  program
    .command('demo')
    .description('Demo mode (npm start): embedded PostgreSQL under ./var, demo groupement, prints the URL and the demo login.')
    .action(async () => {
      const config = loadConfigOrExit(program.opts<GlobalOptions>(), {
        NODE_ENV: process.env.NODE_ENV ?? 'development',
        OFFICINE_ENV_FILE: process.env.OFFICINE_ENV_FILE ?? '/dev/null',
      });
      const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
      try {
        const rt = await openRuntime(config, logger);
        const login = await seedDemo(rt.app.db, rt.app.secrets);
        const srv = await startHttpServer(rt.app);
        process.stdout.write(
          [
            '',
            'Officine Appliance — démonstration prête.',
            `  Adresse :       ${srv.url}/`,
            `  Identifiant :   ${login.email}`,
            `  Mot de passe :  ${login.password}   (stocké dans ${rt.app.secrets.path('demo-password')})`,
            '  Arrêt :         Ctrl-C',
            '',
          ].join('\n') + '\n',
        );
        // The commercial history (BDPM catalogue + 12 months of synthetic sales) is seeded
        // after the server answers: the first start takes a while on 2 cores, later starts
        // skip the months already present.
        let stopping = false;
        const seeding = seedDemoData(rt.app).then(
          (data) => {
            if ('unavailable' in data) process.stdout.write(`Données de démonstration non générées : ${data.unavailable}\n`);
            else if (data.batches) process.stdout.write(`Données de démonstration : ${data.batches} lots, ${data.salesLines} lignes de vente intégrées.\n`);
            else process.stdout.write('Données de démonstration déjà présentes.\n');
          },
          (err) => {
            if (!stopping) logger.error({ err }, 'demo data seeding failed');
          },
        );
        process.stdout.write('Génération des données de démonstration en cours…\n');
        onShutdown(logger, async () => {
          stopping = true;
          await srv.close();
          await Promise.race([seeding, new Promise((r) => setTimeout(r, 2000))]);
          await rt.close();
          process.stdout.write('Appliance arrêtée proprement.\n');
        });
      } catch (err) {
        fail(logger, err, 'la démonstration n’a pas pu démarrer');
      }
    });
}

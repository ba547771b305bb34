#!/usr/bin/env node
import { Command } from 'commander';

/**
 * `officine-agent`: runs next to the pharmacy's LGO and sends commercial data only.
 * Its commands (preview, enroll, run, status) arrive with the agent issue; this entry
 * point exists so the package's bin is complete and `--help` works.
 */
const program = new Command('officine-agent')
  .description('Agent Officine — extraction des données commerciales de l’officine (jamais de données patient)')
  .version('0.1.0');

await program.parseAsync(process.argv);

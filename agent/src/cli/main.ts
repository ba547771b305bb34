#!/usr/bin/env node
import { resolve } from 'node:path';
import { Command } from 'commander';
import pino from 'pino';
import { enrolAgent, AGENT_VERSION } from '../channel/enrol.js';
import { loadProfile, ProfileError } from '../model/profile.js';
import { AgentSetupError, AgentStore, DEFAULT_AGENT_DIR, type AgentConfig } from '../store/agent-store.js';
import { formatSummary, runPreview } from '../sync/preview.js';
import { AgentRevokedError, SyncRunner } from '../sync/sync-runner.js';
import { writeFileDurable } from '../store/durable-fs.js';
import { writeReferenceCsv, writeReferenceSqlite } from '../reference/reference-lgo.js';

/**
 * `officine-agent`: runs next to the pharmacy's LGO and sends commercial data only.
 * Commands: configure, preview, enroll, run, status. Messages for the pharmacist
 * in French; the agent's own log is JSON on stderr.
 */
const program = new Command('officine-agent')
  .description('Agent Officine — extraction des données commerciales de l’officine (jamais de données patient)')
  .version(AGENT_VERSION)
  .option('--dir <path>', `répertoire de l’agent (défaut $OFFICINE_AGENT_DIR ou ${DEFAULT_AGENT_DIR})`)
  .showHelpAfterError();

const store = () => new AgentStore(resolve(program.opts<{ dir?: string }>().dir ?? process.env.OFFICINE_AGENT_DIR ?? DEFAULT_AGENT_DIR));
const logger = () => pino({ level: process.env.OFFICINE_AGENT_LOG_LEVEL ?? 'info', base: { svc: 'officine-agent' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));

/** Runs a command body, turning known errors into a French message and exit code. */
async function guarded(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof AgentSetupError || err instanceof ProfileError) {
      process.stderr.write(`Erreur : ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof AgentRevokedError) {
      process.stderr.write('Erreur : cet agent a été révoqué par l’appliance ; un nouvel enrôlement est nécessaire.\n');
      process.exit(78);
    }
    process.stderr.write(`Erreur : ${(err as Error).message}\n`);
    process.exit(1);
  }
}

program
  .command('configure')
  .description('Write agent.json (0600): LGO profile, data source and the only folders the agent may read.')
  .requiredOption('--profile <name|file>', 'LGO profile: a shipped name (reference) or a JSON file')
  .option('--sqlite <file>', 'SQLite database of the LGO')
  .option('--csv <dir>', 'folder of CSV exports of the LGO')
  .option('--postgres <url>', 'PostgreSQL database of the LGO (read-only account)')
  .option('--root <dir...>', 'folders the agent may read (default: the source’s folder)')
  .option('--batch-size <n>', 'lines per batch', '2000')
  .option('--poll-seconds <n>', 'seconds between two extraction passes', '300')
  .action((o: { profile: string; sqlite?: string; csv?: string; postgres?: string; root?: string[]; batchSize: string; pollSeconds: string }) =>
    guarded(async () => {
      const sources = [o.sqlite, o.csv, o.postgres].filter(Boolean);
      if (sources.length !== 1) throw new AgentSetupError('Indiquez exactement une source : --sqlite, --csv ou --postgres.');
      loadProfile(o.profile); // refuses an invalid or widening profile now, not at the first sync
      const source: AgentConfig['source'] = o.sqlite
        ? { kind: 'sqlite', path: resolve(o.sqlite) }
        : o.csv
          ? { kind: 'csv', dir: resolve(o.csv) }
          : { kind: 'postgres', url: o.postgres! };
      const roots = (o.root ?? (source.kind === 'sqlite' ? [resolve(o.sqlite!, '..')] : source.kind === 'csv' ? [source.dir] : [])).map((r) => resolve(r));
      const s = store();
      const previous = s.hasConfig() ? s.readConfig() : undefined;
      s.writeConfig({
        ...(previous ?? {}),
        profile: o.profile.includes('/') ? resolve(o.profile) : o.profile,
        source,
        roots,
        batchSize: Number(o.batchSize),
        pollSeconds: Number(o.pollSeconds),
        maxSpoolMB: previous?.maxSpoolMB ?? 1024,
      });
      process.stdout.write(`Configuration enregistrée dans ${s.configPath} (droits 0600).\n`);
    }),
  );

program
  .command('preview')
  .description('Write exactly what would be sent (JSON lines) and its summary, without sending anything.')
  .requiredOption('--out <file>', 'JSON lines output (one record per line)')
  .option('--summary <file>', 'summary output (JSON); default <out>.summary.json')
  .action((o: { out: string; summary?: string }) =>
    guarded(async () => {
      const s = store();
      const summary = await runPreview(s.readConfig(), s.readState(), resolve(o.out));
      writeFileDurable(resolve(o.summary ?? `${o.out}.summary.json`), JSON.stringify(summary, null, 2) + '\n');
      process.stdout.write(`Aperçu écrit dans ${resolve(o.out)} (rien n’a été envoyé).\n\n${formatSummary(summary)}`);
    }),
  );

program
  .command('enroll')
  .description('Enrol this agent with the appliance using a one-time code from a pharmacy admin.')
  .requiredOption('--server <url>', 'appliance URL (https://…)')
  .requiredOption('--code <code>', 'one-time enrolment code')
  .action((o: { server: string; code: string }) =>
    guarded(async () => {
      const r = await enrolAgent(store(), o.server, o.code);
      process.stdout.write(`Agent enrôlé : ${r.agentId} (pharmacie ${r.pharmacyId}). Canal chiffré vérifié.\n`);
    }),
  );

program
  .command('run')
  .description('Run the agent: extract, spool, send; retries by itself (daemon, for systemd).')
  .option('--once', 'one extraction pass, wait until everything is acknowledged, then exit')
  .action((o: { once?: boolean }) =>
    guarded(async () => {
      const s = store();
      const config = s.readConfig();
      if (!config.agentId) throw new AgentSetupError('Agent non enrôlé : lancez « officine-agent enroll ».');
      const log = logger();
      const runner = new SyncRunner(s, config, log, {
        baseMs: Number(process.env.OFFICINE_AGENT_BACKOFF_MS ?? 1000),
        maxMs: Number(process.env.OFFICINE_AGENT_BACKOFF_MAX_MS ?? 60_000),
      });
      const ac = new AbortController();
      process.once('SIGTERM', () => ac.abort());
      process.once('SIGINT', () => ac.abort());
      log.info({ agentId: config.agentId }, 'agent started');
      await runner.run(ac.signal, { once: o.once ?? false });
      log.info({ maxRssKb: process.resourceUsage().maxRSS }, 'agent stopped');
    }),
  );

program
  .command('status')
  .description('Show last sync, spool size and withheld lines.')
  .option('--json', 'machine-readable output')
  .action((o: { json?: boolean }) =>
    guarded(async () => {
      const s = store();
      const config = s.readConfig();
      const state = s.readState();
      const spool = s.spool().size();
      const parked = s.spool().deadLetters();
      const status = {
        agentId: config.agentId ?? null,
        server: config.server ?? null,
        profile: config.profile,
        revoked: state.revoked,
        epoch: state.epoch,
        lastSyncAt: state.lastSyncAt,
        lastAckAt: state.lastAckAt,
        spool,
        deadLetters: parked.map((d) => ({ ...d.info, bytes: d.bytes })),
        withheldTotal: state.withheldTotal,
        lastError: state.lastError,
        lastSummary: state.lastSummary,
      };
      if (o.json) {
        process.stdout.write(JSON.stringify(status, null, 2) + '\n');
        return;
      }
      const w = Object.entries(state.withheldTotal);
      process.stdout.write(
        [
          `Agent :               ${config.agentId ?? 'non enrôlé'}${state.revoked ? ' (RÉVOQUÉ)' : ''}`,
          `Serveur :             ${config.server ?? '—'}`,
          `Dernière synchro :    ${state.lastSyncAt ?? 'jamais'}`,
          `Dernier accusé :      ${state.lastAckAt ?? 'jamais'}`,
          `File d’attente :      ${spool.entries} lot(s), ${(spool.bytes / 1024).toFixed(1)} Kio`,
          `Lots mis de côté :    ${parked.length ? `${parked.length} (refusés par l’appliance ; « officine-agent requeue » pour les renvoyer)` : 'aucun'}`,
          ...parked.map((d) => `  - ${d.info.batchId} ${d.info.entity ?? '?'}, ${d.info.rows} ligne(s), ${d.info.attempts} refus (${d.info.code}) le ${d.info.parkedAt} : ${d.info.reason}`),
          `Lignes retenues :     ${w.length ? w.map(([r, n]) => `${r}=${n}`).join(', ') : 'aucune'}`,
          `Dernière erreur :     ${state.lastError ?? '—'}`,
        ].join('\n') + '\n',
      );
    }),
  );

program
  .command('requeue')
  .description('Put batches parked after repeated refusals (see status) back in the queue, once the appliance is fixed.')
  .option('--batch <id>', 'only this batch id')
  .action((o: { batch?: string }) =>
    guarded(async () => {
      const n = store().spool().requeue(o.batch);
      if (o.batch && n === 0) throw new AgentSetupError(`Aucun lot mis de côté avec l’identifiant ${o.batch}.`);
      process.stdout.write(`${n} lot(s) remis en file d’attente : l’agent en cours les enverra.\n`);
    }),
  );

program
  .command('reference-lgo')
  .description('Demo and tests: write the documented reference LGO (SQLite file or CSV folder).')
  .option('--sqlite <file>', 'SQLite file to create')
  .option('--csv <dir>', 'CSV folder to create')
  .option('--lines <n>', 'sale lines', '10000')
  .option('--bdpm <dir>', 'BDPM extract for real products (CIS_bdpm.txt, CIS_CIP_bdpm.txt)')
  .action((o: { sqlite?: string; csv?: string; lines: string; bdpm?: string }) =>
    guarded(async () => {
      if (!o.sqlite === !o.csv) throw new AgentSetupError('Indiquez --sqlite ou --csv.');
      const opts = { saleLines: Number(o.lines), bdpmDir: o.bdpm };
      const counts = o.sqlite ? await writeReferenceSqlite(resolve(o.sqlite), opts) : await writeReferenceCsv(resolve(o.csv!), opts);
      process.stdout.write(`LGO de référence écrit : ${Object.entries(counts).map(([t, n]) => `${t}=${n}`).join(', ')}\n`);
    }),
  );

await program.parseAsync(process.argv);

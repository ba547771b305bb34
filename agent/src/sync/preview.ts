import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { openSource } from '../connectors/open-source.js';
import type { EntityName } from '../model/canonical-model.js';
import { loadProfile } from '../model/profile.js';
import type { SyncSummary } from '../protocol/messages.js';
import type { AgentConfig, AgentState } from '../store/agent-store.js';
import { extractBatches, SummaryBuilder } from './extractor.js';

/**
 * `officine-agent preview`: runs exactly the extraction a sync would run (same
 * profile, cursors, type checks and value scan) and writes every record that would
 * be sent as JSON lines — `{"entity":…,"record":{…}}` — without sending anything.
 */
export async function runPreview(config: AgentConfig, state: AgentState, outPath: string): Promise<SyncSummary> {
  const profile = loadProfile(config.profile);
  const source = await openSource(config.source, profile, config.roots);
  const summary = new SummaryBuilder();
  const startedAt = new Date().toISOString();
  const fd = openSync(outPath, 'w', 0o600);
  try {
    const cursors = state.cursors as Partial<Record<EntityName, { wm: string | number; key: string | number }>>;
    for await (const b of extractBatches(profile, source, cursors, { batchSize: config.batchSize, scope: config.agentId ?? 'local' }, summary)) {
      if (b.rows.length === 0) continue;
      writeSync(fd, b.rows.map((r) => JSON.stringify({ entity: b.entity, record: r })).join('\n') + '\n');
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
    await source.close();
  }
  return { profile: profile.name, startedAt, finishedAt: new Date().toISOString(), tables: summary.list() };
}

const REASONS: Record<string, string> = {
  nir: 'numéro de sécurité sociale (NIR) détecté',
  email: 'adresse e-mail détectée',
  phone: 'numéro de téléphone détecté',
  date_of_birth: 'date dans un texte libre (date de naissance possible)',
  invalid_value: 'valeur invalide ou manquante',
};

/** The summary in French, as printed for the pharmacist. */
export function formatSummary(s: SyncSummary): string {
  const lines = [`Profil LGO : ${s.profile}`, ''];
  for (const t of s.tables) {
    lines.push(`${t.entity}  (${t.source})`);
    if (t.refused) lines.push(`  REFUSÉ : ${t.refused}`);
    lines.push(`  colonnes envoyées : ${t.columns.join(', ')}`);
    lines.push(`  lignes lues : ${t.read}   envoyées : ${t.sent}   retenues : ${Object.values(t.withheld).reduce((a, b) => a + b, 0)}`);
    for (const [r, n] of Object.entries(t.withheld)) lines.push(`    - ${n} ligne(s) retenue(s) : ${REASONS[r] ?? r}`);
  }
  return lines.join('\n') + '\n';
}

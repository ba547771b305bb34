import type { MinuteCounts } from '../metrics/request-stats.js';
import type { AgentSeen, BackupTargetStatus } from '../ops.providers.js';
import type { MissedRun } from './missed-runs.js';

/** Everything the rules look at, gathered once per evaluation (null = not available). */
export interface AlertSignals {
  now: Date;
  /** Requests over the last 5 minutes and the hour before them. */
  http: { last5m: MinuteCounts; previousHour: MinuteCounts } | null;
  disks: { mount: string; usePercent: number }[] | null;
  certificate: { notAfter: Date; subject: string } | null;
  backups: BackupTargetStatus[] | null;
  agents: AgentSeen[] | null;
  jobs: { missed: MissedRun[]; lastFailures: { job: string; at: Date; error: string | null }[] } | null;
}

/** One firing alert; `key` identifies it across evaluations (rule + subject). */
export interface Alert {
  key: string;
  rule: string;
  severity: 'warning' | 'critical';
  /** French, short (email subject). */
  title: string;
  /** French, for people. */
  detail: string;
}

export interface AlertThresholds {
  serverErrorRatio: number;
  /** Below this many requests in 5 min the 5xx ratio is noise. */
  serverErrorMinRequests: number;
  /** Auth failures in 5 min that always count as a spike. */
  authFailureAbsolute: number;
  /** …or this many times the 5-min average of the hour before (when at least authFailureMinSpike). */
  authFailureFactor: number;
  authFailureMinSpike: number;
  backupMaxAgeH: number;
  diskPercent: number;
  certificateDays: number;
  agentSilentH: number;
}

export const DEFAULT_THRESHOLDS: AlertThresholds = {
  serverErrorRatio: 0.01,
  serverErrorMinRequests: 20,
  authFailureAbsolute: 50,
  authFailureFactor: 5,
  authFailureMinSpike: 10,
  backupMaxAgeH: 24,
  diskPercent: 85,
  certificateDays: 14,
  agentSilentH: 48,
};

type Rule = (s: AlertSignals, th: AlertThresholds) => Alert[];

const H = 3_600_000;
const fmt = (d: Date) => d.toLocaleString('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'short' });
const pct = (x: number) => `${(x * 100).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} %`;

export const serverErrorRule: Rule = (s, th) => {
  if (!s.http) return [];
  const { total, serverErrors } = s.http.last5m;
  if (total < th.serverErrorMinRequests || serverErrors / total <= th.serverErrorRatio) return [];
  return [{
    key: 'http_5xx', rule: 'http_5xx', severity: 'critical',
    title: 'Taux d’erreurs serveur élevé',
    detail: `${serverErrors} réponses 5xx sur ${total} requêtes en 5 minutes (${pct(serverErrors / total)}, seuil ${pct(th.serverErrorRatio)}).`,
  }];
};

export const authFailureRule: Rule = (s, th) => {
  if (!s.http) return [];
  const now = s.http.last5m.authFailures;
  const baseline = s.http.previousHour.authFailures / 12;
  const spike = now >= th.authFailureAbsolute || (now >= th.authFailureMinSpike && now > th.authFailureFactor * baseline);
  if (!spike) return [];
  return [{
    key: 'auth_failures', rule: 'auth_failures', severity: 'warning',
    title: 'Pic d’échecs d’authentification',
    detail: `${now} échecs d’authentification en 5 minutes (moyenne de l’heure précédente : ${baseline.toFixed(1)} par 5 minutes). Tentative de force brute possible.`,
  }];
};

export const backupRule: Rule = (s, th) => {
  if (!s.backups) return [];
  if (s.backups.length === 0) {
    return [{ key: 'backup_stale:none', rule: 'backup_stale', severity: 'critical', title: 'Aucune sauvegarde', detail: 'Aucune cible de sauvegarde n’est configurée : aucune sauvegarde depuis plus de 24 h.' }];
  }
  return s.backups
    .filter((t) => !t.lastBackupAt || t.lastBackupOk === false || s.now.getTime() - t.lastBackupAt.getTime() > th.backupMaxAgeH * H)
    .map((t) => ({
      key: `backup_stale:${t.target}`, rule: 'backup_stale', severity: 'critical' as const,
      title: `Pas de sauvegarde réussie depuis ${th.backupMaxAgeH} h (${t.target})`,
      detail: t.lastBackupAt
        ? `Dernière sauvegarde vers « ${t.target} » le ${fmt(t.lastBackupAt)}${t.lastBackupOk === false ? ' (en échec)' : ''}.`
        : `Aucune sauvegarde n’a encore été faite vers « ${t.target} ».`,
    }));
};

export const diskRule: Rule = (s, th) =>
  (s.disks ?? [])
    .filter((d) => d.usePercent > th.diskPercent)
    .map((d) => ({
      key: `disk:${d.mount}`, rule: 'disk', severity: d.usePercent > 95 ? 'critical' as const : 'warning' as const,
      title: `Disque presque plein (${d.mount})`,
      detail: `Le système de fichiers ${d.mount} est utilisé à ${d.usePercent.toFixed(1)} % (seuil ${th.diskPercent} %).`,
    }));

export const certificateRule: Rule = (s, th) => {
  if (!s.certificate) return [];
  const days = (s.certificate.notAfter.getTime() - s.now.getTime()) / (24 * H);
  if (days > th.certificateDays) return [];
  return [{
    key: 'tls_expiry', rule: 'tls_expiry', severity: days <= 3 ? 'critical' : 'warning',
    title: days <= 0 ? 'Certificat TLS expiré' : 'Certificat TLS bientôt expiré',
    detail: `Le certificat ${s.certificate.subject} expire le ${fmt(s.certificate.notAfter)} (${Math.max(0, Math.floor(days))} jour(s)). Vérifiez le renouvellement automatique de Caddy.`,
  }];
};

export const agentSilentRule: Rule = (s, th) =>
  (s.agents ?? [])
    .filter((a) => a.lastSeenAt && s.now.getTime() - a.lastSeenAt.getTime() > th.agentSilentH * H)
    .map((a) => ({
      key: `agent_silent:${a.agentId}`, rule: 'agent_silent', severity: 'warning' as const,
      title: `Agent silencieux : ${a.pharmacyName}`,
      detail: `L’agent de « ${a.pharmacyName} » n’a rien envoyé depuis le ${fmt(a.lastSeenAt!)} (plus de ${th.agentSilentH} h).`,
    }));

export const jobRule: Rule = (s) => {
  if (!s.jobs) return [];
  const byJob = new Map<string, Date[]>();
  for (const m of s.jobs.missed) byJob.set(m.job, [...(byJob.get(m.job) ?? []), m.expectedAt]);
  const missed = [...byJob].map(([job, times]) => ({
    key: `job_missed:${job}`, rule: 'job_missed', severity: 'warning' as const,
    title: `Tâche planifiée non exécutée : ${job}`,
    detail: `${times.length} exécution(s) prévue(s) de « ${job} » n’ont pas eu lieu (dernière attendue le ${fmt(times[times.length - 1]!)}). Le planificateur est-il arrêté ?`,
  }));
  const failed = s.jobs.lastFailures.map((f) => ({
    key: `job_failed:${f.job}`, rule: 'job_failed', severity: 'warning' as const,
    title: `Tâche planifiée en échec : ${f.job}`,
    detail: `La dernière exécution de « ${f.job} » (${fmt(f.at)}) a échoué${f.error ? ` : ${f.error.slice(0, 300)}` : ''}.`,
  }));
  return [...missed, ...failed];
};

/** Every rule, in the order alerts are listed. */
export const ALERT_RULES: readonly Rule[] = [serverErrorRule, authFailureRule, backupRule, diskRule, certificateRule, agentSilentRule, jobRule];

/** Runs every rule over one snapshot of signals. */
export function evaluateRules(s: AlertSignals, th: AlertThresholds = DEFAULT_THRESHOLDS): Alert[] {
  return ALERT_RULES.flatMap((r) => r(s, th));
}

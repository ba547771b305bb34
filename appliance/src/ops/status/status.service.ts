import type { DataSource } from 'typeorm';
import type { Config } from '../../config/config.js';
import { walSpoolState } from '../../backup/wal-spool.js';
import { walSpoolDir } from '../../backup/wal-settings.js';
import { pendingMigrations } from '../../db/migrator.js';
import type { OpsProviders } from '../ops.providers.js';
import type { ReadOnlyRepository, ReadOnlyState } from '../read-only/read-only.repository.js';
import { PostgresProbe, probeWeb, schedulerActive, webInstances, type PostgresSnapshot, type SystemProbe, type SystemSnapshot, type TlsProbe } from './status.probes.js';

/** A section that could not be read carries its error instead of its data. */
export type Section<T> = T | { error: string };

/** Agents seen within this long count as online. */
export const AGENT_ONLINE_MS = 2 * 3_600_000;
/** Agents silent for longer count as late (the alert threshold). */
export const AGENT_LATE_MS = 48 * 3_600_000;

/** WAL segments waiting in the spool; `error` when it cannot be read. */
export interface WalSpoolStatus {
  dir: string;
  pending: number | null;
  oldestAgeS: number | null;
  maxAgeS: number;
  error?: string;
}

/** `appliance status --json`: stable English keys, ISO dates, bytes and seconds. */
export interface StatusReport {
  version: string;
  generatedAt: string;
  system: Section<SystemSnapshot>;
  postgres: PostgresSnapshot;
  processes: {
    /** `ok`: /healthz answered at HOST:PORT; `instances`: web processes attached to the database; `uptimeS`: the oldest one's. */
    web: { ok: boolean; url: string; error?: string; instances: number | null; uptimeS: number | null };
    /** `active`: a scheduler process holds the runner lock; `lastRunAt`: newest job run. */
    scheduler: { available: boolean; active: boolean | null; lastRunAt: string | null };
  };
  tls: Section<{ source: string; subject: string; notAfter: string; daysLeft: number } | null>;
  backups: Section<{
    available: boolean;
    targets: { target: string; lastBackupAt: string | null; lastBackupOk: boolean | null; lastDrillAt: string | null; lastDrillOk: boolean | null }[];
    /** WAL segments waiting to be shipped (null with BACKUP_WAL_ARCHIVING=off); `error` when the spool is unreadable. */
    walSpool: WalSpoolStatus | null;
  }>;
  agents: Section<{ available: boolean; total: number; online: number; late: { agentId: string; pharmacyName: string; lastSeenAt: string | null }[] }>;
  readOnly: Section<ReadOnlyState>;
  migrations: Section<{ pending: string[] }>;
}

export interface StatusDeps {
  config: Config;
  db: DataSource;
  version: string;
  clock: { now(): Date };
  providers: OpsProviders;
  system: SystemProbe;
  tls: TlsProbe;
  readOnly: ReadOnlyRepository;
}

/** The WAL spool for status: how many segments wait and the oldest one's age. */
async function walSpoolStatus(config: Config, now: Date): Promise<WalSpoolStatus | null> {
  if (config.BACKUP_WAL_ARCHIVING !== 'on') return null;
  const dir = walSpoolDir(config);
  const maxAgeS = config.BACKUP_WAL_SPOOL_MAX_AGE_S;
  try {
    const s = await walSpoolState(dir, now);
    return { dir, pending: s.segments.length, oldestAgeS: s.oldestAgeS, maxAgeS };
  } catch (err) {
    return { dir, pending: null, oldestAgeS: null, maxAgeS, error: (err as Error).message };
  }
}

async function section<T>(fn: () => Promise<T>): Promise<Section<T>> {
  try {
    return await fn();
  } catch (err) {
    return { error: (err as Error).message };
  }
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * Gathers the health of the whole appliance for `appliance status`, the console and
 * (later) the admin page. Each section fails on its own: one broken probe never
 * hides the others.
 */
export class StatusService {
  constructor(private readonly d: StatusDeps) {}

  async collect(): Promise<StatusReport> {
    const { d } = this;
    const now = d.clock.now();
    const webUrl = `http://${d.config.HOST.includes(':') ? `[${d.config.HOST}]` : d.config.HOST}:${d.config.PORT}`;
    const [system, postgres, webProbe, instances, tls, backups, agents, readOnly, migrations, scheduler] = await Promise.all([
      section(() => d.system.snapshot(d.config.dataDir)),
      new PostgresProbe(d.db).snapshot(),
      probeWeb(webUrl),
      webInstances(d.db).catch(() => null),
      section(async () => {
        const c = await d.tls.certificate();
        return c && { source: c.source, subject: c.subject, notAfter: c.notAfter.toISOString(), daysLeft: Math.floor((c.notAfter.getTime() - now.getTime()) / 86_400_000) };
      }),
      section(async () => {
        const targets = await d.providers.backups.targets();
        return {
          available: targets !== null,
          targets: (targets ?? []).map((t) => ({ target: t.target, lastBackupAt: iso(t.lastBackupAt), lastBackupOk: t.lastBackupOk, lastDrillAt: iso(t.lastDrillAt), lastDrillOk: t.lastDrillOk })),
          walSpool: await walSpoolStatus(d.config, now),
        };
      }),
      section(async () => {
        const list = await d.providers.agents.agents();
        const age = (a: { lastSeenAt: Date | null }) => (a.lastSeenAt ? now.getTime() - a.lastSeenAt.getTime() : Infinity);
        return {
          available: list !== null,
          total: list?.length ?? 0,
          online: (list ?? []).filter((a) => age(a) <= AGENT_ONLINE_MS).length,
          late: (list ?? []).filter((a) => age(a) > AGENT_LATE_MS).map((a) => ({ agentId: a.agentId, pharmacyName: a.pharmacyName, lastSeenAt: iso(a.lastSeenAt) })),
        };
      }),
      section(() => d.readOnly.get()),
      section(async () => ({ pending: await pendingMigrations(d.db) })),
      (async () => {
        const jobs = await d.providers.jobRuns.jobs().catch(() => null);
        const runs = jobs ? await d.providers.jobRuns.runsSince(new Date(now.getTime() - 7 * 86_400_000)).catch(() => []) : [];
        const active = jobs ? await schedulerActive(d.db).catch(() => null) : null;
        return { available: jobs !== null, active, lastRunAt: iso(runs.at(-1)?.startedAt ?? null) };
      })(),
    ]);
    const web = {
      ...webProbe,
      instances: instances?.instances ?? null,
      uptimeS: instances?.oldestStartedAt ? Math.round((now.getTime() - new Date(instances.oldestStartedAt).getTime()) / 1000) : null,
    };
    return { version: d.version, generatedAt: now.toISOString(), system, postgres, processes: { web, scheduler }, tls, backups, agents, readOnly, migrations };
  }
}

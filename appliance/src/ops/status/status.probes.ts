import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg, uptime } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import si from 'systeminformation';
import type { DataSource } from 'typeorm';
import { READ_ONLY_LISTENER_APP } from '../read-only/read-only.watcher.js';
import { SCHEDULER_LOCK_KEY } from '../../scheduler/scheduler.service.js';

/** One mounted filesystem's usage. */
export interface DiskUsage {
  mount: string;
  sizeBytes: number;
  usedBytes: number;
  usePercent: number;
}

/** Machine health from systeminformation. */
export interface SystemSnapshot {
  hostUptimeS: number;
  cpuPercent: number;
  load: [number, number, number];
  memory: { totalBytes: number; availableBytes: number; usedPercent: number };
  disks: DiskUsage[];
}

/** Reads CPU, memory, load and the disks that matter (the data directory's and /). */
export class SystemProbe {
  async disks(dataDir: string): Promise<DiskUsage[]> {
    const all = await si.fsSize();
    const containing = (path: string) =>
      all
        .filter((f) => path === f.mount || path.startsWith(f.mount.endsWith('/') ? f.mount : f.mount + '/'))
        .sort((a, b) => b.mount.length - a.mount.length)[0];
    const picked = [containing(dataDir), all.find((f) => f.mount === '/')].filter((f): f is NonNullable<typeof f> => !!f);
    const seen = new Set<string>();
    return picked
      .filter((f) => !seen.has(f.mount) && seen.add(f.mount))
      .map((f) => ({ mount: f.mount, sizeBytes: f.size, usedBytes: f.used, usePercent: Number(f.use ?? 0) }));
  }

  async snapshot(dataDir: string): Promise<SystemSnapshot> {
    const [load, mem, disks] = await Promise.all([si.currentLoad(), si.mem(), this.disks(dataDir)]);
    const [l1, l5, l15] = loadavg();
    return {
      hostUptimeS: Math.round(uptime()),
      cpuPercent: Math.round(load.currentLoad * 10) / 10,
      load: [l1 ?? 0, l5 ?? 0, l15 ?? 0],
      memory: { totalBytes: mem.total, availableBytes: mem.available, usedPercent: Math.round(((mem.total - mem.available) / mem.total) * 1000) / 10 },
      disks,
    };
  }
}

/** PostgreSQL size and connections. */
export interface PostgresSnapshot {
  ok: boolean;
  version: string | null;
  sizeBytes: number | null;
  connections: number | null;
  maxConnections: number | null;
  error?: string;
}

export class PostgresProbe {
  constructor(private readonly db: DataSource) {}

  async snapshot(): Promise<PostgresSnapshot> {
    try {
      const rows: { v: string; size: string; conns: string; max: string }[] = await this.db.query(
        `SELECT current_setting('server_version') AS v, pg_database_size(current_database())::text AS size,
                (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database())::text AS conns,
                current_setting('max_connections') AS max`,
      );
      const r = rows[0]!;
      return { ok: true, version: r.v, sizeBytes: Number(r.size), connections: Number(r.conns), maxConnections: Number(r.max) };
    } catch (err) {
      return { ok: false, version: null, sizeBytes: null, connections: null, maxConnections: null, error: (err as Error).message };
    }
  }
}

/** The certificate being watched. */
export interface CertificateInfo {
  source: string;
  subject: string;
  notAfter: Date;
}

/**
 * Reads the TLS certificate's expiry: from TLS_CERT_FILE when configured, otherwise
 * the one Caddy serves at PUBLIC_URL (https only; verification off, we only read dates).
 */
export class TlsProbe {
  constructor(private readonly certFile: string | undefined, private readonly publicUrl: string, private readonly timeoutMs = 3000) {}

  async certificate(): Promise<CertificateInfo | null> {
    if (this.certFile) {
      const cert = new X509Certificate(readFileSync(this.certFile));
      return { source: this.certFile, subject: cert.subject.replace(/\n/g, ', '), notAfter: new Date(cert.validTo) };
    }
    const url = new URL(this.publicUrl);
    if (url.protocol !== 'https:') return null;
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: url.hostname, port: Number(url.port || 443), servername: url.hostname, rejectUnauthorized: false, timeout: this.timeoutMs }, () => {
        const peer = socket.getPeerCertificate();
        socket.end();
        if (!peer?.valid_to) return reject(new Error('no certificate presented'));
        resolve({ source: url.host, subject: peer.subject?.CN ? `CN=${peer.subject.CN}` : url.hostname, notAfter: new Date(peer.valid_to) });
      });
      socket.on('timeout', () => socket.destroy(new Error('TLS probe timed out')));
      socket.on('error', reject);
    });
  }
}

/** Web processes attached to the database (their kill-switch listeners) and the oldest one's start. */
export async function webInstances(db: DataSource): Promise<{ instances: number; oldestStartedAt: Date | null }> {
  const rows: { n: string; oldest: Date | null }[] = await db.query(
    `SELECT count(*)::text AS n, min(backend_start) AS oldest FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = $1`,
    [READ_ONLY_LISTENER_APP],
  );
  return { instances: Number(rows[0]?.n ?? 0), oldestStartedAt: rows[0]?.oldest ?? null };
}

/** Whether a scheduler process holds the runner's advisory lock (it is the active one). */
export async function schedulerActive(db: DataSource): Promise<boolean> {
  const rows: { n: string }[] = await db.query(
    `SELECT count(*)::text AS n FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = $1 AND objsubid = 1
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [SCHEDULER_LOCK_KEY],
  );
  return Number(rows[0]?.n ?? 0) > 0;
}

/** Whether the web process answers its liveness probe. */
export async function probeWeb(baseUrl: string, timeoutMs = 2000): Promise<{ ok: boolean; url: string; error?: string }> {
  try {
    const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    return { ok: res.status === 200, url: baseUrl, ...(res.status === 200 ? {} : { error: `HTTP ${res.status}` }) };
  } catch (err) {
    return { ok: false, url: baseUrl, error: (err as Error).message };
  }
}

import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { BackupError } from './backup.errors.js';
import { layout } from './backup-manifest.js';
import { libpqEnv, type BackupTools } from './backup-settings.js';
import { countRows, listForeignKeys } from './db-inventory.js';
import { runPipeline } from './process-pipeline.js';
import { installVerified, type RestoreResult, type RestoreService } from './restore.service.js';
import type { BackupTarget } from './targets/backup-target.js';
import { freePort, startThrowawayPostgres } from './throwaway-postgres.js';

/**
 * Point-in-time restore: the newest base backup finished before `until` (manifest,
 * checksum and key verified first), decrypted into a private temporary cluster, the
 * archived WAL from its start point decrypted beside it and replayed up to `until`;
 * the recovered cluster is then dumped into a new database on the real server,
 * checked (tables, row counts equal to the recovered cluster, foreign keys) and
 * swapped in like any restore.
 */
export async function pointInTimeRestore(
  svc: RestoreService,
  tools: BackupTools,
  source: BackupTarget,
  identityFile: string,
  opts: { until: Date; backupId?: string; workDir: string; adminUrl: string; database: string },
): Promise<RestoreResult> {
  const prepared = await svc.prepare(source, identityFile, { until: opts.until, backupId: opts.backupId, needBase: true, workDir: opts.workDir });
  const base = prepared.manifest.base!;
  const tmp = await mkdtemp(join(opts.workDir, 'officine-pitr-'));
  const asRoot = process.getuid?.() === 0;
  try {
    chmodSync(tmp, asRoot ? 0o711 : 0o700);
    const data = join(tmp, 'data');
    const walStage = join(tmp, 'wal');
    const sock = join(tmp, 'sock');
    for (const d of [data, walStage, sock]) mkdirSync(d, { mode: 0o700 });

    const untar = runPipeline([...svc.decryptStages(identityFile, prepared.file), { cmd: 'tar', args: ['-x', '-C', data], label: 'tar' }], 'ignore', 'ignore');
    await untar.done;

    const wanted = (await source.list(layout.walDir))
      .filter((n) => n.endsWith('.zst.age'))
      .map((n) => n.slice(0, -'.zst.age'.length))
      .filter((f) => f.endsWith('.history') || (/^[0-9A-F]{24}$/.test(f) && f.slice(8) >= base.startWal.slice(8)));
    for (const f of wanted) {
      const fd = openSync(join(walStage, f), 'w', 0o600);
      try {
        const p = runPipeline([{ cmd: tools.age, args: ['-d', '-i', identityFile], label: 'age' }, { cmd: tools.zstd, args: ['-d', '-q', '-c'], label: 'zstd' }], 'pipe', fd);
        (await source.get(layout.wal(f))).pipe(p.stdin!);
        await p.done;
      } finally {
        closeSync(fd);
      }
    }

    writeFileSync(join(data, 'pg_hba.conf'), 'local all all trust\n');
    appendFileSync(
      join(data, 'postgresql.auto.conf'),
      [
        `restore_command = 'cp "${walStage}/%f" "%p"'`,
        `recovery_target_time = '${opts.until.toISOString()}'`,
        `recovery_target_action = 'promote'`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(data, 'recovery.signal'), '');
    chmodSync(data, 0o700);
    if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', data, walStage, sock]);

    const port = await freePort();
    const cluster = await startThrowawayPostgres({
      parent: opts.workDir,
      dataDir: data,
      port,
      flags: ['-c', 'listen_addresses=', '-c', `unix_socket_directories=${sock}`, '-c', 'archive_mode=off'],
    }).catch((err: Error) => {
      throw new BackupError('pitr_recovery_failed', `Relecture des WAL jusqu'à ${opts.until.toISOString()} impossible (WAL manquants ?).`, String(err.cause ?? err.message));
    });
    try {
      const recoveredUrl = `postgres://postgres@localhost:${port}/${encodeURIComponent(opts.database)}?host=${encodeURIComponent(sock)}`;
      const c = new pg.Client({ host: sock, port, user: 'postgres', database: opts.database });
      await c.connect();
      let expected;
      try {
        expected = { tables: await countRows(c), foreignKeys: await listForeignKeys(c) };
      } finally {
        await c.end();
      }
      return await installVerified(opts, `${prepared.manifest.id}_pitr`, async (url) => {
        const p = runPipeline(
          [
            { cmd: tools.pgDump, args: ['-Fc', '-Z0', '--no-password'], env: libpqEnv(recoveredUrl), label: 'pg_dump' },
            { cmd: tools.pgRestore, args: ['--no-owner', '--no-privileges', '--no-password', '--exit-on-error', '-d', libpqEnv(url).PGDATABASE!], env: libpqEnv(url), label: 'pg_restore' },
          ],
          'ignore',
          'ignore',
        );
        await p.done;
        return svc.check(url, expected);
      });
    } finally {
      await cluster.stop();
    }
  } finally {
    await prepared.cleanup();
    await rm(tmp, { recursive: true, force: true });
  }
}

import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { ZipArchive } from 'archiver';
import { recordAudit, type AuditEntry } from '../audit/audit.service.js';
import { canonicalJson } from '../audit/canonical-json.js';
import type { AppContext } from '../http/app-context.js';
import { AppError } from '../http/errors.js';
import { ArchiveStore, sha256Hex } from './archive-store.js';
import { InvoiceArchiveRepository, type ArchiveEntry, type RetentionBasis } from './invoice-archive.repository.js';

/** Hash of the row before a pharmacy's first archive entry. */
export const ARCHIVE_GENESIS = '0'.repeat(64);

/** Media types accepted for invoice source files, with the extension used in exports. */
export const INVOICE_MEDIA_TYPES: Record<string, string> = {
  'application/pdf': 'pdf',
  'application/xml': 'xml',
  'text/xml': 'xml',
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/tiff': 'tif',
  'application/octet-stream': 'bin',
};

/** One problem found by verification. */
export interface ArchiveProblem {
  seq: string;
  kind: 'broken_link' | 'modified_row' | 'file_missing' | 'file_modified' | 'record_missing' | 'record_modified';
  message: string;
}

/** Who acts, for audit entries. */
export type ArchiveActor = Pick<AuditEntry, 'actorUserId' | 'actorRole' | 'ip' | 'requestId'> & { details?: Record<string, unknown> };

/** The chained hash of an archive entry: everything but `hash` and `purged_at`. */
export function archiveEntryHash(e: Omit<ArchiveEntry, 'hash' | 'purgedAt'>): string {
  return sha256Hex(
    canonicalJson([
      'officine-invoice-archive/1', e.prevHash, e.pharmacyId, e.seq, e.invoiceSourceId, e.supplierSourceId, e.invoiceNumber, e.issuedOn,
      e.fileName, e.mediaType, e.fileSha256, e.fileSize, e.recordSha256, e.archivedAt.toISOString(), e.retainUntil, e.retention,
    ]),
  );
}

/** Last day an invoice issued on `issuedOn` must be kept under `years`: end of its (calendar) fiscal year + years. */
export function retentionEnd(issuedOn: string, years: number): string {
  return `${Number(issuedOn.slice(0, 4)) + years}-12-31`;
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);

/**
 * The legal archive of supplier invoices: each source file and the structured
 * invoice are stored by sha256 and chained per pharmacy; retention comes from the
 * dated parameters in force on the issue date (10 years commercial, 6 years tax);
 * nothing is purged before its date or under a legal hold (the database refuses
 * it too), even after the pharmacy has left the groupement. A period exports as a
 * zip whose SHA256SUMS verifies with `sha256sum -c`.
 */
export class InvoiceArchiveService {
  readonly store: ArchiveStore;

  constructor(private readonly app: AppContext) {
    this.store = new ArchiveStore(app.config.INVOICE_ARCHIVE_DIR ?? join(app.config.dataDir, 'invoice-archive'));
  }

  private now(): Date {
    return this.app.clock.now();
  }

  /** Archives the source file of an ingested invoice (idempotent for the same file). */
  async archive(pharmacyId: string, invoiceSourceId: string, file: { bytes: Buffer; mediaType: string }, actor: ArchiveActor): Promise<{ entry: ArchiveEntry; created: boolean }> {
    const ext = INVOICE_MEDIA_TYPES[file.mediaType];
    if (!ext) throw new AppError(415, 'unsupported_media_type', 'Format de fichier non accepté (PDF, XML, JPEG, PNG ou TIFF).', `media type ${file.mediaType}`);
    if (file.bytes.length === 0) throw new AppError(422, 'empty_file', 'Le fichier est vide.', 'empty file');
    const fileSha = sha256Hex(file.bytes);
    const out = await this.app.db.transaction(async (m) => {
      const repo = new InvoiceArchiveRepository(m);
      await repo.lockChain(pharmacyId);
      const ph = await repo.pharmacy(pharmacyId);
      if (!ph) throw new AppError(404, 'not_found', 'Pharmacie inconnue.');
      if (ph.leftAt) throw new AppError(409, 'pharmacy_left', 'Cette pharmacie a quitté le groupement : son archive est en conservation et export seulement.', 'pharmacy left');
      const inv = await repo.invoice(pharmacyId, invoiceSourceId);
      if (!inv) throw new AppError(404, 'invoice_not_found', 'Facture inconnue : elle doit d’abord être transmise par l’agent.', 'invoice not ingested');
      if (inv.fileSha256 && inv.fileSha256 !== fileSha) {
        throw new AppError(422, 'file_mismatch', 'Ce fichier n’est pas celui annoncé par le logiciel de la pharmacie (empreinte différente).', 'sha256 differs from the invoice header');
      }
      const record = Buffer.from(canonicalJson(inv) + '\n', 'utf8');
      const recordSha = sha256Hex(record);
      const latest = await repo.latestFor(pharmacyId, invoiceSourceId);
      if (latest && latest.fileSha256 === fileSha && latest.recordSha256 === recordSha && !latest.purgedAt) return { entry: latest, created: false };
      const params = await repo.parametersOn(inv.issuedOn);
      if (params.length === 0) throw new Error(`no archive retention parameter in force on ${inv.issuedOn}`);
      const retention: RetentionBasis[] = params.map((p) => ({ basis: p.basis, years: p.years, legalReference: p.legalReference, until: retentionEnd(inv.issuedOn, p.years) }));
      const retainUntil = retention.map((r) => r.until).sort().at(-1)!;
      const head = await repo.head(pharmacyId);
      this.store.put(pharmacyId, file.bytes);
      this.store.put(pharmacyId, record);
      const base = {
        pharmacyId,
        seq: String(Number(head?.seq ?? 0) + 1),
        invoiceSourceId,
        supplierSourceId: inv.supplierSourceId,
        invoiceNumber: inv.invoiceNumber,
        issuedOn: inv.issuedOn,
        fileName: `${inv.issuedOn}_${safeName(inv.supplierSourceId)}_${safeName(inv.invoiceNumber)}.${ext}`,
        mediaType: file.mediaType,
        fileSha256: fileSha,
        fileSize: String(file.bytes.length),
        recordSha256: recordSha,
        archivedAt: new Date(this.now().getTime()),
        retainUntil,
        retention,
        prevHash: head?.hash ?? ARCHIVE_GENESIS,
      };
      const entry: ArchiveEntry = { ...base, hash: archiveEntryHash(base), purgedAt: null };
      await repo.insert(entry);
      await recordAudit(m, { ...actor, action: 'invoice_archive.added', pharmacyId, targetType: 'invoice', targetId: invoiceSourceId, details: { seq: entry.seq, sha256: fileSha, retainUntil, ...actor.details } }, this.now());
      return { entry, created: true };
    });
    return out;
  }

  /** Walks a pharmacy's chain: links, row hashes, and every kept file against its sha256. */
  async verify(pharmacyId: string): Promise<{ ok: boolean; entries: number; problems: ArchiveProblem[] }> {
    const entries = await new InvoiceArchiveRepository(this.app.db.manager).list(pharmacyId);
    const problems: ArchiveProblem[] = [];
    let prev = ARCHIVE_GENESIS;
    for (const e of entries) {
      if (e.prevHash !== prev) problems.push({ seq: e.seq, kind: 'broken_link', message: `entrée ${e.seq} : chaînage rompu (entrée précédente supprimée ou réécrite)` });
      if (archiveEntryHash(e) !== e.hash) problems.push({ seq: e.seq, kind: 'modified_row', message: `entrée ${e.seq} : modifiée après archivage` });
      prev = e.hash;
      if (e.purgedAt) continue;
      const file = this.store.get(pharmacyId, e.fileSha256);
      if (!file) problems.push({ seq: e.seq, kind: 'file_missing', message: `entrée ${e.seq} : fichier ${e.fileName} absent` });
      else if (sha256Hex(file) !== e.fileSha256) problems.push({ seq: e.seq, kind: 'file_modified', message: `entrée ${e.seq} : fichier ${e.fileName} altéré (empreinte différente)` });
      const rec = this.store.get(pharmacyId, e.recordSha256);
      if (!rec) problems.push({ seq: e.seq, kind: 'record_missing', message: `entrée ${e.seq} : données de la facture absentes` });
      else if (sha256Hex(rec) !== e.recordSha256) problems.push({ seq: e.seq, kind: 'record_modified', message: `entrée ${e.seq} : données de la facture altérées` });
    }
    return { ok: problems.length === 0, entries: entries.length, problems };
  }

  /** Verifies and raises an audit alert when something was tampered with. */
  async verifyAndAlert(pharmacyId: string, actor: ArchiveActor): Promise<Awaited<ReturnType<InvoiceArchiveService['verify']>>> {
    const v = await this.verify(pharmacyId);
    if (!v.ok) {
      await recordAudit(this.app.db, { ...actor, action: 'invoice_archive.tampering_detected', level: 'alert', pharmacyId, details: { problems: v.problems.slice(0, 20).map((p) => ({ seq: p.seq, kind: p.kind })) } }, this.now());
      this.app.logger.error({ pharmacyId, problems: v.problems.length }, 'invoice archive tampering detected');
    }
    return v;
  }

  /**
   * Writes a zip of the invoices issued in [from, to] to `out`: each source file and
   * its structured record, manifest.json (entries with their chain hashes) and
   * SHA256SUMS over all of them (`sha256sum -c SHA256SUMS` inside the unzipped
   * folder). Refuses when the archive fails verification.
   */
  async exportPeriod(pharmacyId: string, from: string, to: string, out: Writable, actor: ArchiveActor): Promise<{ entries: number; folder: string }> {
    const repo = new InvoiceArchiveRepository(this.app.db.manager);
    const ph = await repo.pharmacy(pharmacyId);
    if (!ph) throw new AppError(404, 'not_found', 'Pharmacie inconnue.');
    const v = await this.verifyAndAlert(pharmacyId, actor);
    if (!v.ok) throw new AppError(409, 'archive_tampered', 'L’archive des factures a été altérée : export refusé. L’exploitant a été alerté.', `${v.problems.length} problem(s)`);
    const entries = (await repo.list(pharmacyId, { from, to })).filter((e) => !e.purgedAt);
    const folder = `factures-${ph.finess}-${from}_${to}`;
    const files: { name: string; bytes: Buffer }[] = [];
    for (const e of entries) {
      const base = `factures/${String(e.seq).padStart(6, '0')}_${e.fileName}`;
      files.push({ name: base, bytes: this.store.get(pharmacyId, e.fileSha256)! });
      files.push({ name: `${base.replace(/\.[a-z]+$/, '')}.facture.json`, bytes: this.store.get(pharmacyId, e.recordSha256)! });
    }
    const manifest = Buffer.from(
      JSON.stringify(
        {
          format: 'officine-invoice-archive-export/1',
          pharmacy: { id: ph.id, finess: ph.finess, name: ph.name, leftGroupementAt: ph.leftAt },
          period: { from, to },
          generatedAt: this.now().toISOString(),
          howToVerify: 'Dans ce dossier : sha256sum -c SHA256SUMS',
          entries: entries.map((e) => ({
            seq: e.seq, invoiceNumber: e.invoiceNumber, supplier: e.supplierSourceId, issuedOn: e.issuedOn, file: `factures/${String(e.seq).padStart(6, '0')}_${e.fileName}`,
            sha256: e.fileSha256, recordSha256: e.recordSha256, archivedAt: e.archivedAt, retainUntil: e.retainUntil, retention: e.retention, prevHash: e.prevHash, hash: e.hash,
          })),
        },
        null,
        2,
      ) + '\n',
    );
    files.push({ name: 'manifest.json', bytes: manifest });
    const sums = files.map((f) => `${sha256Hex(f.bytes)}  ${f.name}\n`).join('');
    const zip = new ZipArchive({ zlib: { level: 6 } });
    const done = new Promise<void>((resolve, reject) => {
      out.on('finish', resolve);
      out.on('close', resolve);
      out.on('error', reject);
      zip.on('error', reject);
    });
    zip.pipe(out);
    for (const f of files) zip.append(f.bytes, { name: `${folder}/${f.name}`, date: new Date('2000-01-01T00:00:00Z') });
    zip.append(sums, { name: `${folder}/SHA256SUMS`, date: new Date('2000-01-01T00:00:00Z') });
    await zip.finalize();
    await done;
    await recordAudit(this.app.db, { ...actor, action: 'invoice_archive.exported', pharmacyId, details: { from, to, entries: entries.length, ...actor.details } }, this.now());
    return { entries: entries.length, folder };
  }

  /**
   * Purges entries past their retention date and outside any legal hold: the row
   * stays (the chain is intact) and is marked purged; its files go once no kept
   * entry shares them. The database trigger refuses any early purge.
   */
  async purgeExpired(): Promise<{ purged: number }> {
    const now = this.now();
    const today = now.toISOString().slice(0, 10);
    const expired = await new InvoiceArchiveRepository(this.app.db.manager).expired(today);
    for (const e of expired) {
      const unused = await this.app.db.transaction(async (m) => {
        const repo = new InvoiceArchiveRepository(m);
        await repo.markPurged(e.pharmacyId, e.seq, now);
        await recordAudit(m, { action: 'invoice_archive.purged', actorRole: 'system', pharmacyId: e.pharmacyId, targetType: 'invoice', targetId: e.invoiceSourceId, details: { seq: e.seq, retainUntil: e.retainUntil } }, now);
        const out: string[] = [];
        for (const sha of [e.fileSha256, e.recordSha256]) if (!(await repo.fileStillNeeded(e.pharmacyId, sha))) out.push(sha);
        return out;
      });
      // Files go only once the purge is committed.
      for (const sha of unused) this.store.remove(e.pharmacyId, sha);
    }
    return { purged: expired.length };
  }

  async placeHold(pharmacyId: string, input: { reason: string; coversFrom?: string | undefined; coversTo?: string | undefined }, actor: ArchiveActor): Promise<string> {
    if (input.reason.trim().length < 10) throw new AppError(422, 'reason_required', 'Indiquez le motif du gel juridique (10 caractères au moins).', 'hold reason too short');
    const now = this.now();
    return this.app.db.transaction(async (m) => {
      const id = await new InvoiceArchiveRepository(m).placeHold({ pharmacyId, reason: input.reason.trim(), coversFrom: input.coversFrom ?? null, coversTo: input.coversTo ?? null, placedBy: actor.actorUserId ?? null, now });
      await recordAudit(m, { ...actor, action: 'invoice_archive.hold_placed', level: 'warning', pharmacyId, targetType: 'legal_hold', targetId: id, details: { coversFrom: input.coversFrom ?? null, coversTo: input.coversTo ?? null, ...actor.details } }, now);
      return id;
    });
  }

  async releaseHold(pharmacyId: string, holdId: string, actor: ArchiveActor): Promise<void> {
    const now = this.now();
    await this.app.db.transaction(async (m) => {
      if (!(await new InvoiceArchiveRepository(m).releaseHold(pharmacyId, holdId, actor.actorUserId ?? null, now))) throw new AppError(404, 'not_found', 'Gel juridique introuvable ou déjà levé.');
      await recordAudit(m, { ...actor, action: 'invoice_archive.hold_released', level: 'warning', pharmacyId, targetType: 'legal_hold', targetId: holdId, details: actor.details ?? {} }, now);
    });
  }

  /** A pharmacy leaves the groupement: its archive stays, in retention and export only. */
  async pharmacyLeft(pharmacyId: string, actor: ArchiveActor): Promise<boolean> {
    const now = this.now();
    return this.app.db.transaction(async (m) => {
      const changed = await new InvoiceArchiveRepository(m).markPharmacyLeft(pharmacyId, now);
      if (changed) await recordAudit(m, { ...actor, action: 'pharmacy.left_groupement', level: 'warning', pharmacyId, details: actor.details ?? {} }, now);
      return changed;
    });
  }

  /** Verifies every pharmacy's archive (weekly job); alerts on tampering. */
  async verifyAll(): Promise<{ pharmacies: number; tampered: string[] }> {
    const ids = await new InvoiceArchiveRepository(this.app.db.manager).pharmaciesWithArchive();
    const tampered: string[] = [];
    for (const id of ids) if (!(await this.verifyAndAlert(id, { actorRole: 'system' })).ok) tampered.push(id);
    return { pharmacies: ids.length, tampered };
  }
}

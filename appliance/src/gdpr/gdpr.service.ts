import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AuditRepository } from '../audit/audit.repository.js';
import { recordAudit, userPseudonym, type AuditEntry } from '../audit/audit.service.js';
import { authRuntime } from '../auth/auth-runtime.js';
import { AuthService } from '../auth/auth.service.js';
import { verifyPassword } from '../auth/password.js';
import { normalisePassword } from '../auth/password-policy.js';
import { UserRepository } from '../auth/user.repository.js';
import type { AppContext } from '../http/app-context.js';
import { AppError } from '../http/errors.js';
import { hashEmail } from '../logging/logger.js';
import type { MailMessage } from '../mail/mailer.js';
import { erasureRequestedEmail, inactivityWarningEmail } from './gdpr.emails.js';
import { GdprRepository } from './gdpr.repository.js';
import { PERSONAL_DATA } from './personal-data.registry.js';

/** Everything the appliance stores about one user, as handed to them (JSON; CSV derives from it). */
export interface PersonalDataExport {
  format: 'officine-personal-data/1';
  generatedAt: string;
  userId: string;
  sections: { table: string; link: string; label: string; rows: Record<string, unknown>[] }[];
  audit: { label: string; rows: { created_at: string; action: string; level: string; as: 'acteur' | 'cible'; ip: string | null }[] };
}

/** Who triggered an action, for the audit entry. */
export type GdprActor = Pick<AuditEntry, 'actorUserId' | 'actorRole' | 'ip' | 'requestId'>;

/** Essential messages go to every account; optional ones respect the user's opt-out. */
export type MailKind = 'essential' | 'optional';

const DAY = 86_400_000;
const wrongPassword = () => new AppError(403, 'password_incorrect', 'Mot de passe incorrect.', 'password confirmation failed');

/** Subtracts calendar months (UTC), for the inactivity threshold. */
function minusMonths(d: Date, months: number): Date {
  const x = new Date(d.getTime());
  x.setUTCMonth(x.getUTCMonth() - months);
  return x;
}

const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  // Leading =,+,-,@ would be formulas in a spreadsheet.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r;]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/**
 * Users' rights (export, rectification, erasure, email opt-out) and the retention
 * jobs (erasure purge, inactivity warning and purge). Erasure keeps the account row
 * as a tombstone and the audit entries with the user pseudonymised by hash.
 */
export class GdprService {
  constructor(private readonly app: AppContext) {}

  private now(): Date {
    return this.app.clock.now();
  }

  /** Every personal datum about the user, from the declared registry, and their audit trail. */
  async exportData(userId: string): Promise<PersonalDataExport> {
    const repo = new GdprRepository(this.app.db.manager);
    const sections: PersonalDataExport['sections'] = [];
    for (const link of PERSONAL_DATA) {
      sections.push({ table: link.table, link: link.userColumn, label: link.label, rows: await repo.exportLink(link, userId) });
    }
    const rows = await new AuditRepository(this.app.db.manager).listForUser(userId, 100_000);
    return {
      format: 'officine-personal-data/1',
      generatedAt: this.now().toISOString(),
      userId,
      sections,
      audit: {
        label: 'Journal d’audit (actions que vous avez faites ou qui concernent votre compte)',
        rows: rows.map((r) => {
          const actor = r.actorUserId === userId;
          return { created_at: r.createdAt.toISOString(), action: r.action, level: r.level, as: actor ? 'acteur' : 'cible', ip: actor ? r.ip : null };
        }),
      },
    };
  }

  /** The export as one CSV (section, ligne, champ, valeur): opens in any spreadsheet. */
  static toCsv(e: PersonalDataExport): string {
    const lines = ['section,ligne,champ,valeur'];
    const push = (section: string, rows: Record<string, unknown>[]) =>
      rows.forEach((row, i) => {
        for (const [k, v] of Object.entries(row)) lines.push([section, i + 1, k, v].map(csvCell).join(','));
      });
    for (const s of e.sections) push(`${s.table}.${s.link}`, s.rows);
    push('audit_log', e.audit.rows);
    return '\uFEFF' + lines.join('\r\n') + '\r\n';
  }

  private async confirmPassword(userId: string, password: string): Promise<void> {
    const u = await new UserRepository(this.app.db.manager).findForLogin({ id: userId });
    if (!u || !(await verifyPassword(u.passwordHash, normalisePassword(password)))) throw wrongPassword();
  }

  /** Rectification: display name freely; email only with the current password. */
  async rectify(userId: string, input: { displayName?: string | undefined; email?: string | undefined; password?: string | undefined }, actor: GdprActor): Promise<void> {
    const repo = new GdprRepository(this.app.db.manager);
    const before = await repo.account(userId);
    if (!before) throw new AppError(404, 'not_found', 'Compte introuvable.');
    const changed: string[] = [];
    const details: Record<string, unknown> = {};
    if (input.email !== undefined && input.email.trim().toLowerCase() !== before.email) {
      const email = input.email.trim().toLowerCase();
      if (!input.password) throw new AppError(422, 'password_required', 'Confirmez votre mot de passe pour changer d’adresse e-mail.', 'password required');
      await this.confirmPassword(userId, input.password);
      if (await repo.emailTaken(email, userId)) throw new AppError(409, 'email_taken', 'Cette adresse e-mail est déjà utilisée.', 'email already used');
      await repo.changeEmail(userId, email, this.now());
      changed.push('email');
      Object.assign(details, { from: hashEmail(before.email), to: hashEmail(email) });
    }
    if (input.displayName !== undefined && input.displayName.trim() !== before.displayName) {
      await repo.rename(userId, input.displayName.trim(), this.now());
      changed.push('display_name');
    }
    if (changed.length) {
      await recordAudit(this.app.db, { ...actor, action: 'gdpr.rectified', pharmacyId: before.pharmacyId, targetType: 'user', targetId: userId, details: { fields: changed, ...details } }, this.now());
    }
  }

  /** Opt-out (or back in) of non-essential emails. */
  async setEmailOptOut(userId: string, optOut: boolean, actor: GdprActor): Promise<void> {
    await new GdprRepository(this.app.db.manager).setEmailOptOut(userId, optOut, this.now());
    await recordAudit(this.app.db, { ...actor, action: 'gdpr.email_opt_out', targetType: 'user', targetId: userId, details: { optOut } }, this.now());
  }

  /**
   * Sends a message to an account unless it is optional and the user opted out.
   * Modules sending digests or other non-essential mail go through here.
   */
  async sendToUser(userId: string, kind: MailKind, build: (to: string, displayName: string) => MailMessage): Promise<boolean> {
    const u = await new GdprRepository(this.app.db.manager).account(userId);
    if (!u || (kind === 'optional' && u.emailOptOut)) return false;
    await authRuntime(this.app).mailer.send(build(u.email, u.displayName));
    return true;
  }

  /** Erasure request: password confirmed, account disabled and every session ended now, purge within GDPR_ERASURE_DELAY_DAYS. */
  async requestErasure(userId: string, password: string, actor: GdprActor): Promise<{ purgeBy: Date }> {
    await this.confirmPassword(userId, password);
    const repo = new GdprRepository(this.app.db.manager);
    const acct = await repo.account(userId);
    if (!acct) throw new AppError(404, 'not_found', 'Compte introuvable.');
    const now = this.now();
    if (!(await repo.requestErasure(userId, now))) throw new AppError(409, 'erasure_pending', 'Une demande d’effacement est déjà en cours.', 'erasure already requested');
    const purgeBy = new Date(now.getTime() + (this.app.config.GDPR_ERASURE_DELAY_DAYS + 1) * DAY);
    await recordAudit(this.app.db, { ...actor, action: 'gdpr.erasure.requested', level: 'warning', pharmacyId: acct.pharmacyId, targetType: 'user', targetId: userId, details: { purgeBy: purgeBy.toISOString() } }, now);
    await new AuthService(this.app).revokeAllSessions(userId, 'erasure_requested', actor);
    await this.sendToUser(userId, 'essential', (to, name) => erasureRequestedEmail(to, name, purgeBy)).catch((err: unknown) =>
      this.app.logger.error({ err }, 'erasure confirmation email not sent'),
    );
    return { purgeBy };
  }

  /**
   * Purges one account: sessions, emailed tokens, recovery codes and rate-limit
   * counters deleted; grants revoked; the account row overwritten (tombstone); audit
   * entries keep only the user's pseudonym. One transaction.
   */
  async purge(userId: string, reason: 'request' | 'inactivity'): Promise<{ pseudonym: string; auditRows: number; legacyAuditRows: number }> {
    const now = this.now();
    const pseudonym = userPseudonym(userId);
    let email = '';
    const result = await this.app.db.transaction(async (m) => {
      const repo = new GdprRepository(m);
      const acct = await repo.account(userId);
      if (!acct) throw new Error('account already erased or unknown');
      email = acct.email;
      for (const link of PERSONAL_DATA) if (link.erasure === 'delete') await repo.deleteLink(link, userId);
      await repo.revokeGrantsOf(userId, now);
      await repo.deleteRateLimitsFor(acct.email);
      await repo.tombstone(userId, pseudonym, now);
      const a = await new AuditRepository(m).pseudonymiseUser(userId);
      await recordAudit(m, { action: 'gdpr.erasure.completed', actorRole: 'system', pharmacyId: acct.pharmacyId, targetType: 'user_pseudonym', details: { subject: pseudonym, reason, auditRows: a.rows, legacyAuditRows: a.legacyRows } }, now);
      return { pseudonym, auditRows: a.rows, legacyAuditRows: a.legacyRows };
    });
    this.purgeOutbox(email);
    this.appendLedger(userId, now);
    return result;
  }

  private ledgerPath(): string {
    return join(this.app.config.dataDir, 'gdpr', 'erasure-ledger.jsonl');
  }

  /**
   * The erasure ledger lives outside the database (DATA_DIR/gdpr, 0600): a backup
   * restored from before an erasure brings the account back, and
   * `appliance gdpr reapply-erasures` purges it again from this list. It holds
   * only account ids (tombstone keys), no personal value.
   */
  private appendLedger(userId: string, at: Date): void {
    mkdirSync(join(this.app.config.dataDir, 'gdpr'), { recursive: true, mode: 0o700 });
    appendFileSync(this.ledgerPath(), JSON.stringify({ userId, erasedAt: at.toISOString() }) + '\n', { mode: 0o600 });
  }

  /** After a restore: purges again every account of the ledger that came back with its data. */
  async reapplyErasures(): Promise<{ inLedger: number; purged: number }> {
    if (!existsSync(this.ledgerPath())) return { inLedger: 0, purged: 0 };
    const ids = [...new Set(readFileSync(this.ledgerPath(), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { userId: string }).userId))];
    const repo = new GdprRepository(this.app.db.manager);
    let purged = 0;
    for (const id of ids) {
      if (await repo.account(id)) {
        await this.purge(id, 'request');
        purged++;
      }
    }
    return { inLedger: ids.length, purged };
  }

  /** Without an SMTP relay (demo), mail is kept as .eml files in DATA_DIR/outbox: those addressed to the user go too. */
  private purgeOutbox(email: string): void {
    const dir = join(this.app.config.dataDir, 'outbox');
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) if (n.endsWith('.eml') && readFileSync(join(dir, n), 'utf8').includes(email)) rmSync(join(dir, n), { force: true });
  }

  /** The scheduled purge of accounts whose erasure request is due. */
  async runErasurePurge(): Promise<{ purged: number }> {
    const due = await new GdprRepository(this.app.db.manager).dueErasures(new Date(this.now().getTime() - this.app.config.GDPR_ERASURE_DELAY_DAYS * DAY));
    for (const id of due) await this.purge(id, 'request');
    return { purged: due.length };
  }

  /**
   * Inactivity: accounts without a login for GDPR_INACTIVITY_MONTHS minus the warning
   * period get a French warning email; those still inactive after the warning period
   * (and at least GDPR_INACTIVITY_MONTHS) are purged. A login in between clears the warning.
   */
  async runInactivity(): Promise<{ warned: number; purged: number }> {
    const now = this.now();
    const { GDPR_INACTIVITY_MONTHS: months, GDPR_INACTIVITY_WARNING_DAYS: warnDays, PUBLIC_URL } = this.app.config;
    const threshold = minusMonths(now, months);
    const repo = new GdprRepository(this.app.db.manager);
    let warned = 0;
    for (const u of await repo.toWarn(new Date(threshold.getTime() + warnDays * DAY))) {
      const purgeOn = new Date(now.getTime() + warnDays * DAY);
      await authRuntime(this.app).mailer.send(inactivityWarningEmail(u.email, u.displayName, purgeOn, months, new URL('/', PUBLIC_URL).toString()));
      await repo.markWarned(u.id, now);
      await recordAudit(this.app.db, { action: 'gdpr.inactivity.warned', actorRole: 'system', pharmacyId: u.pharmacyId, targetType: 'user', targetId: u.id, details: { purgeOn: purgeOn.toISOString() } }, now);
      warned++;
    }
    const due = await repo.toPurgeForInactivity(threshold, new Date(now.getTime() - warnDays * DAY));
    for (const id of due) await this.purge(id, 'inactivity');
    return { warned, purged: due.length };
  }
}

import { recordAudit } from '../../audit/audit.service.js';
import type { Actor } from '../../auth/user-admin.service.js';
import { AppError } from '../../http/errors.js';
import type { ReadOnlyRepository, ReadOnlyState } from './read-only.repository.js';

/** Who flips the switch: the audit actor, and a short label stored with the state (shown to operators). */
export interface SwitchActor {
  audit: Actor;
  label: string;
}

/** The audit writer (the hash-chained log; a fake in unit tests). */
export type AuditWriter = typeof recordAudit;

/**
 * The read-only kill switch: an operator stops every write in an incident (suspected
 * compromise, storage trouble, restore in progress) while reads keep working. Every
 * change is audited, in the same transaction, with its actor and reason.
 */
export class ReadOnlyService {
  constructor(
    private readonly repo: ReadOnlyRepository,
    private readonly clock: { now(): Date },
    private readonly writeAudit: AuditWriter = recordAudit,
  ) {}

  status(): Promise<ReadOnlyState> {
    return this.repo.get();
  }

  async enable(reason: string, actor: SwitchActor): Promise<ReadOnlyState> {
    const r = reason.trim();
    if (r.length < 3 || r.length > 500) {
      throw new AppError(422, 'read_only_reason', 'Indiquez la raison du passage en lecture seule (3 à 500 caractères).');
    }
    const now = this.clock.now();
    const state: ReadOnlyState = { enabled: true, reason: r, since: now.toISOString(), by: actor.label };
    await this.repo.set(state, (m) =>
      this.writeAudit(m, { ...actor.audit, action: 'ops.read_only.enabled', level: 'warning', details: { ...actor.audit.details, reason: r } }, now),
    );
    return state;
  }

  async disable(actor: SwitchActor): Promise<ReadOnlyState> {
    const previous = await this.repo.get();
    const now = this.clock.now();
    const state: ReadOnlyState = { enabled: false, reason: null, since: now.toISOString(), by: actor.label };
    await this.repo.set(state, (m) =>
      this.writeAudit(m, { ...actor.audit, action: 'ops.read_only.disabled', level: 'warning', details: { ...actor.audit.details, previousReason: previous.reason } }, now),
    );
    return state;
  }
}

import { AppError } from '../../http/errors.js';
import type { AuditSink } from '../audit-sink.js';
import type { ReadOnlyRepository, ReadOnlyState } from './read-only.repository.js';

/**
 * The read-only kill switch: an operator stops every write in an incident (suspected
 * compromise, storage trouble, restore in progress) while reads keep working. Every
 * change is audited with its actor and reason.
 */
export class ReadOnlyService {
  constructor(
    private readonly repo: ReadOnlyRepository,
    private readonly audit: AuditSink,
    private readonly clock: { now(): Date },
  ) {}

  status(): Promise<ReadOnlyState> {
    return this.repo.get();
  }

  async enable(reason: string, actor: string): Promise<ReadOnlyState> {
    const r = reason.trim();
    if (r.length < 3 || r.length > 500) {
      throw new AppError(422, 'read_only_reason', 'Indiquez la raison du passage en lecture seule (3 à 500 caractères).');
    }
    const state: ReadOnlyState = { enabled: true, reason: r, since: this.clock.now().toISOString(), by: actor };
    await this.repo.set(state);
    await this.audit.record({ action: 'ops.read_only.enable', actor, details: { reason: r } });
    return state;
  }

  async disable(actor: string): Promise<ReadOnlyState> {
    const previous = await this.repo.get();
    const state: ReadOnlyState = { enabled: false, reason: null, since: this.clock.now().toISOString(), by: actor };
    await this.repo.set(state);
    await this.audit.record({ action: 'ops.read_only.disable', actor, details: { previousReason: previous.reason } });
    return state;
  }
}

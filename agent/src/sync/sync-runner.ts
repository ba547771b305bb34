import { gunzipSync, gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { ChannelClient, ChannelRefusal, TransportError } from '../channel/channel-client.js';
import { AGENT_VERSION } from '../channel/enrol.js';
import { openSource } from '../connectors/open-source.js';
import type { EntityName } from '../model/canonical-model.js';
import { loadProfile } from '../model/profile.js';
import type { AgentMessage, SyncSummary } from '../protocol/messages.js';
import { DEAD_LETTER_AFTER, type AgentConfig, type AgentState, type AgentStore } from '../store/agent-store.js';
import type { SpoolEntry } from '../store/spool.js';
import { extractBatches, SummaryBuilder } from './extractor.js';

/** Retry pacing: exponential backoff with full jitter, capped. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/** Delay before retry number `attempt` (0-based): uniform in [0, min(max, base·2^attempt)]. */
export function backoffDelay(b: Backoff, attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(b.maxMs, b.baseMs * 2 ** Math.min(attempt, 30)));
}

/**
 * Delay before retry number `attempt` after a failure. When the server said how long to
 * wait (Retry-After, e.g. 300 s while read-only) that wait w is honoured, clamped to
 * [baseMs, maxMs] so the agent still comes back within a bounded time, with up to 20 %
 * jitter so agents told the same thing do not return in step — and the max backoff is a
 * hard cap: under it the delay lies in [w, min(1.2·w, maxMs)] (never sooner than asked);
 * at the cap it lies in [0.8·maxMs, maxMs]. Otherwise, the exponential backoff.
 */
export function retryDelay(b: Backoff, attempt: number, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  if (retryAfterMs === undefined) return backoffDelay(b, attempt, random);
  const wait = Math.min(b.maxMs, Math.max(b.baseMs, retryAfterMs));
  const jitter = Math.floor(random() * wait * 0.2);
  return wait === b.maxMs ? wait - jitter : Math.min(b.maxMs, wait + jitter);
}

/** Thrown when the server revoked this agent: nothing more will be sent. */
export class AgentRevokedError extends Error {
  constructor() {
    super('agent revoked by the appliance');
    this.name = 'AgentRevokedError';
  }
}

/** Waits `ms`, or less if the signal aborts; leaves no listener behind either way. */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Whether a failed send is the batch's own doing: `batch` for refusals the same batch
 * meets again, `maybe` for a plain 500 (the batch's, or an outage: the caller asks),
 * undefined for outages and channel hiccups (retried for ever).
 */
function batchFault(err: unknown): 'batch' | 'maybe' | undefined {
  if (err instanceof ChannelRefusal) return err.code === 'batch_rejected' || err.code === 'payload_invalid' ? 'batch' : undefined;
  if (err instanceof TransportError && err.status === 500) return 'maybe';
  return undefined;
}

/** Lets pending I/O callbacks (timers, sockets) run before the caller goes on. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Compresses a message for the spool (compressed once, sealed at each send). */
export function compressMessage(msg: AgentMessage): Buffer {
  return gzipSync(Buffer.from(JSON.stringify(msg), 'utf8'), { level: 6 });
}

/**
 * The sync engine of `officine-agent run`: an extractor that turns the LGO's new
 * rows into spooled batches (spool fsync'd before the cursor moves), and a sender
 * that drains the spool in order, deleting an entry only once the server has
 * acknowledged its batch id. The two run side by side; while the appliance is
 * unreachable or read-only (503) the extractor keeps spooling, the sender backs
 * off with jitter (honouring Retry-After, capped) and resumes by itself.
 */
export class SyncRunner {
  private readonly state: AgentState;
  private client: ChannelClient | undefined;
  private wake: (() => void) | undefined;
  /** Set when a pass finished: the next time the spool is empty, that sync is complete. */
  private passPending = false;

  constructor(
    private readonly store: AgentStore,
    private readonly config: AgentConfig,
    private readonly logger: Logger,
    private readonly backoff: Backoff = { baseMs: 1000, maxMs: 60_000 },
  ) {
    this.state = store.readState();
  }

  private channel(): ChannelClient {
    this.client ??= new ChannelClient(this.store, this.config, this.state);
    return this.client;
  }

  /** One extraction pass: every entity after its cursor, spooled; then the pass summary. */
  async extractPass(signal?: AbortSignal): Promise<SyncSummary> {
    const profile = loadProfile(this.config.profile);
    const source = await openSource(this.config.source, profile, this.config.roots);
    const spool = this.store.spool();
    const summary = new SummaryBuilder();
    const startedAt = new Date().toISOString();
    try {
      const cursors = this.state.cursors as Partial<Record<EntityName, { wm: string | number; key: string | number }>>;
      for await (const b of extractBatches(profile, source, cursors, { batchSize: this.config.batchSize, scope: this.config.agentId ?? 'local' }, summary)) {
        while (spool.size().bytes > this.config.maxSpoolMB * 1024 * 1024 && !signal?.aborted) await sleep(1000, signal);
        if (signal?.aborted) break;
        if (b.rows.length > 0) {
          spool.put(b.batchId, compressMessage({ type: 'batch', batchId: b.batchId, entity: b.entity, rows: b.rows, withheld: b.withheld }));
          this.wake?.();
        }
        this.state.cursors[b.entity] = b.to;
        for (const [reason, n] of Object.entries(b.withheld)) this.state.withheldTotal[reason] = (this.state.withheldTotal[reason] ?? 0) + n;
        this.store.writeState(this.state);
        // SQLite reads, record building, compression and fsync are synchronous: give the event
        // loop a turn after each batch so the sender's HTTP exchange runs alongside extraction.
        await yieldToEventLoop();
      }
    } finally {
      await source.close();
    }
    const parked = spool.deadLetters().slice(0, 1000).map(({ info: { batchId, entity, rows, code, reason, parkedAt } }) => ({ batchId, entity, rows, code, reason, parkedAt }));
    const result: SyncSummary = { profile: profile.name, startedAt, finishedAt: new Date().toISOString(), tables: summary.list(), ...(parked.length ? { parked } : {}) };
    const summaryId = createHash('sha256').update(JSON.stringify(['summary', this.config.agentId, startedAt])).digest('hex').slice(0, 32);
    spool.put(summaryId, compressMessage({ type: 'summary', batchId: summaryId, summary: result }));
    this.state.lastSummary = result;
    this.store.writeState(this.state);
    this.wake?.();
    return result;
  }

  /** True when the server answers a hello: it is up and reading messages, so a 500 on one batch is that batch's. */
  private async serverHealthy(): Promise<boolean> {
    try {
      return (await this.channel().sendPayload({ type: 'hello', agentVersion: AGENT_VERSION })).type === 'ack';
    } catch {
      return false;
    }
  }

  /** Moves a batch the server keeps refusing to the dead letters, with the reason, and says so. */
  private park(e: SpoolEntry, err: Error, attempts: number): void {
    const spool = this.store.spool();
    let entity: string | null = null;
    let rows = 0;
    try {
      const msg = JSON.parse(gunzipSync(spool.read(e)).toString('utf8')) as { entity?: string; rows?: unknown[] };
      entity = msg.entity ?? null;
      rows = msg.rows?.length ?? 0;
    } catch {
      /* unreadable payload: parked all the same */
    }
    const code = err instanceof ChannelRefusal ? err.code : `http_${(err as TransportError).status ?? 0}`;
    const details = err instanceof ChannelRefusal ? err.details : undefined;
    const reason = String(details?.reason ?? err.message).slice(0, 500);
    spool.park(e, { batchId: e.batchId, entity, rows, code, status: (err as ChannelRefusal | TransportError).status ?? null, reason, attempts, parkedAt: new Date().toISOString() });
    this.state.lastError = `lot ${e.batchId} (${entity ?? '?'}, ${rows} lignes) mis de côté après ${attempts} refus : ${reason}`;
    this.store.writeState(this.state);
    this.logger.error({ event: 'batch_parked', batchId: e.batchId, entity, rows, code, attempts, reason }, 'batch parked in the dead letters; later batches go on');
  }

  /**
   * Sends one spool entry until acknowledged. Outages (network, 429, 502–504, 503
   * read-only) are retried for ever with backoff, or after the server's Retry-After
   * (capped, see retryDelay). A refusal that the same batch will
   * meet again — `batch_rejected` (the database refused it), `payload_invalid`, or a
   * plain 500 while the server answers a hello — is retried `deadLetterAfter` times,
   * then the batch is parked (returns true: the sender goes on with the next one).
   */
  private async deliver(e: SpoolEntry, signal?: AbortSignal): Promise<boolean> {
    const spool = this.store.spool();
    let faults = 0;
    for (let attempt = 0; !signal?.aborted; attempt++) {
      try {
        const ans = await this.channel().send(spool.read(e));
        if (ans.type === 'ack' && ans.acked.includes(e.batchId)) {
          spool.remove(e);
          // Progress only (no fsync needed): persisted with the next durable state write.
          this.state.lastAckAt = new Date().toISOString();
          this.state.lastError = null;
          return true;
        }
        throw new TransportError('acquittement manquant');
      } catch (err) {
        if (err instanceof ChannelRefusal && err.code === 'agent_revoked') {
          this.state.revoked = true;
          this.state.lastError = 'agent révoqué par l’appliance';
          this.store.writeState(this.state);
          throw new AgentRevokedError();
        }
        const fault = batchFault(err);
        if (fault) faults++;
        if (fault && faults >= (this.config.deadLetterAfter ?? DEAD_LETTER_AFTER) && (fault === 'batch' || (await this.serverHealthy()))) {
          this.park(e, err as Error, faults);
          return true;
        }
        const retryAfterMs = err instanceof TransportError ? err.retryAfterMs : undefined;
        const delay = retryDelay(this.backoff, attempt, retryAfterMs);
        this.state.lastError = (err as Error).message;
        if (attempt === 0) this.store.writeState(this.state); // so `status` shows the outage
        this.logger.warn({ batchId: e.batchId, attempt, delayMs: delay, retryAfterMs, code: (err as ChannelRefusal).code, status: (err as TransportError).status, msg: (err as Error).message }, 'send failed, will retry');
        await sleep(delay, signal);
      }
    }
    return false;
  }

  /** Drains the spool once (oldest first); returns when empty or aborted. */
  async drain(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) return;
      const next = this.store.spool().list()[0];
      if (!next) return;
      await this.deliver(next, signal);
    }
  }

  /** A sync is complete when its pass finished and the spool is empty: record when. */
  private markSyncedIfDrained(): void {
    if (this.passPending && this.store.spool().list().length === 0) {
      this.passPending = false;
      this.state.lastSyncAt = new Date().toISOString();
      this.store.writeState(this.state);
    }
  }

  /** Sender loop: drains, then waits for new spool entries (or a periodic check). */
  private async senderLoop(signal: AbortSignal, extracting: () => boolean): Promise<void> {
    while (!signal.aborted) {
      await this.drain(signal);
      if (!extracting()) this.markSyncedIfDrained();
      // Wait for new spool entries (wake), a periodic re-check, or the stop signal.
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, 2000);
        signal.addEventListener('abort', done, { once: true });
        this.wake = done;
      });
    }
  }

  /** Daemon: extraction passes every pollSeconds, sender always on. `once` stops after one drained pass. */
  async run(signal: AbortSignal, opts: { once?: boolean } = {}): Promise<void> {
    if (this.state.revoked) throw new AgentRevokedError();
    let extracting = true;
    const inner = new AbortController();
    signal.addEventListener('abort', () => inner.abort(), { once: true });
    const sender = this.senderLoop(inner.signal, () => extracting).catch((err) => {
      inner.abort();
      throw err;
    });
    // Awaited in `finally` below; marked handled now, as it may fail while the extractor waits.
    sender.catch(() => undefined);
    try {
      while (!inner.signal.aborted) {
        extracting = true;
        try {
          const s = await this.extractPass(inner.signal);
          this.passPending = true;
          this.logger.info({ tables: s.tables.map((t) => ({ entity: t.entity, read: t.read, sent: t.sent, withheld: t.withheld })) }, 'extraction pass done');
        } catch (err) {
          // The LGO may be locked, moved or mid-upgrade: keep the sender going, retry at the next poll.
          if (opts.once) throw err;
          this.state.lastError = `extraction : ${(err as Error).message}`;
          this.store.writeState(this.state);
          this.logger.error({ err }, 'extraction pass failed, will retry at the next poll');
        } finally {
          extracting = false;
        }
        this.wake?.();
        if (opts.once) {
          while (!inner.signal.aborted && this.store.spool().list().length > 0) await sleep(200, inner.signal);
          this.markSyncedIfDrained();
          break;
        }
        await sleep(this.config.pollSeconds * 1000, inner.signal);
      }
    } finally {
      inner.abort();
      await sender;
      this.store.writeState(this.state);
    }
  }
}

import pgLib from 'pg';
import type { Logger } from '../../logging/logger.js';
import { parseReadOnlyState, READ_ONLY_CHANNEL, READ_ONLY_OFF, type ReadOnlyRepository, type ReadOnlyState } from './read-only.repository.js';

/**
 * application_name of the LISTEN connection: one per running web process, which is
 * also how `appliance status` counts web processes and their uptime.
 */
export const READ_ONLY_LISTENER_APP = 'officine-web-listener';

/**
 * Keeps this process's view of the kill switch current: a dedicated connection
 * LISTENs on the channel (changes arrive in milliseconds), reconnects with backoff if
 * it drops, and a slow poll catches anything missed while disconnected. Requests read
 * the in-memory state: no query per request.
 */
export class ReadOnlyWatcher {
  private state: ReadOnlyState = READ_ONLY_OFF;
  private loaded: Promise<void> | undefined;
  private loadedOnce = false;
  private client: pgLib.Client | undefined;
  private stopped = false;
  private retryMs = 500;
  private timers = new Set<NodeJS.Timeout>();
  private poll: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly repo: ReadOnlyRepository,
    private readonly logger: Logger,
    private readonly pollMs = 5_000,
  ) {}

  /** The state as last seen. */
  current(): ReadOnlyState {
    return this.state;
  }

  /** True once the state has been read from the database at least once. */
  isLoaded(): boolean {
    return this.loadedOnce;
  }

  /** Resolves once the state has been read from the database at least once. */
  ready(): Promise<void> {
    this.loaded ??= this.reload().catch((err: unknown) => {
      this.loaded = undefined; // retry on the next request rather than failing forever
      throw err;
    });
    return this.loaded;
  }

  /** Starts listening (and the safety poll). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
    await this.ready();
    this.poll = setInterval(() => void this.reload().catch((err) => this.logger.warn({ err }, 'read-only poll failed')), this.pollMs);
    this.poll.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    for (const t of this.timers) clearTimeout(t);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  /**
   * Takes a state this process has just committed itself: its own requests see the
   * change at once instead of waiting for the NOTIFY round trip (which then repeats it).
   */
  observe(next: ReadOnlyState): void {
    this.apply(next);
  }

  private apply(next: ReadOnlyState): void {
    if (next.enabled !== this.state.enabled) {
      // Who flipped it is in the audit log; `by` holds a person's name, which logs must not carry.
      this.logger.warn({ readOnly: next.enabled }, next.enabled ? 'read-only mode ON' : 'read-only mode OFF');
    }
    this.state = next;
  }

  private async reload(): Promise<void> {
    this.apply(await this.repo.get());
    this.loadedOnce = true;
  }

  private async connect(): Promise<void> {
    const client = new pgLib.Client({ connectionString: this.url, application_name: READ_ONLY_LISTENER_APP });
    client.on('notification', (msg) => {
      if (msg.channel !== READ_ONLY_CHANNEL) return;
      try {
        this.apply(parseReadOnlyState(msg.payload ?? ''));
      } catch (err) {
        this.logger.warn({ err }, 'bad read-only notification; reloading');
        void this.reload().catch(() => undefined);
      }
    });
    const onLost = (err?: Error) => {
      if (this.client !== client || this.stopped) return;
      this.client = undefined;
      this.logger.warn({ err }, 'read-only listener lost; reconnecting');
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    try {
      await client.connect();
      await client.query(`LISTEN ${READ_ONLY_CHANNEL}`);
      this.client = client;
      this.retryMs = 500;
      // Anything changed while we were not listening.
      if (this.loaded) await this.reload();
    } catch (err) {
      await client.end().catch(() => undefined);
      if (this.stopped) return;
      this.logger.warn({ err }, 'read-only listener could not connect; retrying');
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) void this.connect();
    }, this.retryMs);
    t.unref();
    this.timers.add(t);
    this.retryMs = Math.min(this.retryMs * 2, 30_000);
  }
}

import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import type { Config } from '../config/config.js';
import { AppError } from './errors.js';

/** The 429 every limiter answers with, carrying Retry-After in whole seconds. */
export function tooManyRequests(msBeforeNext: number): AppError {
  const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new AppError(429, 'rate_limited', `Trop de requêtes. Réessayez dans ${seconds} s.`, 'rate limit exceeded', {
    'Retry-After': String(seconds),
  });
}

/**
 * Every rate limit of the appliance, stored in PostgreSQL (`rate_limits`, created by
 * migration) so that several processes behind Caddy share the same counters.
 */
export class RateLimits {
  /** Public endpoints (login, reset, resend verification): per IP and endpoint. */
  readonly publicPerIp: RateLimiterPostgres;
  /** Authenticated reads (GET/HEAD) per user. */
  readonly userReads: RateLimiterPostgres;
  /** Authenticated writes per user. */
  readonly userWrites: RateLimiterPostgres;
  /** Failed logins per account (email): the lockout counter. */
  readonly loginFailuresByAccount: RateLimiterPostgres;
  /** Failed logins per IP, whatever the account: stops spraying across many accounts. */
  readonly loginFailuresByIp: RateLimiterPostgres;

  constructor(db: DataSource, config: Config) {
    const pool = (db.driver as unknown as { master: unknown }).master;
    const make = (keyPrefix: string, points: number, duration: number) =>
      new RateLimiterPostgres({ storeClient: pool, storeType: 'pool', tableName: 'rate_limits', tableCreated: true, keyPrefix, points, duration });
    this.publicPerIp = make('pub', config.RATE_LIMIT_PUBLIC_PER_MIN, 60);
    this.userReads = make('ur', config.RATE_LIMIT_READS_PER_MIN, 60);
    this.userWrites = make('uw', config.RATE_LIMIT_WRITES_PER_MIN, 60);
    this.loginFailuresByAccount = make('lfa', config.LOGIN_MAX_FAILURES, config.LOGIN_LOCK_MINUTES * 60);
    this.loginFailuresByIp = make('lfi', 30, 3600);
  }

  /** Consumes one point or throws the 429 (store errors propagate: we fail closed). */
  async consume(limiter: RateLimiterPostgres, key: string): Promise<void> {
    try {
      await limiter.consume(key);
    } catch (res) {
      if (res instanceof RateLimiterRes) throw tooManyRequests(res.msBeforeNext);
      throw res;
    }
  }
}

import client from 'prom-client';

/**
 * The process's Prometheus instruments, in one registry. Modules increment them
 * through the small functions below (auth failures, ingested lines) rather than
 * touching prom-client themselves, so names and labels stay consistent.
 */
export const metricsRegistry = new client.Registry();
client.collectDefaultMetrics({ register: metricsRegistry, prefix: 'officine_' });

export const httpRequests = new client.Counter({
  name: 'officine_http_requests_total',
  help: 'HTTP requests by method, matched route pattern and status class',
  labelNames: ['method', 'route', 'status_class'] as const,
  registers: [metricsRegistry],
});

export const httpDuration = new client.Histogram({
  name: 'officine_http_request_duration_seconds',
  help: 'HTTP request latency by method and matched route pattern',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

export const httpServerErrors = new client.Counter({
  name: 'officine_http_server_errors_total',
  help: 'HTTP responses with a 5xx status, by matched route pattern',
  labelNames: ['route'] as const,
  registers: [metricsRegistry],
});

export const authFailures = new client.Counter({
  name: 'officine_auth_failures_total',
  help: 'Failed authentications (bad password, bad TOTP, locked account, bad token…)',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

export const ingestedLines = new client.Counter({
  name: 'officine_ingested_lines_total',
  help: 'Fact lines accepted from agents, by kind (sales, purchases, invoices, stock…)',
  labelNames: ['kind'] as const,
  registers: [metricsRegistry],
});

/** Counts lines the ingest accepted (called by the ingest module). */
export function recordIngestedLines(kind: string, count: number): void {
  if (count > 0) ingestedLines.inc({ kind }, count);
}

/** Maps a status to its class label (bounded cardinality). */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

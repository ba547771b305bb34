import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { recordIngestedLines } from '../../src/ops/metrics/metrics.js';
import { METRICS_HOST, registerStateGauges, startMetricsServer } from '../../src/ops/metrics/metrics.server.js';
import { opsRuntime, recordAuthFailure } from '../../src/ops/ops-runtime.js';
import type { OpsProviders } from '../../src/ops/ops.providers.js';

t.test('Prometheus metrics on a loopback-only port, labelled by route pattern', async (t) => {
  const app = await startTestApp(t, {}, {
    extraRoutes: [
      (r) => {
        r.get('/api/test/items/:id', (ctx) => void (ctx.body = { id: ctx.params.id }));
        r.get('/api/test/boom', () => {
          throw new Error('boom');
        });
      },
    ],
  });
  for (const id of ['1', '2', 'abc']) t.equal((await app.request(`/api/test/items/${id}`)).status, 200);
  t.equal((await app.request('/api/test/boom')).status, 500);
  t.equal((await app.request('/api/nope/123')).status, 404);
  recordAuthFailure(app.app, 'bad_password');
  recordAuthFailure(app.app, 'bad_password');
  recordIngestedLines('sales', 1200);

  const now = new Date('2026-03-10T12:00:00Z');
  const providers: OpsProviders = {
    backups: { targets: async () => [{ target: 'nas', lastBackupAt: new Date(now.getTime() - 3600_000), lastBackupOk: true, lastDrillAt: null, lastDrillOk: null }] },
    agents: { agents: async () => [] },
    jobRuns: {
      jobs: async () => [{ name: 'backup', cron: '15 2 * * *' }],
      runsSince: async () => [
        { job: 'backup', startedAt: now, finishedAt: now, outcome: 'succeeded' },
        { job: 'backup', startedAt: now, finishedAt: now, outcome: 'failed' },
        { job: 'backup', startedAt: now, finishedAt: now, outcome: 'succeeded' },
      ],
      firstRunAt: async () => now,
    },
  };
  registerStateGauges(providers, opsRuntime(app.app).readOnlyWatcher, { now: () => now });
  const metrics = await startMetricsServer(app.app, 0);
  t.teardown(() => metrics.close());
  t.equal(METRICS_HOST, '127.0.0.1');
  t.equal(new URL(metrics.url).hostname, '127.0.0.1', 'bound to loopback only');

  const res = await fetch(metrics.url);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const text = await res.text();
  t.match(text, /officine_http_requests_total\{method="GET",route="\/api\/test\/items\/:id",status_class="2xx"\} 3/, 'rate per route pattern');
  t.notMatch(text, /route="\/api\/test\/items\/(1|2|abc)"/, 'never the raw path');
  t.notMatch(text, /\/api\/nope\/123/, 'unmatched paths are not labels');
  t.match(text, /officine_http_requests_total\{method="GET",route="unmatched",status_class="4xx"\} 1/);
  t.match(text, /officine_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/api\/test\/items\/:id"\}/, 'latency histogram per route');
  t.match(text, /officine_http_request_duration_seconds_count\{method="GET",route="\/api\/test\/items\/:id"\} 3/);
  t.match(text, /officine_http_server_errors_total\{route="\/api\/test\/boom"\} 1/, '5xx counted');
  t.match(text, /officine_auth_failures_total\{reason="bad_password"\} 2/, 'auth failures');
  t.match(text, /officine_ingested_lines_total\{kind="sales"\} 1200/, 'ingested lines');
  t.match(text, /officine_backup_age_seconds\{target="nas"\} 3600/, 'backup age');
  t.match(text, /officine_job_runs\{job="backup",outcome="succeeded"\} 2/, 'job runs by outcome');
  t.match(text, /officine_job_runs\{job="backup",outcome="failed"\} 1/);
  t.match(text, /officine_read_only 0/);
  t.match(text, /officine_process_resident_memory_bytes/, 'process metrics');
  t.equal((await fetch(metrics.url.replace('/metrics', '/other'))).status, 404, 'nothing else served');
});

import t from 'tap';
import { batchFailure, transientDbError } from '../../src/agent-channel/agent-channel.service.js';
import { AppError } from '../../src/http/errors.js';

const pgError = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error('db error'), { code, ...extra });

t.test('which ingestion failures park a batch, which are retried', async (t) => {
  t.match(batchFailure(pgError('23505', { table: 'sales_lines', constraint: 'sales_lines_pkey', detail: 'Key (source_id)=(ZZ) already exists.' })), {
    sqlstate: '23505',
    reason: 'contrainte d’intégrité violée (SQLSTATE 23505, table sales_lines, contrainte sales_lines_pkey)',
  }, 'a constraint violation: rejected, reason without the failing values');
  t.notOk(JSON.stringify(batchFailure(pgError('23505', { detail: 'Key (source_id)=(ZZ) already exists.' }))).includes('ZZ'), 'PostgreSQL’s detail (values) is never echoed');
  t.match(batchFailure(pgError('22003', { column: 'quantity' })), { sqlstate: '22003', reason: /donnée refusée par la base \(SQLSTATE 22003, colonne quantity\)/ }, 'a data exception: rejected');
  t.match(batchFailure(new AppError(422, 'invalid_batch', 'Lot invalide.')), { reason: 'invalid_batch: Lot invalide.' }, 'the ingestion refusing the batch: rejected');
  t.equal(batchFailure(new AppError(503, 'read_only', 'Lecture seule.')), undefined, 'a 5xx AppError is not the batch’s fault');
  t.equal(batchFailure(new TypeError('x is undefined')), undefined, 'a bug stays a 500');
  for (const code of ['40P01', '40001', '57P01', '08006', '53300']) {
    t.equal(batchFailure(pgError(code)), undefined, `${code} is not the batch’s fault`);
    t.ok(transientDbError(pgError(code)), `${code} is transient (answered 503)`);
  }
  t.notOk(transientDbError(pgError('23505')), 'a constraint violation is not transient');
  t.notOk(transientDbError(new Error('no code')));
});

import t from 'tap';
import { checkPeriod, lastYearPeriod, previousPeriod, segments, shiftYears, trailingMonths } from '../../src/analytics/period.js';

t.test('periods: previous, last year, trailing months', async (t) => {
  t.same(previousPeriod({ from: '2026-03-01', to: '2026-03-31' }), { from: '2026-01-29', to: '2026-02-28' });
  t.same(lastYearPeriod({ from: '2024-02-01', to: '2024-02-29' }), { from: '2023-02-01', to: '2023-02-28' }, '29 February becomes 28');
  t.equal(shiftYears('2026-12-31', -1), '2025-12-31');
  t.same(trailingMonths('2026-11-21', 12), { from: '2025-12-01', to: '2026-11-30' });
  t.throws(() => checkPeriod({ from: '2026-02-30', to: '2026-03-01' }), { code: 'invalid_period' });
  t.throws(() => checkPeriod({ from: '2026-03-02', to: '2026-03-01' }), { code: 'invalid_period' });
});

t.test('segments: whole months from the monthly rollup, edges from the daily one', async (t) => {
  t.same(segments({ from: '2026-03-01', to: '2026-03-31' }), [{ kind: 'month', from: '2026-03-01', to: '2026-03-01' }]);
  t.same(segments({ from: '2026-01-29', to: '2026-02-28' }), [
    { kind: 'day', from: '2026-01-29', to: '2026-01-31' },
    { kind: 'month', from: '2026-02-01', to: '2026-02-01' },
  ]);
  t.same(segments({ from: '2025-12-15', to: '2026-11-20' }), [
    { kind: 'day', from: '2025-12-15', to: '2025-12-31' },
    { kind: 'month', from: '2026-01-01', to: '2026-10-01' },
    { kind: 'day', from: '2026-11-01', to: '2026-11-20' },
  ]);
  t.same(segments({ from: '2026-03-05', to: '2026-03-20' }), [{ kind: 'day', from: '2026-03-05', to: '2026-03-20' }], 'no whole month inside');
  t.same(segments({ from: '2026-03-05', to: '2026-04-03' }), [{ kind: 'day', from: '2026-03-05', to: '2026-04-03' }]);
  t.same(segments({ from: '2025-12-01', to: '2026-11-30' }), [{ kind: 'month', from: '2025-12-01', to: '2026-11-01' }], 'a 12-month dashboard reads 12 month rows per cell');
});

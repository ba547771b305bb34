import fc from 'fast-check';
import t from 'tap';
import { fastSalesLine, salesLine } from '../../src/ingest/ingest.schemas.js';

const good = {
  sourceId: 'S1', ticketId: 'T1', soldAt: '2026-03-10T09:15:00+01:00', productCode: '3400930000021', quantity: 2,
  unitPriceTtcCents: 600, vatRate: 2.1, unitCostHtCents: 350, feeTtcCents: 204, saleType: 'prescription',
};

// Values that sit on and around every boundary the zod schema draws.
const anyValue = fc.oneof(
  fc.constantFrom('', 'S 1', 'é', 'x'.repeat(64), 'x'.repeat(65), '3400930000021', '3400930000015', '340093000002', '2026-02-30T10:00:00Z',
    '2026-03-10T09:15:00+01:00', '2026-03-10T09:15:00Z', '2026-03-10 09:15:00', 'prescription', 'otc', 'parapharmacy', 'OTC', '0'),
  fc.constantFrom(0, -1, 1, 2.5, -10_000, 10_000, 10_001, 1e9, 1e9 + 1, -1e9 - 1, 99.99, 100, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53),
  fc.constantFrom(null, undefined, true, [], {}),
  fc.string(),
  fc.integer(),
  fc.double(),
);
const mutated = fc
  .record({
    field: fc.constantFrom(...Object.keys(good), 'patientName', '__proto__', 'extra'),
    value: anyValue,
    drop: fc.boolean(),
  })
  .map(({ field, value, drop }) => {
    const o: Record<string, unknown> = { ...good };
    if (drop) delete o[field];
    else Object.defineProperty(o, field, { value, enumerable: true, writable: true, configurable: true });
    return o;
  });

t.test('the fast path accepts only what zod accepts, and returns what zod returns', async (t) => {
  t.same(fastSalesLine(good), salesLine.parse(good), 'a good line: same output');
  const { feeTtcCents: _fee, ...noFee } = good;
  t.same(fastSalesLine(noFee), salesLine.parse(noFee), 'default fee applied like zod');
  t.equal(fastSalesLine({ ...good, productCode: '3400930000015' }), null, 'wrong check digit: not fast');
  t.equal(fastSalesLine({ ...good, patientName: 'X' }), null, 'unknown field: not fast');
  let fastAccepted = 0;
  fc.assert(
    fc.property(fc.array(mutated, { minLength: 1, maxLength: 3 }), (variants) => {
      const line = Object.assign({}, ...variants) as Record<string, unknown>;
      const fast = fastSalesLine(line);
      if (fast === null) return true;
      fastAccepted++;
      const z = salesLine.safeParse(line);
      return z.success && JSON.stringify(z.data) === JSON.stringify(fast);
    }),
    { numRuns: 3000, seed: 4242 },
  );
  t.ok(fastAccepted > 100, `${fastAccepted} fast acceptances all confirmed by zod`);
});

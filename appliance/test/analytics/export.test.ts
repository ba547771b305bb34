import t from 'tap';
import { toCsv, toJsonExport, type ExportColumn } from '../../src/analytics/export.presenter.js';

type Row = { label: string; amount: number | null; rate: number; n: number };
const cols: ExportColumn<Row>[] = [
  { key: 'label', header: 'Libellé', type: 'text' },
  { key: 'amount', header: 'Montant (€)', type: 'cents' },
  { key: 'rate', header: 'Taux (%)', type: 'pct' },
  { key: 'n', header: 'Nombre', type: 'int' },
];

t.test('CSV for Excel in France: BOM, semicolons, decimal commas, quoting, no formulas', async (t) => {
  const csv = toCsv(cols, [
    { label: 'Doliprane; 1000 mg "boîte"', amount: -1234, rate: 25.5, n: 3 },
    { label: '=HYPERLINK("http://evil")', amount: null, rate: 0, n: 0 },
    { label: '+33 6 00', amount: 5, rate: 100, n: -2 },
  ]);
  t.ok(csv.startsWith('\uFEFF'), 'UTF-8 BOM');
  const lines = csv.slice(1).split('\r\n');
  t.equal(lines[0], 'Libellé;Montant (€);Taux (%);Nombre');
  t.equal(lines[1], '"Doliprane; 1000 mg ""boîte""";-12,34;25,50;3', 'separator and quotes escaped, negative cents');
  t.equal(lines[2], '"\'=HYPERLINK(""http://evil"")";;0,00;0', 'formula neutralised, empty for null');
  t.equal(lines[3], "'+33 6 00;0,05;100,00;-2");
  t.equal(lines[4], '', 'ends with CRLF');
  t.same(toJsonExport(cols, []), { columns: cols, rows: [] });
});

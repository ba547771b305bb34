/** How a column is written in a French spreadsheet export. */
export type ColumnType = 'text' | 'int' | 'cents' | 'pct' | 'decimal' | 'date';

/** One column of a table view: key in the row, French header, type. */
export interface ExportColumn<Row> {
  key: keyof Row & string;
  header: string;
  type: ColumnType;
}

/** French decimal: comma separator, no thousands separator (Excel reads it as a number). */
function frDecimal(x: number, decimals: number): string {
  return x.toFixed(decimals).replace('.', ',');
}

function cell(v: unknown, type: ColumnType): string {
  if (v === null || v === undefined) return '';
  switch (type) {
    case 'cents':
      return frDecimal(Number(v) / 100, 2);
    case 'pct':
      return frDecimal(Number(v), 2);
    case 'decimal':
      return String(v).replace('.', ',');
    case 'int':
      return String(v);
    case 'date':
      return v instanceof Date ? v.toISOString() : String(v);
    case 'text': {
      // A cell starting with = + - @ would be a formula in Excel (CSV injection): neutralise it.
      const s = String(v);
      return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
    }
  }
}

function quote(s: string): string {
  return /[";\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A table view as CSV for Excel in France: UTF-8 with a BOM, `;` separators,
 * decimal commas, amounts in euros, CRLF line ends.
 */
export function toCsv<Row>(columns: ExportColumn<Row>[], rows: Row[]): string {
  const lines = [columns.map((c) => quote(c.header)).join(';')];
  for (const r of rows) lines.push(columns.map((c) => quote(cell(r[c.key], c.type))).join(';'));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** The same table view as JSON: amounts stay in integer cents, with the column descriptions. */
export function toJsonExport<Row>(columns: ExportColumn<Row>[], rows: Row[]): { columns: ExportColumn<Row>[]; rows: Row[] } {
  return { columns, rows };
}

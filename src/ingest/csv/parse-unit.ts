import { coreTable } from '../../standards/core-tables.ts';
import { findCoreColumn, type CoreColumn, type CoreTable } from '../../standards/core-tables.ts';
import { decodeUnit } from '../encoding.ts';
import type { LandedUnit } from '../types.ts';
import { parseDate } from './dates.ts';
import { parseFields } from './records.ts';

/** A landed core-table row read back for standardization. */
export interface CsvRow {
  table: string;
  /** Values by core-table column key; dates/datetimes in ISO 8601 when their detected format reads them. */
  values: Record<string, string>;
  /** Columns of the file that the dictionary does not know (kept, not interpreted). */
  extra: Record<string, string>;
  /** Date values that did not fit their column's detected format (left as sent in `values`). */
  badDates: string[];
}

/**
 * The header line of a file read against its core table: every row of the file carries the same one, so it is matched
 * once per header string (a bounded cache; a server sees a few dozen file layouts, not thousands).
 */
const headers = new Map<string, Array<{ name: string; col: CoreColumn | undefined }>>();

function headerColumns(table: CoreTable, line: string, delimiter: string): Array<{ name: string; col: CoreColumn | undefined }> {
  const key = `${table.key}\u0001${delimiter}\u0001${line}`;
  let columns = headers.get(key);
  if (!columns) {
    if (headers.size >= 1000) headers.clear();
    columns = parseFields(line, delimiter).map((n) => ({ name: n.trim(), col: findCoreColumn(table, n.trim()) }));
    headers.set(key, columns);
  }
  return columns;
}

/**
 * Reads a CSV unit landed by `ingestCsv` (header line + row, in the file's encoding) into core-table values: the
 * helper standardizers use instead of re-implementing header mapping and date formats.
 */
export function parseCsvUnit(unit: Pick<LandedUnit, 'content' | 'encoding' | 'meta'>): CsvRow {
  const text = decodeUnit(unit);
  const nl = text.indexOf('\n');
  const meta = unit.meta as { table: string; delimiter?: string; dateFormats?: Record<string, string> };
  const table = coreTable(meta.table);
  if (!table) throw new Error(`unknown core table ${meta.table}`);
  const delimiter = meta.delimiter ?? ',';
  const columns = headerColumns(table, text.slice(0, nl), delimiter);
  const fields = parseFields(text.slice(nl + 1), delimiter);
  const row: CsvRow = { table: table.key, values: {}, extra: {}, badDates: [] };
  columns.forEach(({ name, col }, i) => {
    const value = (fields[i] ?? '').trim();
    if (!col) {
      row.extra[name] = value;
      return;
    }
    const format = meta.dateFormats?.[col.key];
    if (value && format && (col.type === 'date' || col.type === 'datetime')) {
      const iso = parseDate(value, format);
      if (iso) row.values[col.key] = iso;
      else {
        row.values[col.key] = value;
        row.badDates.push(col.key);
      }
    } else row.values[col.key] = value;
  });
  return row;
}

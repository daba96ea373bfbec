// src/cli/csv.ts: reading named columns of a CSV file (a header row, then one record per line) with csv-parse.
// Every failure is a CliError that names the file and says what to fix: a missing file, a column that is not
// there (listing those that are), a value that is not a number (with its line in the file and the value).
import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { CliError } from "./common.js";

/** A parsed CSV file: the header's column names and each record with the file line it ends on. */
export interface CsvTable {
  path: string;
  columns: string[];
  records: { fields: string[]; line: number }[];
}

/** Reads and parses a whole CSV file; the first non-empty record is the header. */
export function readCsv(path: string): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT") throw new CliError(`data file '${path}' not found`);
    if (err.code === "EISDIR") throw new CliError(`data file '${path}' is a directory, not a CSV file`);
    throw new CliError(`cannot read data file '${path}': ${err.message}`);
  }
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    // info: true gives each record with the line it ends on (csv-parse's types do not follow that option)
    parsed = parse(text, { bom: true, skip_empty_lines: true, trim: true, info: true }) as unknown as typeof parsed;
  } catch (e) {
    // csv-parse's messages name the problem and the line ("Invalid Record Length: expect 2, got 3 on line 5").
    throw new CliError(`data file '${path}' is not valid CSV: ${(e as Error).message}`);
  }
  if (parsed.length === 0) throw new CliError(`data file '${path}' is empty: expected a header row of column names, then one row per time step`);
  const [header, ...rest] = parsed;
  return { path, columns: header.record, records: rest.map((r) => ({ fields: r.record, line: r.info.lines })) };
}

/** The index of a column by its header name; the error lists the columns the file has. */
export function columnIndex(table: CsvTable, name: string): number {
  const k = table.columns.indexOf(name);
  if (k < 0) {
    const have = table.columns.map((c) => `'${c}'`).join(", ");
    throw new CliError(`data file '${table.path}' has no column '${name}'; its columns are ${have} (names are case-sensitive)`);
  }
  return k;
}

/** A column's values as numbers, in file order; an empty or non-numeric cell is an error naming its line. */
export function numericColumn(table: CsvTable, name: string): number[] {
  const k = columnIndex(table, name);
  return table.records.map(({ fields, line }) => {
    const text = fields[k] ?? "";
    // Number("") is 0 and Number(" 1e3 ") is 1000: accept only what reads as a finite number.
    const value = text === "" ? NaN : Number(text);
    if (!Number.isFinite(value)) {
      const what = text === "" ? "is empty" : `is '${text}', not a number`;
      throw new CliError(`data file '${table.path}', line ${line}: column '${name}' ${what}; every value of the column must be a finite number (remove or fill that row)`);
    }
    return value;
  });
}

/** A column's values as strings (for dates and labels). */
export function textColumn(table: CsvTable, name: string): string[] {
  const k = columnIndex(table, name);
  return table.records.map(({ fields }) => fields[k] ?? "");
}

// cli/src/csv.ts: reading named columns of a CSV file (a header row, then one record per line) with csv-parse.
// Every failure is a CliError that names the file and says what to fix: a missing file, a file that is not UTF-8
// text (with the line of the first bad byte), a column that is not there (listing those that are), a value that is
// not a finite number (with its line in the file and the value, cut short when long).
import { readFileSync } from "node:fs";
import { isUtf8 } from "node:buffer";
import type * as CsvParse from "csv-parse/sync";
import { lazyRequire } from "./lazy.js";
import { CliError } from "./common.js";

const csvParse = lazyRequire<typeof CsvParse>("csv-parse/sync");

/** A parsed CSV file: the header's column names and each record with the file line it ends on. */
export interface CsvTable {
  path: string;
  columns: string[];
  records: { fields: string[]; line: number }[];
}

/** Longest cell text quoted whole in a message; a longer one is cut to this many characters and its length. */
const QUOTE_CHARS = 40;

/** `'text'`, or `'the first 40 characters...' (12,345 characters)`. */
export function quoteCell(text: string): string {
  return text.length <= QUOTE_CHARS ? `'${text}'` : `'${text.slice(0, QUOTE_CHARS)}...' (${text.length.toLocaleString("en-US")} characters)`;
}

/** Byte offset of the first byte that does not belong to a valid UTF-8 sequence (bytes.length if none). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    // lead byte -> sequence length and the allowed range of the second byte (excludes overlongs and surrogates)
    const [n, lo, hi] = b < 0x80 ? [1, 0, 0] : b >= 0xc2 && b <= 0xdf ? [2, 0x80, 0xbf] : b === 0xe0 ? [3, 0xa0, 0xbf]
      : b === 0xed ? [3, 0x80, 0x9f] : b >= 0xe1 && b <= 0xef ? [3, 0x80, 0xbf] : b === 0xf0 ? [4, 0x90, 0xbf]
      : b >= 0xf1 && b <= 0xf3 ? [4, 0x80, 0xbf] : b === 0xf4 ? [4, 0x80, 0x8f] : [0, 0, 0];
    if (n === 0) return i;
    if (n > 1 && !(bytes[i + 1] >= lo && bytes[i + 1] <= hi)) return i;
    for (let k = 2; k < n; k++) if (!(bytes[i + k] >= 0x80 && bytes[i + k] <= 0xbf)) return i;
    i += n;
  }
  return bytes.length;
}

/** Reads and parses a whole CSV file (UTF-8, with or without a byte order mark); the first non-empty record is the header. */
export function readCsv(path: string): CsvTable {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT") throw new CliError(`data file '${path}' not found`);
    if (err.code === "EISDIR") throw new CliError(`data file '${path}' is a directory, not a CSV file`);
    throw new CliError(`cannot read data file '${path}': ${err.message}`);
  }
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
    throw new CliError(`data file '${path}', line ${line}: byte 0x${bytes[at].toString(16).padStart(2, "0")} at offset ${at} is not UTF-8 text; ` +
      "save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)");
  }
  let text: string;
  try {
    text = bytes.toString("utf8");
  } catch (e) {
    // V8's strings end at about 512 MiB (ERR_STRING_TOO_LONG)
    throw new CliError(`data file '${path}' is ${bytes.length.toLocaleString("en-US")} bytes, more text than one JavaScript string holds: ${(e as Error).message}`);
  }
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    // info: true gives each record with the line it ends on (csv-parse's types do not follow that option)
    parsed = csvParse().parse(text, { bom: true, skip_empty_lines: true, trim: true, info: true }) as unknown as typeof parsed;
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
      const what = text === "" ? "is empty"
        : Number.isNaN(value) ? `is ${quoteCell(text)}, not a number`
        : /^[+-]?Infinity$/.test(text) ? `is ${quoteCell(text)}, not a finite number`
        : `is ${quoteCell(text)}, beyond the largest number a double holds (1.8e308)`;
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

// cli/src/forecast/calendar.ts: a monthly series on a gapless calendar. A recurrent model counts time in steps, so
// a missing month would silently make "12 steps back" mean 13 months back. Each month from the first row's to the
// last row's gets a value: its row's, or, for a month without a row, the straight line between the rows around
// the gap (linear interpolation in time).
import { CliError } from "../common.js";

export interface MonthlySeries {
  /** "YYYY-MM-01", one per month, consecutive. */
  months: string[];
  values: number[];
  /** The months that had no row and were interpolated. */
  filled: string[];
}

/** Months since year 0 of "YYYY-MM" or "YYYY-MM-DD" (the day is ignored), or NaN. */
function monthNumber(date: string): number {
  const m = /^(\d{4})-(\d{2})(?:-\d{2})?$/.exec(date);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) return NaN;
  return Number(m[1]) * 12 + Number(m[2]) - 1;
}

function monthText(n: number): string {
  return `${String(Math.floor(n / 12)).padStart(4, "0")}-${String((n % 12) + 1).padStart(2, "0")}-01`;
}

/** `dates` and `values` are rows in time order; `where` names the file in errors. */
export function monthlyCalendar(dates: readonly string[], values: readonly number[], where: string): MonthlySeries {
  const numbers = dates.map((d, i) => {
    const n = monthNumber(d);
    if (Number.isNaN(n)) throw new CliError(`${where}, row ${i + 1}: date '${d}' is not YYYY-MM or YYYY-MM-DD`);
    if (i > 0 && n <= monthNumber(dates[i - 1])) throw new CliError(`${where}, row ${i + 1}: month ${d} does not come after the previous row's ${dates[i - 1]}; rows must be in time order, one per month`);
    return n;
  });
  const months: string[] = [];
  const out: number[] = [];
  const filled: string[] = [];
  for (let i = 0; i < numbers.length; i++) {
    if (i > 0) {
      const gap = numbers[i] - numbers[i - 1];
      for (let k = 1; k < gap; k++) {
        const month = monthText(numbers[i - 1] + k);
        months.push(month);
        out.push(values[i - 1] + ((values[i] - values[i - 1]) * k) / gap);
        filled.push(month);
      }
    }
    months.push(monthText(numbers[i]));
    out.push(values[i]);
  }
  return { months, values: out, filled };
}

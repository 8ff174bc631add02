// CSV loading and column statistics for the example data-science server.
// Pure JavaScript, node built-ins only.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** An error whose message is meant for the caller (becomes an isError tool result). */
export class UserError extends Error {}

const MAX_CSV_BYTES = 64 * 1024 * 1024;
const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', 'none']);
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * RFC 4180 parser: quoted fields may hold commas, doubled quotes ("") and line breaks;
 * CRLF, LF and CR line ends; a leading BOM is dropped; blank lines are skipped.
 * @param {string} text
 * @returns {string[][]}
 */
export function parseCsv(text) {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows = [];
  let row = [];
  let field = '';
  let inQuotes = false;
  let quoteLine = 0;
  let line = 1;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          inQuotes = false;
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"') {
      inQuotes = true;
      quoteLine = line;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      row.push(field);
      field = '';
      rows.push(row);
      row = [];
      if (c === '\r' && text[i + 1] === '\n') i++;
      line++;
    } else {
      field += c;
    }
  }
  if (inQuotes) throw new UserError(`malformed CSV: quoted field opened on line ${quoteLine} is never closed`);
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0].trim() === ''));
}

/** Resolve a csv_path argument (plain path, relative to the working folder, or file:// URI). */
export function resolveCsvPath(csvPath) {
  if (typeof csvPath !== 'string' || csvPath.trim() === '') throw new UserError('csv_path is required');
  const p = csvPath.startsWith('file://') ? fileURLToPath(csvPath) : csvPath;
  return path.resolve(p);
}

/** Dataset name from a path: the file stem, lower-cased, reduced to [a-z0-9_-]. */
export function datasetName(filePath) {
  const stem = path.basename(filePath).replace(/\.[^.]*$/, '');
  return slug(stem) || 'dataset';
}

export function slug(s) {
  return String(s)
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
}

/**
 * @typedef {{name: string, type: 'numeric', values: (number|null)[]} | {name: string, type: 'categorical', values: (string|null)[]}} Column
 * @typedef {{path: string, name: string, rows: number, columns: Column[]}} Dataset
 */

/** @returns {Promise<Dataset>} */
export async function loadDataset(csvPath) {
  const abs = resolveCsvPath(csvPath);
  let st;
  try {
    st = await stat(abs);
  } catch (err) {
    if (err && err.code === 'ENOENT') throw new UserError(`csv_path not found: ${abs}`);
    throw new UserError(`cannot read csv_path ${abs}: ${err.message}`);
  }
  if (!st.isFile()) throw new UserError(`csv_path is not a regular file: ${abs}`);
  if (st.size > MAX_CSV_BYTES) throw new UserError(`csv_path is too large (${st.size} bytes, limit ${MAX_CSV_BYTES})`);
  const text = await readFile(abs, 'utf8');
  const records = parseCsv(text);
  if (records.length === 0) throw new UserError(`CSV file is empty: ${abs}`);
  const header = dedupeHeader(records[0]);
  const body = records.slice(1);
  if (body.length === 0) throw new UserError(`CSV file has a header but no data rows: ${abs}`);
  body.forEach((r, i) => {
    if (r.length > header.length) {
      throw new UserError(`malformed CSV: data row ${i + 1} has ${r.length} fields but the header has ${header.length}`);
    }
  });
  const columns = header.map((name, j) => {
    const raw = body.map((r) => (j < r.length ? r[j].trim() : ''));
    const present = raw.filter((v) => !MISSING.has(v.toLowerCase()));
    if (present.length > 0 && present.every((v) => NUMBER_RE.test(v))) {
      return { name, type: 'numeric', values: raw.map((v) => (MISSING.has(v.toLowerCase()) ? null : Number(v))) };
    }
    return { name, type: 'categorical', values: raw.map((v) => (MISSING.has(v.toLowerCase()) ? null : v)) };
  });
  return { path: abs, name: datasetName(abs), rows: body.length, columns };
}

function dedupeHeader(names) {
  const seen = new Map();
  return names.map((raw, i) => {
    let name = raw.trim() || `column_${i + 1}`;
    const count = seen.get(name) ?? 0;
    seen.set(name, count + 1);
    if (count > 0) name = `${name}_${count + 1}`;
    return name;
  });
}

/** Find a column by name, or throw a UserError that lists the available ones. */
export function getColumn(ds, name, role = 'column') {
  const col = ds.columns.find((c) => c.name === name);
  if (!col) {
    throw new UserError(`unknown ${role} '${name}'; columns in ${path.basename(ds.path)} are: ${ds.columns.map((c) => c.name).join(', ')}`);
  }
  return col;
}

export function numericValues(col) {
  return col.values.filter((v) => v !== null);
}

export function round(x, digits = 6) {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function mean(xs) {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Sample standard deviation (ddof = 1), as pandas reports it. */
export function std(xs) {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Quantile with linear interpolation (pandas' default). */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Bias-adjusted skewness and excess kurtosis, as pandas computes them. */
export function moments(xs) {
  const n = xs.length;
  const m = mean(xs);
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (const x of xs) {
    const d = x - m;
    m2 += d * d;
    m3 += d ** 3;
    m4 += d ** 4;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  const skew = n > 2 && m2 > 0 ? (Math.sqrt(n * (n - 1)) / (n - 2)) * (m3 / m2 ** 1.5) : NaN;
  const kurt = n > 3 && m2 > 0 ? (((n + 1) * (m4 / (m2 * m2) - 3) + 6) * (n - 1)) / ((n - 2) * (n - 3)) : NaN;
  return { skew, kurtosis: kurt };
}

/** Pearson correlation over rows where both values are present. */
export function pearson(a, b) {
  const xs = [];
  const ys = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== null && b[i] !== null) {
      xs.push(a[i]);
      ys.push(b[i]);
    }
  }
  if (xs.length < 2) return NaN;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

export function valueCounts(values) {
  const counts = new Map();
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
}

/** Per-column summary in the spirit of pandas' describe(include="all"). */
export function describeDataset(ds, topN = 5) {
  const columns = {};
  for (const col of ds.columns) {
    const missing = col.values.filter((v) => v === null).length;
    if (col.type === 'numeric') {
      const xs = numericValues(col);
      const sorted = [...xs].sort((a, b) => a - b);
      columns[col.name] = {
        dtype: 'numeric',
        count: xs.length,
        missing,
        mean: round(mean(xs)),
        std: round(std(xs)),
        min: round(sorted[0]),
        '25%': round(quantile(sorted, 0.25)),
        '50%': round(quantile(sorted, 0.5)),
        '75%': round(quantile(sorted, 0.75)),
        max: round(sorted[sorted.length - 1]),
      };
    } else {
      const counts = valueCounts(col.values);
      columns[col.name] = {
        dtype: 'categorical',
        count: col.values.length - missing,
        missing,
        unique: counts.length,
        top: counts.slice(0, topN).map(([value, count]) => ({ value, count })),
      };
    }
  }
  return columns;
}

/** Numeric statistics and the correlation matrix of the numeric columns. */
export function statsDataset(ds) {
  const numeric = ds.columns.filter((c) => c.type === 'numeric');
  const out = {};
  for (const col of numeric) {
    const xs = numericValues(col);
    const sorted = [...xs].sort((a, b) => a - b);
    const s = std(xs);
    const { skew, kurtosis } = moments(xs);
    const q1 = quantile(sorted, 0.25);
    const q3 = quantile(sorted, 0.75);
    out[col.name] = {
      count: xs.length,
      missing: col.values.length - xs.length,
      sum: round(xs.reduce((a, b) => a + b, 0)),
      mean: round(mean(xs)),
      median: round(quantile(sorted, 0.5)),
      std: round(s),
      variance: round(s * s),
      min: round(sorted[0]),
      max: round(sorted[sorted.length - 1]),
      iqr: round(q3 - q1),
      skew: round(skew),
      kurtosis: round(kurtosis),
    };
  }
  const correlation = {};
  for (const a of numeric) {
    correlation[a.name] = {};
    for (const b of numeric) correlation[a.name][b.name] = round(pearson(a.values, b.values));
  }
  return { numeric: out, correlation };
}

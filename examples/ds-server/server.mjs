#!/usr/bin/env node
// Example data-science MCP tool server (stdio). It makes real files: PNG/SVG plots, a trained
// model with its metrics, and PDF/HTML reports, so that artifact-workspace has something to route.
// Dependencies: @modelcontextprotocol/server (SDK 2.x), zod and node built-ins only. stdout carries MCP
// messages only; every log line goes to stderr.
import { mkdirSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import {
  UserError,
  describeDataset,
  getColumn,
  loadDataset,
  mean,
  numericValues,
  pearson,
  slug,
  statsDataset,
  valueCounts,
} from './lib/data.mjs';
import { histogram, layoutChart, renderPng, renderSvg } from './lib/render.mjs';
import { trainClassifier } from './lib/model.mjs';
import { buildPdf } from './lib/pdf.mjs';

const log = (...args) => process.stderr.write(`[ds-server] ${args.join(' ')}\n`);

const OUT_DIR = path.resolve(process.env.DS_SERVER_OUT || path.join(os.tmpdir(), `ds-server-${process.pid}`));

// ---------------------------------------------------------------- helpers

let seq = 0;
/** Write a file atomically: a temporary name in the same folder, then rename. */
async function writeAtomic(file, data) {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++seq}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

function stamp(d = new Date()) {
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}_${p(d.getMilliseconds(), 3)}`;
}

/** Create a new folder that no other call uses (exclusive mkdir with a numeric suffix). */
async function freshDir(parent, base) {
  await mkdir(parent, { recursive: true });
  for (let n = 1; ; n++) {
    const dir = path.join(parent, n === 1 ? base : `${base}_${n}`);
    try {
      await mkdir(dir);
      return dir;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
  }
}

const json = (obj) => JSON.stringify(obj, null, 2);
const ok = (obj) => ({ content: [{ type: 'text', text: json(obj) }] });
const fail = (tool, message) => ({ content: [{ type: 'text', text: `${tool} failed: ${message}` }], isError: true });

/** Run a tool body; a UserError (or any other error) becomes an isError result, never a crash. */
function guarded(tool, fn) {
  return async (args) => {
    try {
      return await fn(args);
    } catch (err) {
      if (err instanceof UserError) return fail(tool, err.message);
      log(`${tool}: unexpected error: ${err && err.stack ? err.stack : err}`);
      return fail(tool, `internal error: ${err && err.message ? err.message : err}`);
    }
  };
}

function chartFor(ds, { kind, column, x, y, bins }) {
  if (kind === 'scatter') {
    const numeric = ds.columns.filter((c) => c.type === 'numeric');
    const xName = x ?? numeric[0]?.name;
    const yName = y ?? numeric.find((c) => c.name !== xName)?.name;
    if (!xName || !yName) throw new UserError('scatter needs two numeric columns; pass x and y');
    const xc = getColumn(ds, xName, 'x column');
    const yc = getColumn(ds, yName, 'y column');
    for (const c of [xc, yc]) if (c.type !== 'numeric') throw new UserError(`scatter needs numeric columns; '${c.name}' is categorical`);
    const points = [];
    for (let i = 0; i < ds.rows; i++) if (xc.values[i] !== null && yc.values[i] !== null) points.push({ x: xc.values[i], y: yc.values[i] });
    if (points.length === 0) throw new UserError(`no rows have values for both '${xc.name}' and '${yc.name}'`);
    const r = pearson(xc.values, yc.values);
    return {
      name: `${ds.name}_auto_scatter_${slug(xc.name)}_vs_${slug(yc.name)}`,
      spec: { kind: 'scatter', points, title: `${yc.name} vs ${xc.name} (n=${points.length}, r=${Number.isFinite(r) ? r.toFixed(2) : 'n/a'})`, xLabel: xc.name, yLabel: yc.name },
      columns: [xc.name, yc.name],
    };
  }
  const name = column ?? x ?? ds.columns.find((c) => c.type === 'numeric')?.name ?? ds.columns[0].name;
  const col = getColumn(ds, name);
  const file = `${ds.name}_auto_hist_${slug(col.name)}`;
  if (col.type === 'numeric') {
    const xs = numericValues(col);
    if (xs.length === 0) throw new UserError(`column '${col.name}' has no values`);
    return {
      name: file,
      spec: { kind: 'hist', bins: histogram(xs, bins), title: `Histogram of ${col.name} (n=${xs.length})`, xLabel: col.name, yLabel: 'count' },
      columns: [col.name],
    };
  }
  const counts = valueCounts(col.values).slice(0, 30);
  if (counts.length === 0) throw new UserError(`column '${col.name}' has no values`);
  return {
    name: file,
    spec: { kind: 'bar', bars: counts.map(([label, count]) => ({ label, count })), title: `Counts of ${col.name} (n=${counts.reduce((a, [, c]) => a + c, 0)})`, xLabel: col.name, yLabel: 'count' },
    columns: [col.name],
  };
}

/** Facts for the executive report, phrased for a person. */
function reportFacts(ds) {
  const numeric = ds.columns.filter((c) => c.type === 'numeric');
  const categorical = ds.columns.filter((c) => c.type === 'categorical');
  const missing = ds.columns.reduce((a, c) => a + c.values.filter((v) => v === null).length, 0);
  const fmt = (v) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
  const facts = [];
  facts.push(['Rows', String(ds.rows)]);
  facts.push(['Columns', `${ds.columns.length} (${numeric.length} numeric, ${categorical.length} categorical)`]);
  facts.push(['Missing values', String(missing)]);
  const tip = numeric.find((c) => c.name.toLowerCase() === 'tip');
  const bill = numeric.find((c) => c.name.toLowerCase() === 'total_bill');
  if (tip) facts.push(['Mean tip', fmt(mean(numericValues(tip)))]);
  if (tip && bill) {
    const rates = [];
    for (let i = 0; i < ds.rows; i++) if (tip.values[i] !== null && bill.values[i]) rates.push(tip.values[i] / bill.values[i]);
    facts.push(['Mean tip rate', `${(mean(rates) * 100).toFixed(1)}% of total_bill`]);
  }
  let best = null;
  for (let i = 0; i < numeric.length; i++) {
    for (let j = i + 1; j < numeric.length; j++) {
      const r = pearson(numeric[i].values, numeric[j].values);
      if (Number.isFinite(r) && (!best || Math.abs(r) > Math.abs(best.r))) best = { a: numeric[i].name, b: numeric[j].name, r };
    }
  }
  if (best) facts.push(['Strongest correlation', `${best.a} vs ${best.b}: r = ${best.r.toFixed(3)}`]);
  const columnLines = [];
  for (const c of numeric) {
    const xs = numericValues(c);
    columnLines.push(`${c.name}: mean ${fmt(mean(xs))}, min ${fmt(Math.min(...xs))}, max ${fmt(Math.max(...xs))}`);
  }
  for (const c of categorical) {
    const counts = valueCounts(c.values);
    const total = counts.reduce((a, [, n]) => a + n, 0);
    columnLines.push(`${c.name}: ${counts.slice(0, 4).map(([v, n]) => `${v} ${n} (${((100 * n) / total).toFixed(1)}%)`).join(', ')}${counts.length > 4 ? `, +${counts.length - 4} more` : ''}`);
  }
  return { facts, columnLines, chartColumn: tip ?? numeric[0] };
}

const escHtml = (s) => String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]);

// ---------------------------------------------------------------- server and tools

function createServer() {
  const server = new McpServer({ name: 'ds-server-example', version: '0.1.0' }, { capabilities: { logging: {} } });
  const csvPath = z.string().min(1).describe('Path to a CSV file with a header row (absolute, relative to the server\'s working folder, or a file:// URI)');

  server.registerTool(
    'describe',
    {
      title: 'Describe a CSV dataset',
      description: 'Per-column summary of a CSV file: count, missing, mean, std, min, quartiles and max for numeric columns; distinct values and the most frequent values for categorical ones. Read-only: writes no file.',
      inputSchema: z.object({ csv_path: csvPath }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    guarded('describe', async ({ csv_path }) => {
      const ds = await loadDataset(csv_path);
      return ok({ status: 'success', dataset: ds.name, csv_path: ds.path, rows: ds.rows, n_columns: ds.columns.length, columns: describeDataset(ds) });
    }),
  );

  server.registerTool(
    'stats',
    {
      title: 'Numeric statistics',
      description: 'Numbers for every numeric column (sum, mean, median, std, variance, min, max, IQR, skew, kurtosis) and the Pearson correlation matrix. Read-only: writes no file.',
      inputSchema: z.object({ csv_path: csvPath }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    guarded('stats', async ({ csv_path }) => {
      const ds = await loadDataset(csv_path);
      const { numeric, correlation } = statsDataset(ds);
      if (Object.keys(numeric).length === 0) throw new UserError(`no numeric columns in ${path.basename(ds.path)}`);
      return ok({ status: 'success', dataset: ds.name, csv_path: ds.path, rows: ds.rows, numeric, correlation });
    }),
  );

  server.registerTool(
    'plot',
    {
      title: 'Plot a column',
      description: 'Draws a histogram of one column (bar chart of counts when the column is categorical) or a scatter plot of two numeric columns, and writes it as PNG and SVG into the server\'s output folder. Returns plot_path (the PNG) and plot_paths [png, svg].',
      inputSchema: z.object({
              csv_path: csvPath,
              column: z.string().optional().describe('Column for a histogram; default: the first numeric column'),
              kind: z.enum(['hist', 'scatter']).optional().describe('hist (default) or scatter'),
              x: z.string().optional().describe('scatter: x column (default: first numeric column)'),
              y: z.string().optional().describe('scatter: y column (default: second numeric column)'),
              bins: z.number().int().min(1).max(200).optional().describe('hist: number of bins (default: automatic)'),
            }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    guarded('plot', async (args) => {
      const ds = await loadDataset(args.csv_path);
      const kind = args.kind ?? 'hist';
      const chart = chartFor(ds, { ...args, kind });
      const layout = layoutChart(chart.spec);
      const png = path.join(OUT_DIR, 'plots', `${chart.name}.png`);
      const svg = path.join(OUT_DIR, 'plots', `${chart.name}.svg`);
      await writeAtomic(png, renderPng(layout));
      await writeAtomic(svg, renderSvg(layout));
      log(`plot: wrote ${png}`);
      return ok({ status: 'success', dataset: ds.name, kind, columns: chart.columns, plot_path: png, plot_paths: [png, svg] });
    }),
  );

  server.registerTool(
    'train_classifier',
    {
      title: 'Train a classifier',
      description: 'Trains a multinomial logistic regression (standardised numeric and one-hot categorical features) on a seeded train/test split, saves model.json and metrics.json in a new folder, and returns the test accuracy. The target must be categorical (or an integer column with at most 20 classes).',
      inputSchema: z.object({
              csv_path: csvPath,
              target: z.string().min(1).describe('Column to predict, e.g. "smoker" or "time" in tips.csv'),
              features: z.array(z.string().min(1)).optional().describe('Feature columns; default: every other column'),
              test_size: z.number().gt(0).lt(1).optional().describe('Fraction of rows held out for testing (default 0.25)'),
              seed: z.number().int().optional().describe('Seed of the train/test shuffle (default 42)'),
            }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    guarded('train_classifier', async (args) => {
      const ds = await loadDataset(args.csv_path);
      const { model, metrics } = trainClassifier(ds, args.target, args.features, { testSize: args.test_size, seed: args.seed });
      const dir = await freshDir(path.join(OUT_DIR, 'models'), `${ds.name}_${slug(args.target) || 'target'}_classifier_${stamp()}`);
      const modelPath = path.join(dir, 'model.json');
      const metricsPath = path.join(dir, 'metrics.json');
      const trainedAt = new Date().toISOString();
      await writeAtomic(modelPath, `${json({ ...model, dataset: ds.name, source_csv: ds.path, trained_at: trainedAt })}\n`);
      await writeAtomic(metricsPath, `${json({ ...metrics, model_type: model.model_type, dataset: ds.name, trained_at: trainedAt })}\n`);
      log(`train_classifier: ${args.target} accuracy ${metrics.accuracy} -> ${dir}`);
      return ok({
        status: 'success',
        dataset: ds.name,
        model_type: model.model_type,
        model_path: modelPath,
        metrics_path: metricsPath,
        metrics,
        artifacts: [
          { path: modelPath, type: 'model', label: 'classifier' },
          { path: metricsPath, type: 'metrics', label: 'metrics' },
        ],
      });
    }),
  );

  server.registerTool(
    'export_executive_report',
    {
      title: 'Export an executive report',
      description: 'Writes a one-page PDF executive summary of a CSV dataset (rows, columns, key figures, a chart) and the same report as HTML. Returns report_path (PDF), html_path, and report_paths [pdf, html].',
      inputSchema: z.object({
              csv_path: csvPath,
              title: z.string().max(200).optional().describe('Report title; default "<Dataset> executive report"'),
            }),
      outputSchema: z.object({
              status: z.literal('success'),
              dataset: z.string(),
              title: z.string(),
              rows: z.number().int(),
              columns: z.number().int(),
              report_path: z.string(),
              html_path: z.string(),
              report_paths: z.array(z.string()),
            }),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    guarded('export_executive_report', async (args) => {
      const ds = await loadDataset(args.csv_path);
      const title = args.title?.trim() || `${ds.name.charAt(0).toUpperCase()}${ds.name.slice(1)} executive report`;
      const date = new Date();
      const { facts, columnLines, chartColumn } = reportFacts(ds);
      const hist = chartColumn ? histogram(numericValues(chartColumn)) : null;
      const fmtEdge = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));

      const pdf = buildPdf({
        title,
        date,
        blocks: [
          { text: `Dataset: ${path.basename(ds.path)}`, size: 10 },
          { text: 'Key figures', size: 13, bold: true, space: 8 },
          ...facts.map(([k, v]) => ({ text: `${k}: ${v}` })),
          { text: 'Columns', size: 13, bold: true, space: 8 },
          ...columnLines.map((t) => ({ text: t, size: 10 })),
        ],
        chart: hist ? { title: `Distribution of ${chartColumn.name}`, bars: hist.map((b) => ({ label: fmtEdge(b.x0), value: b.count })) } : undefined,
      });
      const svg = hist
        ? renderSvg(layoutChart({ kind: 'hist', bins: hist, title: `Histogram of ${chartColumn.name}`, xLabel: chartColumn.name, yLabel: 'count' }))
        : '';
      const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escHtml(title)}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; max-width: 860px; margin: 2rem auto; color: #1e1e1e; }
h1 { border-bottom: 2px solid #4c72b0; padding-bottom: .3rem; }
table { border-collapse: collapse; } td, th { padding: .25rem .8rem; border-bottom: 1px solid #e4e8ee; text-align: left; }
footer { color: #777; font-size: .8rem; margin-top: 2rem; }
</style>
</head>
<body>
<h1>${escHtml(title)}</h1>
<p>Dataset: <code>${escHtml(path.basename(ds.path))}</code></p>
<h2>Key figures</h2>
<table>
${facts.map(([k, v]) => `<tr><th>${escHtml(k)}</th><td>${escHtml(v)}</td></tr>`).join('\n')}
</table>
<h2>Columns</h2>
<ul>
${columnLines.map((t) => `<li>${escHtml(t)}</li>`).join('\n')}
</ul>
${svg ? `<h2>Distribution of ${escHtml(chartColumn.name)}</h2>\n${svg}` : ''}
<footer>Generated ${escHtml(date.toISOString())} by the artifact-workspace example ds-server.</footer>
</body>
</html>
`;
      const base = `${ds.name}_executive_report_${stamp(date).slice(0, 8)}`;
      const reportPath = path.join(OUT_DIR, 'reports', `${base}.pdf`);
      const htmlPath = path.join(OUT_DIR, 'reports', `${base}.html`);
      await writeAtomic(reportPath, pdf);
      await writeAtomic(htmlPath, html);
      log(`export_executive_report: wrote ${reportPath}`);
      const result = {
        status: 'success',
        dataset: ds.name,
        title,
        rows: ds.rows,
        columns: ds.columns.length,
        report_path: reportPath,
        html_path: htmlPath,
        report_paths: [reportPath, htmlPath],
      };
      return { structuredContent: result, content: [{ type: 'text', text: json(result) }] };
    }),
  );

  return server;
}

// ---------------------------------------------------------------- main

async function main() {
  mkdirSync(OUT_DIR, { recursive: true });
  const server = createServer();
  const transport = new StdioServerTransport();
  await server.connect(transport);
  log(`ready on stdio; output folder ${OUT_DIR}`);
  const stop = () => {
    void server.close().finally(() => process.exit(0));
  };
  process.stdin.on('end', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  log(`fatal: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});


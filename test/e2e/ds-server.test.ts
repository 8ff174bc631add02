// The bundled example data-science server (examples/ds-server), driven over stdio by a real MCP
// client: every tool on tips.csv, the files it writes checked byte by byte, and bad input.
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client } from '@modelcontextprotocol/client';
import { describe, expect, it, vi } from 'vitest';
import { onCleanup, tempDir } from '../helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVER = path.join(ROOT, 'examples/ds-server/server.mjs');
const TIPS = path.join(ROOT, 'examples/ds-server/tips.csv');


interface Started {
  client: Client;
  out: string;
  stderr: () => string;
  protocolErrors: Error[];
}

async function start(): Promise<Started> {
  const out = await tempDir('ds-server-out-');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.DS_SERVER_OUT = out;
  const transport = new StdioClientTransport({ command: process.execPath, args: [SERVER], env, cwd: ROOT, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client({ name: 'ds-server-test', version: '0.0.0' });
  const protocolErrors: Error[] = [];
  client.onerror = (err) => protocolErrors.push(err);
  onCleanup(() => client.close());
  await client.connect(transport);
  return { client, out, stderr: () => stderr, protocolErrors };
}

type ToolResult = { content: Array<{ type: string; text?: string }>; isError?: boolean; structuredContent?: Record<string, unknown> };

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<ToolResult> {
  return (await client.callTool({ name, arguments: args })) as ToolResult;
}

function textOf(r: ToolResult): string {
  const block = r.content.find((c) => c.type === 'text');
  expect(block?.text).toBeTypeOf('string');
  return block!.text!;
}

function jsonOf(r: ToolResult): any {
  expect(r.isError, textOf(r)).toBeFalsy();
  return JSON.parse(textOf(r));
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

// ---- format checks

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Parses a PNG: signature, chunk CRCs, IHDR first, IEND last; returns its size and RGB pixels. */
function decodePng(buf: Buffer): { width: number; height: number; pixels: Buffer } {
  expect(buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  const chunks: Array<{ type: string; data: Buffer }> = [];
  let off = 8;
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    expect(buf.readUInt32BE(off + 8 + len), `CRC of ${type}`).toBe(crc32(buf.subarray(off + 4, off + 8 + len)));
    chunks.push({ type, data });
    off += 12 + len;
  }
  expect(off).toBe(buf.length);
  expect(chunks[0]!.type).toBe('IHDR');
  expect(chunks.at(-1)!.type).toBe('IEND');
  const ihdr = chunks[0]!.data;
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  expect([ihdr[8], ihdr[9], ihdr[12]]).toEqual([8, 2, 0]); // 8-bit RGB, not interlaced
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  expect(raw.length).toBe(height * (1 + width * 3));
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (1 + width * 3)]).toBe(0); // filter type "none" on every row
    raw.copy(pixels, y * width * 3, y * (1 + width * 3) + 1, (y + 1) * (1 + width * 3));
  }
  return { width, height, pixels };
}

function shareOfColour(pixels: Buffer, [r, g, b]: [number, number, number]): number {
  let n = 0;
  for (let i = 0; i < pixels.length; i += 3) if (pixels[i] === r && pixels[i + 1] === g && pixels[i + 2] === b) n++;
  return n / (pixels.length / 3);
}

/** A PDF whose header, trailer, xref offsets and stream length are all correct. */
function checkPdf(buf: Buffer): string {
  const s = buf.toString('latin1');
  expect(s.startsWith('%PDF-1.')).toBe(true);
  expect(s.trimEnd().endsWith('%%EOF')).toBe(true);
  const startxref = Number(/startxref\s+(\d+)\s+%%EOF\s*$/.exec(s)![1]);
  expect(s.slice(startxref, startxref + 4)).toBe('xref');
  const [, first, count] = /^xref\n(\d+) (\d+)\n/.exec(s.slice(startxref))!;
  expect(Number(first)).toBe(0);
  const entries = s.slice(startxref).split('\n').slice(2, 2 + Number(count));
  entries.slice(1).forEach((entry, i) => {
    expect(entry).toMatch(/^\d{10} \d{5} n $/);
    const at = Number(entry.slice(0, 10));
    expect(s.slice(at, at + `${i + 1} 0 obj`.length)).toBe(`${i + 1} 0 obj`);
  });
  const stream = /<< \/Length (\d+) >>\nstream\n/.exec(s)!;
  const body = stream.index + stream[0].length;
  expect(s.slice(body + Number(stream[1]), body + Number(stream[1]) + '\nendstream'.length)).toMatch(/^\n?endstream/);
  expect(s).toMatch(/\/Type \/Catalog/);
  return s;
}

// ---- tests

describe('examples/ds-server', () => {
  it('lists its five tools with schemas and annotations', async () => {
    const { client } = await start();
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect([...byName.keys()].sort()).toEqual(['describe', 'export_executive_report', 'plot', 'stats', 'train_classifier']);
    expect(byName.get('describe')!.annotations?.readOnlyHint).toBe(true);
    expect(byName.get('stats')!.annotations?.readOnlyHint).toBe(true);
    expect(byName.get('plot')!.annotations?.readOnlyHint).toBe(false);
    expect(byName.get('plot')!.inputSchema.required).toEqual(['csv_path']);
    expect(byName.get('train_classifier')!.inputSchema.required).toEqual(['csv_path', 'target']);
    expect(byName.get('export_executive_report')!.outputSchema?.required).toEqual(
      expect.arrayContaining(['status', 'report_path', 'html_path']),
    );
  });

  it('describe summarises every column of tips.csv and writes no file', async () => {
    const { client, out } = await start();
    const res = jsonOf(await call(client, 'describe', { csv_path: TIPS }));
    expect(res.status).toBe('success');
    expect(res.rows).toBe(244);
    expect(Object.keys(res.columns)).toEqual(['total_bill', 'tip', 'sex', 'smoker', 'day', 'time', 'size']);
    const bill = res.columns.total_bill;
    expect(bill.dtype).toBe('numeric');
    expect(bill.count).toBe(244);
    expect(bill.mean).toBeCloseTo(19.785943, 5);
    expect(bill.std).toBeCloseTo(8.902412, 5);
    expect(bill.min).toBe(3.07);
    expect(bill.max).toBe(50.81);
    expect(res.columns.tip.mean).toBeCloseTo(2.998279, 5);
    expect(res.columns.sex).toMatchObject({ dtype: 'categorical', unique: 2, top: [{ value: 'Male', count: 157 }, { value: 'Female', count: 87 }] });
    expect(res.columns.day.top[0]).toEqual({ value: 'Sat', count: 87 });
    // A relative path resolves against the server's working folder.
    expect(jsonOf(await call(client, 'describe', { csv_path: 'examples/ds-server/tips.csv' })).rows).toBe(244);
    expect(await filesUnder(out)).toEqual([]);
  });

  it('stats returns numbers and correlations and writes no file', async () => {
    const { client, out } = await start();
    const res = jsonOf(await call(client, 'stats', { csv_path: TIPS }));
    expect(Object.keys(res.numeric)).toEqual(['total_bill', 'tip', 'size']);
    expect(res.numeric.tip.sum).toBeCloseTo(731.58, 6);
    expect(res.numeric.total_bill.median).toBeCloseTo(17.795, 6);
    expect(res.numeric.total_bill.skew).toBeCloseTo(1.133213, 4);
    expect(res.correlation.total_bill.tip).toBeCloseTo(0.675734, 5);
    expect(res.correlation.tip.tip).toBe(1);
    expect(await filesUnder(out)).toEqual([]);
  });

  it('plot writes a real PNG histogram and an SVG', async () => {
    const { client, out } = await start();
    const res = jsonOf(await call(client, 'plot', { csv_path: TIPS, column: 'total_bill' }));
    expect(res.status).toBe('success');
    expect(path.basename(res.plot_path)).toBe('tips_auto_hist_total_bill.png');
    expect(res.plot_paths).toEqual([res.plot_path, res.plot_path.replace(/\.png$/, '.svg')]);
    expect(res.plot_path.startsWith(out + path.sep)).toBe(true);

    const png = decodePng(await readFile(res.plot_path));
    expect(png.width).toBeGreaterThanOrEqual(400);
    expect(png.height).toBeGreaterThanOrEqual(300);
    // The bars are drawn: a good share of the image is the bar colour, and most of it is background.
    expect(shareOfColour(png.pixels, [76, 114, 176])).toBeGreaterThan(0.05);
    expect(shareOfColour(png.pixels, [255, 255, 255])).toBeGreaterThan(0.4);

    const svg = await readFile(res.plot_paths[1], 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect((svg.match(/<rect /g) ?? []).length).toBeGreaterThan(5);
    expect(svg).toContain('Histogram of total_bill');
  });

  it('plot draws a scatter of two numeric columns, a bar chart for a categorical one, and defaults to the first numeric column', async () => {
    const { client } = await start();
    const scatter = jsonOf(await call(client, 'plot', { csv_path: TIPS, kind: 'scatter', x: 'total_bill', y: 'tip' }));
    expect(path.basename(scatter.plot_path)).toBe('tips_auto_scatter_total_bill_vs_tip.png');
    expect(decodePng(await readFile(scatter.plot_path)).width).toBeGreaterThan(0);
    expect((await readFile(scatter.plot_paths[1], 'utf8')).match(/<circle /g)).toHaveLength(244);

    const bars = jsonOf(await call(client, 'plot', { csv_path: TIPS, column: 'day' }));
    expect(path.basename(bars.plot_path)).toBe('tips_auto_hist_day.png');
    expect(shareOfColour(decodePng(await readFile(bars.plot_path)).pixels, [76, 114, 176])).toBeGreaterThan(0.05);

    const auto = jsonOf(await call(client, 'plot', { csv_path: TIPS }));
    expect(path.basename(auto.plot_path)).toBe('tips_auto_hist_total_bill.png');
  });

  it('train_classifier trains a real model and saves model.json and metrics.json', async () => {
    const { client, out } = await start();
    const res = jsonOf(await call(client, 'train_classifier', { csv_path: TIPS, target: 'time' }));
    expect(res.status).toBe('success');
    expect(path.basename(res.model_path)).toBe('model.json');
    expect(path.basename(res.metrics_path)).toBe('metrics.json');
    expect(res.model_path.startsWith(out + path.sep)).toBe(true);
    expect(res.artifacts).toEqual([
      { path: res.model_path, type: 'model', label: 'classifier' },
      { path: res.metrics_path, type: 'metrics', label: 'metrics' },
    ]);
    const { metrics } = res;
    expect(metrics.accuracy).toBeGreaterThanOrEqual(0);
    expect(metrics.accuracy).toBeLessThanOrEqual(1);
    expect(metrics.n_train + metrics.n_test).toBe(244);
    expect(metrics.n_test).toBe(61);
    // Lunch vs dinner is easy to learn from the day of the week: far better than the majority class.
    expect(metrics.accuracy).toBeGreaterThan(metrics.baseline_accuracy);

    const model = JSON.parse(await readFile(res.model_path, 'utf8'));
    expect(model.model_type).toBe('multinomial_logistic_regression');
    expect(model.classes).toEqual(['Dinner', 'Lunch']);
    expect(model.weights).toHaveLength(2);
    expect(model.weights[0]).toHaveLength(model.encoded_features.length);
    const saved = JSON.parse(await readFile(res.metrics_path, 'utf8'));
    expect(saved).toMatchObject({ accuracy: metrics.accuracy, n_train: metrics.n_train, n_test: metrics.n_test });

    // Chosen features, a multi-class target, and a fresh folder for every call.
    const again = jsonOf(await call(client, 'train_classifier', { csv_path: TIPS, target: 'day', features: ['total_bill', 'tip', 'time'] }));
    expect(again.metrics.classes).toEqual(['Fri', 'Sat', 'Sun', 'Thur']);
    expect(again.metrics.features).toEqual(['total_bill', 'tip', 'time']);
    expect(path.dirname(again.model_path)).not.toBe(path.dirname(res.model_path));
  });

  it('export_executive_report writes a valid one-page PDF and an HTML report', async () => {
    const { client, out } = await start();
    const r = await call(client, 'export_executive_report', { csv_path: TIPS });
    const res = jsonOf(r);
    expect(r.structuredContent).toEqual(res);
    expect(res).toMatchObject({ status: 'success', dataset: 'tips', title: 'Tips executive report', rows: 244, columns: 7 });
    expect(path.basename(res.report_path)).toMatch(/^tips_executive_report_\d{8}\.pdf$/);
    expect(res.html_path).toBe(res.report_path.replace(/\.pdf$/, '.html'));
    expect(res.report_paths).toEqual([res.report_path, res.html_path]);
    expect(res.report_path.startsWith(out + path.sep)).toBe(true);

    const pdf = checkPdf(await readFile(res.report_path));
    expect(pdf).toContain('/Count 1');
    expect(pdf).toContain('(Rows: 244)');
    expect(pdf).toContain('(Mean tip: 3.00)');
    const html = await readFile(res.html_path, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<title>Tips executive report</title>');
    expect(html).toContain('<svg');

    const titled = jsonOf(await call(client, 'export_executive_report', { csv_path: TIPS, title: 'Q3 (draft) <tips>' }));
    expect(titled.title).toBe('Q3 (draft) <tips>');
    expect(checkPdf(await readFile(titled.report_path))).toContain('(Q3 \\(draft\\) <tips>)');
    expect(await readFile(titled.html_path, 'utf8')).toContain('<title>Q3 (draft) &lt;tips&gt;</title>');
  });

  it('parses quoted CSV fields: commas, doubled quotes, line breaks, CRLF and a BOM', async () => {
    const { client } = await start();
    const dir = await tempDir('ds-server-csv-');
    const csv = path.join(dir, 'quoted.csv');
    await writeFile(
      csv,
      '\ufeffname,amount,"note, with comma"\r\n' +
        '"Smith, Jane",1.5,"said ""hi"""\r\n' +
        '"Lee",2.5,"two\nlines"\r\n' +
        'Ng,,plain\r\n',
    );
    const res = jsonOf(await call(client, 'describe', { csv_path: csv }));
    expect(res.dataset).toBe('quoted');
    expect(res.rows).toBe(3);
    expect(Object.keys(res.columns)).toEqual(['name', 'amount', 'note, with comma']);
    expect(res.columns.name.top.map((t: { value: string }) => t.value).sort()).toEqual(['Lee', 'Ng', 'Smith, Jane']);
    expect(res.columns.amount).toMatchObject({ dtype: 'numeric', count: 2, missing: 1, mean: 2 });
    expect(res.columns['note, with comma'].top.map((t: { value: string }) => t.value)).toEqual(
      expect.arrayContaining(['said "hi"', 'two\nlines', 'plain']),
    );
  });

  it('answers bad input with isError results and keeps serving', async () => {
    const { client, protocolErrors } = await start();
    const dir = await tempDir('ds-server-bad-');
    const unterminated = path.join(dir, 'broken.csv');
    await writeFile(unterminated, 'a,b\n1,"oops\n2,3\n');
    const ragged = path.join(dir, 'ragged.csv');
    await writeFile(ragged, 'a,b\n1,2\n3,4,5\n');
    const empty = path.join(dir, 'empty.csv');
    await writeFile(empty, '');
    const folder = path.join(dir, 'folder.csv');
    await mkdir(folder);

    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['describe', { csv_path: path.join(dir, 'missing.csv') }, /csv_path not found/],
      ['stats', { csv_path: path.join(dir, 'missing.csv') }, /csv_path not found/],
      ['describe', { csv_path: folder }, /not a regular file/],
      ['describe', { csv_path: empty }, /empty/],
      ['describe', { csv_path: unterminated }, /never closed/],
      ['describe', { csv_path: ragged }, /row 2 has 3 fields/],
      ['plot', { csv_path: TIPS, column: 'nope' }, /unknown column 'nope'.*total_bill/],
      ['plot', { csv_path: TIPS, kind: 'scatter', x: 'total_bill', y: 'day' }, /'day' is categorical/],
      ['plot', { csv_path: TIPS, kind: 'pie' }, /kind/],
      ['plot', {}, /csv_path/],
      ['train_classifier', { csv_path: TIPS, target: 'nope' }, /unknown target 'nope'/],
      ['train_classifier', { csv_path: TIPS, target: 'total_bill' }, /continuous numeric/],
      ['train_classifier', { csv_path: TIPS, target: 'sex', features: ['tip', 'nope'] }, /unknown feature 'nope'/],
      ['train_classifier', { csv_path: TIPS, target: 'sex', features: ['sex'] }, /is the target/],
      ['export_executive_report', { csv_path: path.join(dir, 'missing.csv') }, /csv_path not found/],
    ];
    for (const [tool, args, message] of cases) {
      const r = await call(client, tool, args);
      expect(r.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(textOf(r)).toMatch(message);
    }
    // Still alive and well.
    expect(jsonOf(await call(client, 'describe', { csv_path: TIPS })).rows).toBe(244);
    expect(protocolErrors).toEqual([]);
  });

  it('keeps stdout for MCP and logs to stderr', async () => {
    const { client, out, stderr, protocolErrors } = await start();
    jsonOf(await call(client, 'plot', { csv_path: TIPS }));
    expect(protocolErrors).toEqual([]);
    // stderr is a separate pipe from the MCP messages, so its lines may arrive a moment later.
    await vi.waitFor(() => {
      expect(stderr()).toContain(`output folder ${out}`);
      expect(stderr()).toContain('plot: wrote');
    });
  });
});

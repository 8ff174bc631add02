// A hand-built one-page PDF 1.4: standard Helvetica fonts, text lines and an optional bar chart.
// Byte offsets in the xref table are computed from the exact bytes written.
import { Buffer } from 'node:buffer';

const PAGE_W = 595;
const PAGE_H = 842;
const MARGIN = 56;

/** PDF literal string: ASCII only (accents dropped, anything else becomes '?'), with \ ( ) escaped. */
export function pdfString(s) {
  const ascii = String(s)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/[\u2018\u2019\u201a\u2032]/g, "'")
    .replace(/[\u201c\u201d\u201e\u2033]/g, '"')
    .replace(/\u2026/g, '...')
    .replace(/[^\x20-\x7e]/g, '?');
  return `(${ascii.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

function pdfDate(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `D:${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

/** Greedy word wrap for Helvetica at the given size (average glyph width 0.5 em, a safe estimate). */
function wrap(text, size, width) {
  const maxChars = Math.max(10, Math.floor(width / (size * 0.5)));
  const words = String(text).split(/\s+/);
  const lines = [];
  let cur = '';
  for (const w of words) {
    if (cur && (cur + ' ' + w).length > maxChars) {
      lines.push(cur);
      cur = w;
    } else {
      cur = cur ? `${cur} ${w}` : w;
    }
    while (cur.length > maxChars) {
      lines.push(cur.slice(0, maxChars));
      cur = cur.slice(maxChars);
    }
  }
  if (cur) lines.push(cur);
  return lines;
}

const num = (v) => Number(v.toFixed(2));

/**
 * @param {{title: string, blocks: {text: string, size?: number, bold?: boolean, space?: number}[],
 *          chart?: {title: string, bars: {label: string, value: number}[]}, date?: Date}} doc
 * @returns {Buffer}
 */
export function buildPdf(doc) {
  const date = doc.date ?? new Date();
  const ops = [];
  const textWidth = PAGE_W - 2 * MARGIN;
  const chartTop = doc.chart ? 330 : MARGIN;
  let y = PAGE_H - MARGIN - 20;

  ops.push(`BT /F2 20 Tf ${MARGIN} ${y} Td ${pdfString(doc.title)} Tj ET`);
  y -= 12;
  ops.push(`0.30 0.45 0.69 RG 1.5 w ${MARGIN} ${y} m ${PAGE_W - MARGIN} ${y} l S`);
  y -= 10;

  let truncated = false;
  for (const block of doc.blocks) {
    const size = block.size ?? 11;
    const font = block.bold ? 'F2' : 'F1';
    y -= block.space ?? 0;
    for (const line of wrap(block.text, size, textWidth)) {
      y -= size * 1.45;
      if (y < chartTop + 10) {
        truncated = true;
        break;
      }
      ops.push(`BT /${font} ${size} Tf ${MARGIN} ${num(y)} Td ${pdfString(line)} Tj ET`);
    }
    if (truncated) break;
  }

  if (doc.chart && doc.chart.bars.length > 0) {
    const { bars } = doc.chart;
    const top = chartTop - 28;
    const bottom = MARGIN + 30;
    const left = MARGIN + 30;
    const right = PAGE_W - MARGIN;
    ops.push(`BT /F2 12 Tf ${MARGIN} ${chartTop - 14} Td ${pdfString(doc.chart.title)} Tj ET`);
    const maxV = Math.max(...bars.map((b) => b.value), 1e-9);
    const slot = (right - left) / bars.length;
    ops.push('0.30 0.45 0.69 rg');
    bars.forEach((b, i) => {
      const h = ((top - bottom) * b.value) / maxV;
      ops.push(`${num(left + i * slot + slot * 0.08)} ${bottom} ${num(slot * 0.84)} ${num(h)} re f`);
    });
    ops.push('0 g');
    ops.push(`0.2 0.2 0.2 RG 0.8 w ${left} ${bottom} m ${right} ${bottom} l S ${left} ${bottom} m ${left} ${top} l S`);
    ops.push(`BT /F1 8 Tf ${MARGIN} ${num(top - 4)} Td ${pdfString(String(num(maxV)))} Tj ET`);
    ops.push(`BT /F1 8 Tf ${MARGIN + 14} ${bottom - 3} Td (0) Tj ET`);
    const every = Math.ceil(bars.length / 12);
    bars.forEach((b, i) => {
      if (i % every === 0) ops.push(`BT /F1 8 Tf ${num(left + i * slot + 1)} ${bottom - 12} Td ${pdfString(b.label)} Tj ET`);
    });
  }
  ops.push(`BT /F1 8 Tf ${MARGIN} 30 Td ${pdfString(`Generated ${date.toISOString()} by the artifact-workspace example ds-server`)} Tj ET`);

  const stream = Buffer.from(`${ops.join('\n')}\n`, 'latin1');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE_W} ${PAGE_H}] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>',
    Buffer.concat([Buffer.from(`<< /Length ${stream.length} >>\nstream\n`, 'latin1'), stream, Buffer.from('endstream', 'latin1')]),
    `<< /Title ${pdfString(doc.title)} /Producer (artifact-workspace ds-server example) /CreationDate (${pdfDate(date)}) >>`,
  ];

  const parts = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = parts[0].length;
  const offsets = [];
  objects.forEach((body, i) => {
    const buf = Buffer.concat([
      Buffer.from(`${i + 1} 0 obj\n`, 'latin1'),
      Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'),
      Buffer.from('\nendobj\n', 'latin1'),
    ]);
    offsets.push(offset);
    parts.push(buf);
    offset += buf.length;
  });
  const xrefAt = offset;
  const xref = [`xref\n0 ${objects.length + 1}\n`, '0000000000 65535 f \n', ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`)].join('');
  parts.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 7 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(parts);
}

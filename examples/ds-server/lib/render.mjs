// Charts rendered twice from one layout: into an RGB pixel buffer encoded as PNG, and as SVG.
// Pure JavaScript: the PNG encoder uses node:zlib for deflate and its own CRC-32.
import { Buffer } from 'node:buffer';
import { deflateSync } from 'node:zlib';

// ---------------------------------------------------------------- PNG encoder

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf) {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([len, typeAndData, crc]);
}

/** Encode an 8-bit RGB buffer (width * height * 3 bytes) as a PNG file. */
export function encodePng(width, height, rgb) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour RGB
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    rgb.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---------------------------------------------------------------- 5x7 bitmap font

// Each glyph: 7 rows, 5 bits each, most significant bit on the left.
const GLYPHS = {
  '0': [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e],
  '1': [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
  '2': [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f],
  '3': [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
  '4': [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02],
  '5': [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
  '6': [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e],
  '7': [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
  '8': [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e],
  '9': [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
  A: [0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
  B: [0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e],
  C: [0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e],
  D: [0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c],
  E: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f],
  F: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10],
  G: [0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f],
  H: [0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
  I: [0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e],
  J: [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c],
  K: [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
  L: [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f],
  M: [0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11],
  N: [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
  O: [0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e],
  P: [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10],
  Q: [0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d],
  R: [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11],
  S: [0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e],
  T: [0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
  U: [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e],
  V: [0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04],
  W: [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a],
  X: [0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11],
  Y: [0x11, 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04],
  Z: [0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f],
  '.': [0, 0, 0, 0, 0, 0x0c, 0x0c],
  ',': [0, 0, 0, 0, 0x0c, 0x04, 0x08],
  '-': [0, 0, 0, 0x1f, 0, 0, 0],
  '+': [0, 0x04, 0x04, 0x1f, 0x04, 0x04, 0],
  _: [0, 0, 0, 0, 0, 0, 0x1f],
  ':': [0, 0x0c, 0x0c, 0, 0x0c, 0x0c, 0],
  '=': [0, 0, 0x1f, 0, 0x1f, 0, 0],
  '(': [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
  ')': [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
  '/': [0, 0x01, 0x02, 0x04, 0x08, 0x10, 0],
  '%': [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
  '?': [0x0e, 0x11, 0x01, 0x02, 0x04, 0, 0x04],
  ' ': [0, 0, 0, 0, 0, 0, 0],
};

const ADVANCE = 6; // 5 pixels of glyph + 1 of spacing

export function textWidth(s, scale = 1) {
  return s.length * ADVANCE * scale - scale;
}

// ---------------------------------------------------------------- raster canvas

export class Canvas {
  constructor(width, height, background = [255, 255, 255]) {
    this.width = width;
    this.height = height;
    this.data = Buffer.alloc(width * height * 3);
    this.fillRect(0, 0, width, height, background);
  }

  setPixel(x, y, [r, g, b]) {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 3;
    this.data[i] = r;
    this.data[i + 1] = g;
    this.data[i + 2] = b;
  }

  fillRect(x, y, w, h, color) {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.setPixel(xx, yy, color);
  }

  strokeRect(x, y, w, h, color) {
    this.line(x, y, x + w, y, color);
    this.line(x + w, y, x + w, y + h, color);
    this.line(x + w, y + h, x, y + h, color);
    this.line(x, y + h, x, y, color);
  }

  line(x0, y0, x1, y1, color) {
    x0 = Math.round(x0);
    y0 = Math.round(y0);
    x1 = Math.round(x1);
    y1 = Math.round(y1);
    const dx = Math.abs(x1 - x0);
    const dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1;
    const sy = y0 < y1 ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      this.setPixel(x0, y0, color);
      if (x0 === x1 && y0 === y1) break;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }

  fillCircle(cx, cy, r, color) {
    for (let y = -r; y <= r; y++) for (let x = -r; x <= r; x++) if (x * x + y * y <= r * r + r) this.setPixel(cx + x, cy + y, color);
  }

  /** Draw text with its top-left corner at (x, y); letters are drawn upper-case. */
  text(x, y, s, color, scale = 1) {
    let cx = Math.round(x);
    for (const ch of String(s).toUpperCase()) {
      const glyph = GLYPHS[ch] ?? GLYPHS['?'];
      for (let row = 0; row < 7; row++) {
        for (let col = 0; col < 5; col++) {
          if (glyph[row] & (0x10 >> col)) this.fillRect(cx + col * scale, Math.round(y) + row * scale, scale, scale, color);
        }
      }
      cx += ADVANCE * scale;
    }
  }

  toPng() {
    return encodePng(this.width, this.height, this.data);
  }
}

// ---------------------------------------------------------------- chart layout

export function niceStep(range, target = 6) {
  if (!(range > 0)) return 1;
  const raw = range / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return step * mag;
}

export function ticks(min, max, target = 6, minStep = 0) {
  const step = Math.max(minStep, niceStep(max - min, target));
  const out = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return { step, values: out };
}

export function formatTick(v, step) {
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step)));
  return v.toFixed(decimals);
}

/** numpy's "auto" rule: the larger of Sturges and Freedman-Diaconis, kept within [5, 50]. */
export function autoBins(sorted) {
  const n = sorted.length;
  const range = sorted[n - 1] - sorted[0];
  if (n < 2 || range === 0) return 1;
  const sturges = Math.ceil(Math.log2(n)) + 1;
  const q = (p) => {
    const pos = (n - 1) * p;
    const lo = Math.floor(pos);
    return sorted[lo] + (sorted[Math.ceil(pos)] - sorted[lo]) * (pos - lo);
  };
  const iqr = q(0.75) - q(0.25);
  const fd = iqr > 0 ? Math.ceil(range / ((2 * iqr) / Math.cbrt(n))) : 0;
  return Math.max(5, Math.min(50, Math.max(sturges, fd)));
}

export function histogram(values, bins) {
  const sorted = [...values].sort((a, b) => a - b);
  const k = bins ?? autoBins(sorted);
  let lo = sorted[0];
  let hi = sorted[sorted.length - 1];
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / k;
  const counts = new Array(k).fill(0);
  for (const v of sorted) counts[Math.min(k - 1, Math.floor((v - lo) / width))]++;
  return counts.map((count, i) => ({ x0: lo + i * width, x1: lo + (i + 1) * width, count }));
}

const W = 800;
const H = 500;
const M = { left: 72, right: 28, top: 56, bottom: 64 };

/**
 * A chart spec shared by both renderers.
 * kind "hist": bins [{x0, x1, count}]; kind "bar": bars [{label, count}]; kind "scatter": points [{x, y}].
 */
export function layoutChart(spec) {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  let xDomain;
  let yDomain;
  if (spec.kind === 'hist') {
    xDomain = [spec.bins[0].x0, spec.bins[spec.bins.length - 1].x1];
    yDomain = [0, Math.max(1, ...spec.bins.map((b) => b.count)) * 1.08];
  } else if (spec.kind === 'bar') {
    xDomain = [0, spec.bars.length];
    yDomain = [0, Math.max(1, ...spec.bars.map((b) => b.count)) * 1.08];
  } else {
    const xs = spec.points.map((p) => p.x);
    const ys = spec.points.map((p) => p.y);
    const pad = (lo, hi) => {
      const d = hi - lo || Math.abs(hi) || 1;
      return [lo - d * 0.05, hi + d * 0.05];
    };
    xDomain = pad(Math.min(...xs), Math.max(...xs));
    yDomain = pad(Math.min(...ys), Math.max(...ys));
  }
  const sx = (v) => M.left + ((v - xDomain[0]) / (xDomain[1] - xDomain[0])) * plotW;
  const sy = (v) => M.top + plotH - ((v - yDomain[0]) / (yDomain[1] - yDomain[0])) * plotH;
  // Counts get whole-number ticks.
  const yt = ticks(yDomain[0], yDomain[1], 6, spec.kind === 'scatter' ? 0 : 1);
  const yTicks = yt.values.map((v) => ({ pos: sy(v), label: formatTick(v, yt.step) }));
  let xTicks;
  if (spec.kind === 'bar') {
    const slot = plotW / spec.bars.length;
    const maxChars = Math.max(1, Math.floor((slot - 4) / ADVANCE));
    xTicks = spec.bars.map((b, i) => ({ pos: sx(i + 0.5), label: truncate(String(b.label), maxChars) }));
  } else {
    const t = ticks(xDomain[0], xDomain[1], 8);
    xTicks = t.values.map((v) => ({ pos: sx(v), label: formatTick(v, t.step) }));
  }
  const shapes = [];
  if (spec.kind === 'hist') {
    for (const b of spec.bins) shapes.push({ type: 'rect', x: sx(b.x0), y: sy(b.count), w: sx(b.x1) - sx(b.x0), h: sy(0) - sy(b.count) });
  } else if (spec.kind === 'bar') {
    spec.bars.forEach((b, i) => {
      const x0 = sx(i + 0.15);
      shapes.push({ type: 'rect', x: x0, y: sy(b.count), w: sx(i + 0.85) - x0, h: sy(0) - sy(b.count) });
    });
  } else {
    for (const p of spec.points) shapes.push({ type: 'dot', x: sx(p.x), y: sy(p.y) });
  }
  return { width: W, height: H, plot: { x: M.left, y: M.top, w: plotW, h: plotH }, title: spec.title, xLabel: spec.xLabel, yLabel: spec.yLabel, xTicks, yTicks, shapes };
}

function truncate(s, n) {
  return s.length <= n ? s : n <= 1 ? s.slice(0, n) : `${s.slice(0, n - 1)}.`;
}

const COLORS = {
  bg: [255, 255, 255],
  grid: [228, 232, 238],
  axis: [60, 60, 60],
  text: [30, 30, 30],
  fill: [76, 114, 176],
  edge: [40, 64, 110],
};

const hex = ([r, g, b]) => `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;

export function renderPng(layout) {
  const c = new Canvas(layout.width, layout.height, COLORS.bg);
  const { plot } = layout;
  for (const t of layout.yTicks) c.line(plot.x, t.pos, plot.x + plot.w, t.pos, COLORS.grid);
  for (const s of layout.shapes) {
    if (s.type === 'rect') {
      c.fillRect(s.x, s.y, s.w, s.h, COLORS.fill);
      c.strokeRect(s.x, s.y, s.w, s.h, COLORS.edge);
    } else {
      c.fillCircle(Math.round(s.x), Math.round(s.y), 3, COLORS.fill);
    }
  }
  c.line(plot.x, plot.y + plot.h, plot.x + plot.w, plot.y + plot.h, COLORS.axis);
  c.line(plot.x, plot.y, plot.x, plot.y + plot.h, COLORS.axis);
  for (const t of layout.yTicks) {
    c.line(plot.x - 5, t.pos, plot.x, t.pos, COLORS.axis);
    c.text(plot.x - 9 - textWidth(t.label), t.pos - 3, t.label, COLORS.text);
  }
  for (const t of layout.xTicks) {
    c.line(t.pos, plot.y + plot.h, t.pos, plot.y + plot.h + 5, COLORS.axis);
    c.text(t.pos - textWidth(t.label) / 2, plot.y + plot.h + 10, t.label, COLORS.text);
  }
  c.text((layout.width - textWidth(layout.title, 2)) / 2, 16, layout.title, COLORS.text, 2);
  c.text(plot.x + (plot.w - textWidth(layout.xLabel)) / 2, layout.height - 24, layout.xLabel, COLORS.text);
  c.text(8, plot.y - 16, layout.yLabel, COLORS.text);
  return c.toPng();
}

const esc = (s) => String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]);
const f1 = (v) => Number(v.toFixed(1));

export function renderSvg(layout) {
  const { plot } = layout;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" font-family="Helvetica, Arial, sans-serif">`);
  out.push(`<title>${esc(layout.title)}</title>`);
  out.push(`<rect width="${layout.width}" height="${layout.height}" fill="${hex(COLORS.bg)}"/>`);
  for (const t of layout.yTicks) out.push(`<line x1="${plot.x}" y1="${f1(t.pos)}" x2="${plot.x + plot.w}" y2="${f1(t.pos)}" stroke="${hex(COLORS.grid)}"/>`);
  for (const s of layout.shapes) {
    if (s.type === 'rect') {
      out.push(`<rect x="${f1(s.x)}" y="${f1(s.y)}" width="${f1(s.w)}" height="${f1(s.h)}" fill="${hex(COLORS.fill)}" stroke="${hex(COLORS.edge)}"/>`);
    } else {
      out.push(`<circle cx="${f1(s.x)}" cy="${f1(s.y)}" r="3.5" fill="${hex(COLORS.fill)}" fill-opacity="0.75"/>`);
    }
  }
  out.push(`<path d="M${plot.x},${plot.y}V${plot.y + plot.h}H${plot.x + plot.w}" fill="none" stroke="${hex(COLORS.axis)}"/>`);
  for (const t of layout.yTicks) {
    out.push(`<line x1="${plot.x - 5}" y1="${f1(t.pos)}" x2="${plot.x}" y2="${f1(t.pos)}" stroke="${hex(COLORS.axis)}"/>`);
    out.push(`<text x="${plot.x - 9}" y="${f1(t.pos + 4)}" font-size="12" text-anchor="end">${esc(t.label)}</text>`);
  }
  for (const t of layout.xTicks) {
    out.push(`<line x1="${f1(t.pos)}" y1="${plot.y + plot.h}" x2="${f1(t.pos)}" y2="${plot.y + plot.h + 5}" stroke="${hex(COLORS.axis)}"/>`);
    out.push(`<text x="${f1(t.pos)}" y="${plot.y + plot.h + 20}" font-size="12" text-anchor="middle">${esc(t.label)}</text>`);
  }
  out.push(`<text x="${layout.width / 2}" y="32" font-size="20" text-anchor="middle" font-weight="bold">${esc(layout.title)}</text>`);
  out.push(`<text x="${plot.x + plot.w / 2}" y="${layout.height - 16}" font-size="14" text-anchor="middle">${esc(layout.xLabel)}</text>`);
  out.push(`<text x="8" y="${plot.y - 10}" font-size="14">${esc(layout.yLabel)}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

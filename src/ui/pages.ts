// The workspace browser's pages as HTML strings (README "Workspace browser"): no framework, one
// stylesheet and one small script, both served from /ui. Every value from the workspaces (names,
// tool names, manifest fields) is escaped here; nothing from them becomes markup.
import type { Comparison, FileView, RunSummary, RunView } from './model.js';

export const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const seg = (s: string): string => encodeURIComponent(s);
export const fileUrl = (base: string, f: Pick<FileView, 'key'>): string => `${base}/file/${f.key.map(seg).join('/')}`;
const runUrl = (base: string, dataset: string, runId: string): string => `${base}/run/${seg(dataset)}/${seg(runId)}`;

export function human(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${u[i]}`;
}

function page(base: string, title: string, body: string, live?: { dataset?: string; runId?: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · artifact-workspace</title>
<link rel="stylesheet" href="${base}/app.css">
<script src="${base}/app.js" defer></script>
</head><body data-base="${esc(base)}"${live?.dataset ? ` data-dataset="${esc(live.dataset)}"` : ''}${live?.runId ? ` data-run="${esc(live.runId)}"` : ''}>
<header><a href="${base}/">artifact-workspace</a><span id="live" title="new artifacts appear here as they are filed">live</span></header>
<main id="main">${body}</main>
</body></html>`;
}

export function indexPage(base: string, data: { dataset: string; runs: RunSummary[] }[]): string {
  if (!data.length) return page(base, 'Workspaces', '<h1>Workspaces</h1><p class="empty">No datasets yet: call <code>ensure_workspace</code>, or run <code>artifact-workspace demo</code>.</p>', {});
  const sections = data.map(
    (d) => `<section><h2>${esc(d.dataset)}</h2><table class="runs"><thead><tr><th>run</th><th>files</th><th>size</th><th>tools</th></tr></thead><tbody>
${d.runs
  .map(
    (r) =>
      `<tr><td><a href="${runUrl(base, r.dataset, r.runId)}">${esc(r.runId)}</a>${r.latest ? ' <span class="tag">latest</span>' : ''}</td><td>${r.files}</td><td>${human(r.bytes)}</td><td>${r.tools.map(esc).join(', ')}</td></tr>`,
  )
  .join('\n')}</tbody></table></section>`,
  );
  return page(base, 'Workspaces', `<h1>Workspaces</h1>${sections.join('\n')}`, {});
}

function entryCell(f: FileView): string {
  const e = f.entry;
  if (!e) return '<td class="muted" colspan="3">no manifest entry</td>';
  return `<td>${esc(e.tool)}</td><td class="src" title="${esc(e.src)}">${esc(e.src)}</td><td><code class="sha" data-key="${esc(f.key.join('/'))}" data-sha="${esc(e.sha256)}">${esc(e.sha256.slice(0, 12))}</code> <span class="verify" data-key="${esc(f.key.join('/'))}"></span></td>`;
}

export function runPage(base: string, v: RunView, others: string[]): string {
  const s = v.summary;
  const byFolder = new Map<string, FileView[]>();
  for (const f of v.files) byFolder.set(f.folder, [...(byFolder.get(f.folder) ?? []), f]);
  const parts: string[] = [];
  parts.push(`<h1>${esc(s.dataset)} / ${esc(s.runId)}${s.latest ? ' <span class="tag">latest</span>' : ''}</h1>`);
  parts.push(`<p class="facts">${s.files} files · ${human(s.bytes)} · ${s.tools.map(esc).join(', ') || 'no tools yet'} · <a href="#" id="verify">verify files</a></p>`);
  if (others.length) {
    parts.push(
      `<form class="compare" method="get" action="${base}/compare/${seg(s.dataset)}/${seg(s.runId)}">compare with <select name="b">${others.map((o) => `<option>${esc(o)}</option>`).join('')}</select> <button>compare</button></form>`,
    );
  }
  for (const [folder, files] of byFolder) {
    parts.push(`<section class="folder" id="f-${esc(folder)}"><h2>${esc(folder)} <span class="muted">(${files.length})</span></h2>`);
    const images = files.filter((f) => /^image\//.test(f.mime));
    if (images.length) {
      parts.push(
        `<div class="thumbs">${images.map((f) => `<a class="thumb" href="${fileUrl(base, f)}" title="${esc(f.rel.join('/'))}"><img loading="lazy" src="${fileUrl(base, f)}" alt="${esc(f.rel.join('/'))}"><span>${esc(f.rel.join('/'))}</span></a>`).join('')}</div>`,
      );
    }
    parts.push(`<table class="files"><thead><tr><th>file</th><th>size</th><th>tool</th><th>source</th><th>sha256</th></tr></thead><tbody>`);
    for (const f of files) {
      const open = /^(text\/html|application\/pdf)/.test(f.mime) ? ` <a class="open" data-frame="${fileUrl(base, f)}" href="${fileUrl(base, f)}">open</a>` : '';
      parts.push(`<tr><td><a href="${fileUrl(base, f)}">${esc(f.rel.join('/'))}</a>${open}</td><td>${human(f.size)}</td>${entryCell(f)}</tr>`);
    }
    parts.push('</tbody></table>');
    if (folder === 'metrics') {
      for (const m of v.metrics) {
        parts.push(`<table class="metrics"><caption>${esc(m.name)}</caption><tbody>${Object.entries(m.values).map(([k, x]) => `<tr><th>${esc(k)}</th><td>${esc(typeof x === 'number' ? fmt(x) : x)}</td></tr>`).join('')}</tbody></table>`);
      }
    }
    parts.push('</section>');
  }
  if (v.truncated) parts.push(`<p class="muted">Only the first ${v.files.length} files are listed.</p>`);
  if (v.skipped.length) parts.push(`<section><h2>skipped</h2><ul>${v.skipped.map((k) => `<li><code>${esc(k.src)}</code>: ${esc(k.reason)}</li>`).join('')}</ul></section>`);
  parts.push('<dialog id="viewer"><form method="dialog"><button>close</button></form><iframe sandbox title="report"></iframe></dialog>');
  return page(base, `${s.dataset}/${s.runId}`, parts.join('\n'), { dataset: s.dataset, runId: s.runId });
}

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toPrecision(6).replace(/\.?0+$/, ''));

export function comparePage(base: string, c: Comparison): string {
  const list = (title: string, items: string[], cls: string) =>
    `<section><h2>${title} <span class="muted">(${items.length})</span></h2>${items.length ? `<ul class="${cls}">${items.map((p) => `<li><code>${esc(p)}</code></li>`).join('')}</ul>` : '<p class="muted">none</p>'}</section>`;
  const metrics = c.metrics.length
    ? `<table class="deltas"><thead><tr><th>file</th><th>metric</th><th>${esc(c.a)}</th><th>${esc(c.b)}</th><th>delta</th></tr></thead><tbody>${c.metrics
        .map(
          (m) =>
            `<tr><td>${esc(m.file)}</td><th>${esc(m.key)}</th><td>${m.a === undefined ? '' : esc(typeof m.a === 'number' ? fmt(m.a) : m.a)}</td><td>${m.b === undefined ? '' : esc(typeof m.b === 'number' ? fmt(m.b) : m.b)}</td><td class="delta ${m.delta === undefined ? '' : m.delta > 0 ? 'up' : m.delta < 0 ? 'down' : 'zero'}">${m.delta === undefined ? '' : `${m.delta > 0 ? '+' : ''}${fmt(m.delta)}`}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p class="muted">No metrics files in either run.</p>';
  const key = (run: string, p: string) => [c.dataset, run, ...p.split('/')];
  const plots = c.plots.length
    ? c.plots.map((p) => `<figure class="pair"><figcaption>${esc(p)}</figcaption><img loading="lazy" src="${fileUrl(base, { key: key(c.a, p) })}" alt="${esc(`${c.a} ${p}`)}"><img loading="lazy" src="${fileUrl(base, { key: key(c.b, p) })}" alt="${esc(`${c.b} ${p}`)}"></figure>`).join('')
    : '<p class="muted">No plots of the same name.</p>';
  const body = `<h1>${esc(c.dataset)}: <a href="${runUrl(base, c.dataset, c.a)}">${esc(c.a)}</a> → <a href="${runUrl(base, c.dataset, c.b)}">${esc(c.b)}</a></h1>
<p class="facts">${c.same} files the same · ${c.changed.length} changed · ${c.added.length} added · ${c.removed.length} removed</p>
<section><h2>metrics</h2>${metrics}</section>
${list('changed', c.changed, 'changed')}${list('added', c.added, 'added')}${list('removed', c.removed, 'removed')}
<section><h2>plots side by side</h2>${plots}</section>`;
  return page(base, `compare ${c.a} ${c.b}`, body, { dataset: c.dataset });
}

export const APP_CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2430;background:#fafbfc}
header{display:flex;justify-content:space-between;padding:.6em 1.2em;background:#1d2430}header a{color:#fff;font-weight:600;text-decoration:none}
#live{color:#8fa3bf;font-size:.85em}#live.on{color:#7ee2a8}main{padding:1em 1.5em;max-width:1400px}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}table{border-collapse:collapse;margin:.5em 0;background:#fff}
th,td{border:1px solid #e1e5ea;padding:.3em .6em;text-align:left;vertical-align:top}thead th{background:#f0f2f5}
.muted{color:#7a8594}.tag{background:#e6f4ea;color:#1e7b3c;border-radius:3px;padding:0 .4em;font-size:.8em}
.thumbs{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:.6em}
.thumb{display:block;background:#fff;border:1px solid #e1e5ea;padding:.3em;text-decoration:none;color:inherit;font-size:.8em;overflow:hidden}
.thumb img{width:100%;height:140px;object-fit:contain;display:block}.src{max-width:28em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.verify.ok::after{content:" ✓ verified";color:#1e7b3c}.verify.bad::after{content:" ✗ " attr(data-why);color:#b3261e}
.delta.up{color:#1e7b3c}.delta.down{color:#b3261e}.pair{display:grid;grid-template-columns:1fr 1fr;gap:.6em;margin:1em 0}
.pair figcaption{grid-column:1/3}.pair img{width:100%;background:#fff;border:1px solid #e1e5ea}
dialog{width:90vw;height:90vh;padding:0}dialog iframe{width:100%;height:calc(100% - 2.5em);border:0}
.flash{animation:flash 2s}@keyframes flash{from{background:#fff6cc}to{background:transparent}}`;

/** The browser's script: opens reports in a sandboxed frame, verifies on request, and keeps the page live. */
export const APP_JS = `(() => {
  const base = document.body.dataset.base;
  document.addEventListener('click', (ev) => {
    const a = ev.target.closest('a.open');
    if (a) {
      ev.preventDefault();
      const d = document.getElementById('viewer');
      d.querySelector('iframe').src = a.dataset.frame;
      d.showModal();
    }
    if (ev.target.id === 'verify') {
      ev.preventDefault();
      const { dataset, run } = document.body.dataset;
      fetch(base + '/api/verify/' + encodeURIComponent(dataset) + '/' + encodeURIComponent(run)).then((r) => r.json()).then((res) => {
        for (const el of document.querySelectorAll('.verify')) {
          const s = res[el.dataset.key];
          if (!s) continue;
          el.className = 'verify ' + (s.ok ? 'ok' : 'bad');
          if (!s.ok) el.dataset.why = s.why;
        }
      });
    }
  });
  if (!window.EventSource) return;
  const live = document.getElementById('live');
  const es = new EventSource(base + '/events');
  es.onopen = () => live.classList.add('on');
  es.onerror = () => live.classList.remove('on');
  es.addEventListener('changed', (ev) => {
    const c = JSON.parse(ev.data);
    const { dataset, run } = document.body.dataset;
    if (run && (c.dataset !== dataset || c.runId !== run)) return;
    fetch(location.href, { headers: { accept: 'text/html' } }).then((r) => r.text()).then((html) => {
      const next = new DOMParser().parseFromString(html, 'text/html').getElementById('main');
      if (!next) return;
      document.getElementById('main').replaceWith(next);
      next.classList.add('flash');
    });
  });
})();`;

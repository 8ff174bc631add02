// The workspace and the comparison of two runs as MCP Apps (SEP-1865; README "Workspace
// browser"): `ui://` resources that a host renders inside the conversation when get_workspace_info
// or compare_runs answers (each tool's `_meta.ui.resourceUri` points at its view). The view speaks the MCP Apps protocol with its host over
// postMessage (ui/initialize, then the tool result in ui/notifications/tool-result) and draws the
// result's structuredContent with DOM text nodes only: nothing from a workspace becomes markup.
// Hosts without MCP Apps get the same structured content as before.
import type { ListResourcesResult, ListResourceTemplatesResult, ReadResourceResult } from '@modelcontextprotocol/server';
import type { ResourceSource } from './sources.js';

export const WORKSPACE_VIEW_URI = 'ui://artifact-workspace/workspace.html';
export const COMPARE_VIEW_URI = 'ui://artifact-workspace/compare.html';
export const MCP_APP_MIME = 'text/html;profile=mcp-app';
/** The MCP Apps protocol revision the view speaks. */
export const MCP_APPS_PROTOCOL = '2026-01-26';

/**
 * A view page: its body, and the script that draws a tool result (`show(result)`, with `row` and
 * `list` helpers that write text nodes). The MCP Apps handshake is the same for every view.
 */
function viewPage(title: string, body: string, show: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
body{font:13px/1.45 system-ui,sans-serif;margin:.6em;color:#1d2430}h1{font-size:1.15em;margin:.2em 0}h2{font-size:1em;margin:.8em 0 .2em}
table{border-collapse:collapse;margin:.4em 0}th,td{border:1px solid #e1e5ea;padding:.2em .5em;text-align:left}
thead th{background:#f0f2f5}.muted{color:#7a8594}code{font-size:.92em}ul{margin:.2em 0;padding-left:1.3em}
.up{color:#1a7f37}.down{color:#b42318}
</style></head>
<body>${body}
<script>
(() => {
  let next = 1;
  const waiting = new Map();
  const send = (msg) => window.parent.postMessage(msg, '*');
  const request = (method, params) => new Promise((resolve, reject) => {
    const id = next++;
    waiting.set(id, { resolve, reject });
    send({ jsonrpc: '2.0', id, method, params });
  });
  const $ = (id) => document.getElementById(id);
  const row = (table, cells, cls) => {
    const tr = document.createElement('tr');
    cells.forEach((c, i) => {
      const td = document.createElement('td');
      td.textContent = String(c);
      if (cls && cls[i]) td.className = cls[i];
      tr.appendChild(td);
    });
    document.querySelector('#' + table + ' tbody').appendChild(tr);
  };
  const list = (id, items) => {
    const ul = $(id);
    ul.textContent = '';
    for (const x of items) {
      const li = document.createElement('li');
      li.textContent = String(x);
      ul.appendChild(li);
    }
    ul.hidden = !items.length;
    const h = $(id + '-h');
    if (h) h.hidden = !items.length;
  };
  const show = ${show};
  window.addEventListener('message', (ev) => {
    if (ev.source !== window.parent) return;
    const m = ev.data;
    if (!m || m.jsonrpc !== '2.0') return;
    if (m.id !== undefined && !m.method && waiting.has(m.id)) {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      return m.error ? w.reject(m.error) : w.resolve(m.result);
    }
    if (m.method === 'ui/notifications/tool-result') {
      const s = m.params && m.params.structuredContent;
      if (s && typeof s === 'object') show(s);
    }
  });
  request('ui/initialize', { appInfo: { name: 'artifact-workspace', version: '1' }, appCapabilities: {}, protocolVersion: '${MCP_APPS_PROTOCOL}' })
    .then(() => send({ jsonrpc: '2.0', method: 'ui/notifications/initialized', params: {} }))
    .catch(() => {});
})();
</script></body></html>`;
}

export const WORKSPACE_VIEW_HTML = viewPage(
  'Workspace',
  `<h1 id="title">Workspace</h1><p id="facts" class="muted">waiting for the tool result…</p>
<table id="counts" hidden><thead><tr><th>folder</th><th>files</th></tr></thead><tbody></tbody></table>
<table id="recent" hidden><thead><tr><th>file</th><th>type</th><th>tool</th><th>bytes</th><th>sha256</th></tr></thead><tbody></tbody></table>`,
  `(s) => {
    $('title').textContent = s.workspace ? s.workspace : 'No workspace yet';
    const files = Object.entries(s.counts || {}).filter(([k]) => k !== 'manifests');
    const total = files.reduce((n, [, v]) => n + Number(v || 0), 0);
    $('facts').textContent = s.workspace ? total + ' files · ' + Number(s.bytes || 0) + ' bytes · ' + (s.workspace_root || '') : 'Call ensure_workspace first.';
    for (const t of ['counts', 'recent']) document.querySelector('#' + t + ' tbody').textContent = '';
    for (const [k, v] of files) if (v) row('counts', [k, v]);
    $('counts').hidden = !files.some(([, v]) => v);
    const recent = Array.isArray(s.recent) ? s.recent : [];
    for (const e of recent) row('recent', [String(e.dst || '').split(/[\\\\/]/).pop(), e.type, e.tool, e.bytes, String(e.sha256 || '').slice(0, 12)]);
    $('recent').hidden = !recent.length;
  }`,
);

export const COMPARE_VIEW_HTML = viewPage(
  'Compare runs',
  `<h1 id="title">Compare runs</h1><p id="facts" class="muted">waiting for the tool result…</p>
<h2 id="added-h" hidden>Added in b</h2><ul id="added" hidden></ul>
<h2 id="removed-h" hidden>Removed from a</h2><ul id="removed" hidden></ul>
<h2 id="changed-h" hidden>Changed</h2><ul id="changed" hidden></ul>
<table id="metrics" hidden><thead><tr><th>file</th><th>metric</th><th>a</th><th>b</th><th>b − a</th></tr></thead><tbody></tbody></table>
<h2 id="plots-h" hidden>Plots in both</h2><ul id="plots" hidden></ul>`,
  `(s) => {
    const arr = (v) => (Array.isArray(v) ? v : []);
    $('title').textContent = String(s.dataset || '') + ': ' + String(s.a || '') + ' → ' + String(s.b || '');
    $('facts').textContent = arr(s.added).length + ' added · ' + arr(s.removed).length + ' removed · ' + arr(s.changed).length + ' changed · ' + Number(s.same || 0) + ' the same';
    for (const k of ['added', 'removed', 'changed', 'plots']) list(k, arr(s[k]));
    document.querySelector('#metrics tbody').textContent = '';
    const ms = arr(s.metrics);
    for (const m of ms) {
      const d = typeof m.delta === 'number' ? m.delta : undefined;
      const fmt = (v) => (v === undefined ? '—' : typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v));
      row('metrics', [m.file, m.key, fmt(m.a), fmt(m.b), d === undefined ? '' : (d > 0 ? '+' : '') + fmt(d)], [0, 0, 0, 0, d > 0 ? 'up' : d < 0 ? 'down' : '']);
    }
    $('metrics').hidden = !ms.length;
  }`,
);

const VIEWS = new Map([
  [WORKSPACE_VIEW_URI, { html: WORKSPACE_VIEW_HTML, name: 'workspace view', title: 'Workspace (MCP App)', description: 'How get_workspace_info is shown by hosts that render MCP Apps.' }],
  [COMPARE_VIEW_URI, { html: COMPARE_VIEW_HTML, name: 'compare view', title: 'Compare runs (MCP App)', description: 'How compare_runs is shown by hosts that render MCP Apps.' }],
]);

/** Our own `ui://` views: a proxy reads them from us, never from a server behind it. */
export function isAppView(uri: string): boolean {
  return VIEWS.has(uri);
}

/** The app views as resources: listed, and read by their `ui://` URI. */
export class AppViews implements ResourceSource {
  async listResources(): Promise<ListResourcesResult> {
    return { resources: [...VIEWS].map(([uri, v]) => ({ uri, name: v.name, title: v.title, description: v.description, mimeType: MCP_APP_MIME })) };
  }

  async listResourceTemplates(): Promise<ListResourceTemplatesResult> {
    return { resourceTemplates: [] };
  }

  readResource(uri: string): Promise<ReadResourceResult> | undefined {
    const view = VIEWS.get(uri);
    if (!view) return undefined;
    return Promise.resolve({ contents: [{ uri, mimeType: MCP_APP_MIME, text: view.html }] });
  }
}

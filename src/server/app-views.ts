// The workspace as an MCP App (SEP-1865; README "Workspace browser"): a `ui://` resource that a
// host renders inside the conversation when get_workspace_info answers (its tool's
// `_meta.ui.resourceUri` points here). The view speaks the MCP Apps protocol with its host over
// postMessage (ui/initialize, then the tool result in ui/notifications/tool-result) and draws the
// result's structuredContent with DOM text nodes only: nothing from a workspace becomes markup.
// Hosts without MCP Apps get the same structured content as before.
import type { ListResourcesResult, ListResourceTemplatesResult, ReadResourceResult } from '@modelcontextprotocol/server';
import type { ResourceSource } from './sources.js';

export const WORKSPACE_VIEW_URI = 'ui://artifact-workspace/workspace.html';
export const MCP_APP_MIME = 'text/html;profile=mcp-app';
/** The MCP Apps protocol revision the view speaks. */
export const MCP_APPS_PROTOCOL = '2026-01-26';

export const WORKSPACE_VIEW_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Workspace</title>
<style>
body{font:13px/1.45 system-ui,sans-serif;margin:.6em;color:#1d2430}h1{font-size:1.15em;margin:.2em 0}
table{border-collapse:collapse;margin:.4em 0}th,td{border:1px solid #e1e5ea;padding:.2em .5em;text-align:left}
thead th{background:#f0f2f5}.muted{color:#7a8594}code{font-size:.92em}
</style></head>
<body><h1 id="title">Workspace</h1><p id="facts" class="muted">waiting for the tool result…</p>
<table id="counts" hidden><thead><tr><th>folder</th><th>files</th></tr></thead><tbody></tbody></table>
<table id="recent" hidden><thead><tr><th>file</th><th>type</th><th>tool</th><th>bytes</th><th>sha256</th></tr></thead><tbody></tbody></table>
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
  const row = (table, cells) => {
    const tr = document.createElement('tr');
    for (const c of cells) {
      const td = document.createElement('td');
      td.textContent = String(c);
      tr.appendChild(td);
    }
    document.querySelector('#' + table + ' tbody').appendChild(tr);
  };
  const show = (result) => {
    const s = result && result.structuredContent;
    if (!s || typeof s !== 'object') return;
    document.getElementById('title').textContent = s.workspace ? s.workspace : 'No workspace yet';
    const files = Object.entries(s.counts || {}).filter(([k]) => k !== 'manifests');
    const total = files.reduce((n, [, v]) => n + Number(v || 0), 0);
    document.getElementById('facts').textContent = s.workspace ? total + ' files · ' + Number(s.bytes || 0) + ' bytes · ' + (s.workspace_root || '') : 'Call ensure_workspace first.';
    for (const t of ['counts', 'recent']) document.querySelector('#' + t + ' tbody').textContent = '';
    for (const [k, v] of files) if (v) row('counts', [k, v]);
    document.getElementById('counts').hidden = !files.some(([, v]) => v);
    const recent = Array.isArray(s.recent) ? s.recent : [];
    for (const e of recent) row('recent', [String(e.dst || '').split(/[\\\\/]/).pop(), e.type, e.tool, e.bytes, String(e.sha256 || '').slice(0, 12)]);
    document.getElementById('recent').hidden = !recent.length;
  };
  window.addEventListener('message', (ev) => {
    if (ev.source !== window.parent) return;
    const m = ev.data;
    if (!m || m.jsonrpc !== '2.0') return;
    if (m.id !== undefined && !m.method && waiting.has(m.id)) {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      return m.error ? w.reject(m.error) : w.resolve(m.result);
    }
    if (m.method === 'ui/notifications/tool-result') show(m.params);
  });
  request('ui/initialize', { appInfo: { name: 'artifact-workspace', version: '1' }, appCapabilities: {}, protocolVersion: '${MCP_APPS_PROTOCOL}' })
    .then(() => send({ jsonrpc: '2.0', method: 'ui/notifications/initialized', params: {} }))
    .catch(() => {});
})();
</script></body></html>`;

/** The app views as resources: listed, and read by their `ui://` URI. */
export class AppViews implements ResourceSource {
  async listResources(): Promise<ListResourcesResult> {
    return { resources: [{ uri: WORKSPACE_VIEW_URI, name: 'workspace view', title: 'Workspace (MCP App)', description: 'How get_workspace_info is shown by hosts that render MCP Apps.', mimeType: MCP_APP_MIME }] };
  }

  async listResourceTemplates(): Promise<ListResourceTemplatesResult> {
    return { resourceTemplates: [] };
  }

  readResource(uri: string): Promise<ReadResourceResult> | undefined {
    if (uri !== WORKSPACE_VIEW_URI) return undefined;
    return Promise.resolve({ contents: [{ uri, mimeType: MCP_APP_MIME, text: WORKSPACE_VIEW_HTML }] });
  }
}

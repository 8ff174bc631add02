// The workspace browser in a real headless browser (Debian's chromium, driven by playwright-core;
// no browser download), on workspaces the demo made: the run page's thumbnails load, the report
// opens sandboxed, the compare page shows metric deltas, files verify, and a new artifact appears
// without a reload. Then the guard: containment, Host rebinding, the token. With
// UPDATE_SCREENSHOTS=1 it writes the README's screenshots (docs/screenshots/).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { CLI, onCleanup, startInMemory } from '../helpers.js';
import { startHttpCli } from './http-session.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const have = fs.existsSync(CHROMIUM) && fs.existsSync(CLI);
// CI installs chromium and sets REQUIRE_BROWSER: there, a missing browser fails instead of skipping.
if (!have && process.env.REQUIRE_BROWSER) throw new Error(`REQUIRE_BROWSER is set but ${CHROMIUM} (or dist/) is missing`);
const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

/** What beforeAll made, undone in afterAll (onCleanup runs after each test). */
const suiteCleanup: (() => unknown)[] = [];

async function startUi(cwd: string, extra: string[] = [], env: NodeJS.ProcessEnv = process.env, forSuite = false): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'ui', '--port', '0', ...extra], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  (forSuite ? (f: () => unknown) => suiteCleanup.push(f) : onCleanup)(() => child.kill('SIGKILL'));
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /workspace browser at (\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(err)));
  });
}

/** A minimal MCP Apps host page: the view in a sandboxed frame; answers ui/initialize, then sends the tool result. */
async function renderApp(browser: Browser, html: string, result: unknown) {
  const page = await browser.newPage();
  await page.setContent('<iframe id="app" sandbox="allow-scripts"></iframe>');
  await page.evaluate(
    ({ html, result }) => {
      const g = globalThis as unknown as {
        document: { getElementById(id: string): { contentWindow: { postMessage(m: unknown, o: string): void }; srcdoc: string } };
        addEventListener(type: string, fn: (e: { data: { id?: number; method?: string } }) => void): void;
      };
      const app = g.document.getElementById('app');
      g.addEventListener('message', (e) => {
        const m = e.data;
        if (m.method === 'ui/initialize') app.contentWindow.postMessage({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: '2026-01-26', hostInfo: { name: 'test-host', version: '1' }, hostCapabilities: {}, hostContext: {} } }, '*');
        if (m.method === 'ui/notifications/initialized') app.contentWindow.postMessage({ jsonrpc: '2.0', method: 'ui/notifications/tool-result', params: result }, '*');
      });
      app.srcdoc = html;
    },
    { html, result },
  );
  return { page, frame: page.frameLocator('#app') };
}

describe.skipIf(!have)('the workspace browser', () => {
  let browser: Browser;
  let dir: string;
  let tips: string;
  let runs: string[];
  let url: string;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'aw-ui-')));
    suiteCleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    for (let i = 0; i < 2; i++) {
      const r = spawnSync(process.execPath, [CLI, 'demo', '--dir', dir], { encoding: 'utf8', timeout: 90_000 });
      expect(r.status, r.stderr).toBe(0);
    }
    tips = path.join(dir, '.uploaded', '_workspaces', 'tips');
    runs = fs.readdirSync(tips).filter((n) => /^\d{8}_\d{6}/.test(n)).sort();
    expect(runs).toHaveLength(2);
    // The second run trained a worse model: its metrics differ.
    const m = path.join(tips, runs[1]!, 'metrics', 'metrics.json');
    const metrics = JSON.parse(fs.readFileSync(m, 'utf8'));
    metrics.accuracy = Math.round((metrics.accuracy - 0.05) * 1e6) / 1e6;
    fs.writeFileSync(m, JSON.stringify(metrics));
    // Plots of the same name in both (the demo's names carry its upload's time, so they differ).
    for (const n of fs.readdirSync(path.join(tips, runs[0]!, 'plots'))) fs.copyFileSync(path.join(tips, runs[0]!, 'plots', n), path.join(tips, runs[1]!, 'plots', n));
    url = await startUi(dir, [], process.env, true);
  }, 200_000);

  afterAll(async () => {
    await browser?.close();
    for (const f of suiteCleanup.splice(0)) await f();
  });

  it('lists datasets and runs, newest first, with files, size and tools', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    const rows = await page.locator('table.runs tbody tr').allInnerTexts();
    expect(rows.map((r) => r.split('\t')[0]!.replace(/\s*latest$/, ''))).toEqual([...runs].reverse());
    expect(rows[0]).toMatch(/plot.*train_classifier/);
    await page.close();
  });

  it('shows a run: plot thumbnails loaded, the report opened in a sandboxed frame, metrics as a table, files verified', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${url}run/tips/${runs[0]}`);
    const thumbs = page.locator('.thumb img');
    expect(await thumbs.count()).toBe(2);
    for (const img of await thumbs.all()) {
      await img.scrollIntoViewIfNeeded();
      await expect.poll(() => img.evaluate((el) => (el as unknown as { complete: boolean; naturalWidth: number }).complete && (el as unknown as { naturalWidth: number }).naturalWidth > 0)).toBe(true);
    }
    expect(await page.locator('table.metrics th', { hasText: /^accuracy$/ }).count()).toBe(1);
    await page.click('#verify');
    await expect.poll(() => page.locator('.verify.ok').count()).toBeGreaterThanOrEqual(6);
    if (process.env.UPDATE_SCREENSHOTS) await page.screenshot({ path: path.join(SHOTS, 'run.png'), fullPage: true });

    await page.click('a.open[href$=".html"]');
    const frame = page.frameLocator('#viewer iframe');
    await expect.poll(() => frame.locator('body').innerText(), { timeout: 10_000 }).toMatch(/Executive|tips/i);
    // The report cannot script the browser: its frame is sandboxed, and so is the file itself.
    expect(await page.locator('#viewer iframe').getAttribute('sandbox')).toBe('');
    const res = await page.request.get(`${url}file/tips/${runs[0]}/reports/${fs.readdirSync(path.join(tips, runs[0]!, 'reports')).find((n) => n.endsWith('.html'))}`);
    expect(res.headers()['content-security-policy']).toMatch(/^sandbox/);
    await page.close();
  });

  it('compares two runs: metric deltas, changed files, plots side by side', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${url}run/tips/${runs[0]}`);
    await page.selectOption('form.compare select', runs[1]!);
    await page.click('form.compare button');
    await page.waitForURL(/\/compare\//);
    const row = page.locator('table.deltas tr').filter({ has: page.locator('th', { hasText: /^accuracy$/ }) });
    await expect.poll(() => row.locator('td.delta').innerText()).toBe('-0.05');
    expect(await page.locator('ul.changed li').allInnerTexts()).toContain('metrics/metrics.json');
    expect(await page.locator('.pair img').count()).toBe(4);
    if (process.env.UPDATE_SCREENSHOTS) await page.screenshot({ path: path.join(SHOTS, 'compare.png'), fullPage: true });
    await page.close();
  });

  it('shows a new artifact without a reload', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}run/tips/${runs[1]}`);
    await expect.poll(() => page.locator('#live.on').count()).toBe(1);
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 1));
    const plots = path.join(tips, runs[1]!, 'plots');
    const png = fs.readdirSync(plots).find((n) => n.endsWith('.png'))!;
    fs.copyFileSync(path.join(plots, png), path.join(plots, 'late.png'));
    await expect.poll(() => page.locator('.thumb img[alt="late.png"]').count(), { timeout: 15_000 }).toBe(1);
    // The same document: updated in place, not reloaded.
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(1);
    await page.close();
  });

  it('a run of 1,000 plots: one page, and the browser fetches only the thumbnails in view', async () => {
    const big = path.join(tips, '20200101_000000');
    for (const sub of ['plots', 'manifests']) fs.mkdirSync(path.join(big, sub), { recursive: true });
    const png = fs.readFileSync(path.join(tips, runs[0]!, 'plots', fs.readdirSync(path.join(tips, runs[0]!, 'plots')).find((n) => n.endsWith('.png'))!));
    for (let i = 0; i < 1000; i++) fs.writeFileSync(path.join(big, 'plots', `p${String(i).padStart(4, '0')}.png`), png);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const fetched = new Set<string>();
    page.on('request', (r) => {
      if (r.url().includes('/ui/file/')) fetched.add(r.url());
    });
    await page.goto(`${url}run/tips/20200101_000000`);
    expect(await page.locator('.thumb img').count()).toBe(1000);
    await page.waitForLoadState('networkidle');
    // Lazy: what is on screen (and a margin), not all 1,000.
    expect(fetched.size).toBeGreaterThan(0);
    expect(fetched.size).toBeLessThan(200);
    await page.close();
    fs.rmSync(big, { recursive: true, force: true });
  });

  it.each([
    ['a path out of the run', (r: string) => `file/tips/${r}/plots/..%2F..%2F..%2F..%2Fmcp.config.json`],
    ['an encoded slash', (r: string) => `file/tips/${r}%2Fplots%2Fx.png`],
    ['a hidden name', () => 'file/.aw-index/x'],
    ['a dataset that is not a slug', (r: string) => `file/Tips/${r}/plots/x.png`],
    ['a run id that is not one', () => 'file/tips/latest/plots/x.png'],
  ])('refuses %s', async (_why, p) => {
    const res = await fetch(`${url}${p(runs[0]!)}`);
    expect(res.status).toBe(404);
  });

  it('never follows a symlink out of the workspaces', async () => {
    const secret = path.join(dir, 'secret.txt');
    fs.writeFileSync(secret, 'top secret');
    fs.symlinkSync(secret, path.join(tips, runs[0]!, 'reports', 'link.txt'));
    const res = await fetch(`${url}file/tips/${runs[0]}/reports/link.txt`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('top secret');
  });

  it('refuses a rebound Host and a foreign Origin', async () => {
    const u = new URL(url);
    // fetch cannot set Host: node:http can.
    const rebound = await new Promise<number>((resolve) => {
      const req = http.request({ host: u.hostname, port: u.port, path: '/ui/', headers: { host: 'attacker.example' } }, (res) => resolve(res.statusCode!));
      req.end();
    });
    expect(rebound).toBe(403);
    expect((await fetch(url, { headers: { origin: 'https://attacker.example' } })).status).toBe(403);
  });

  it('with a token: refused without it, let in once with ?token= (kept in a cookie)', async () => {
    const u = await startUi(dir, ['--token', 's3cret']);
    expect((await fetch(u)).status).toBe(401);
    expect((await fetch(`${u}?token=wrong`)).status).toBe(401);
    const page = await browser.newPage();
    await page.goto(`${u}?token=s3cret`);
    expect(page.url()).toBe(u);
    expect(await page.locator('table.runs tbody tr').count()).toBe(2);
    await page.close();
  });

  it('is also served by the HTTP front at /ui, beside /mcp, under its token', async () => {
    const config = path.join(dir, 'front.json');
    fs.writeFileSync(config, JSON.stringify({ workspace: { root: path.join(dir, '.uploaded', '_workspaces') } }));
    const { url: mcp } = await startHttpCli(config, dir, { ...process.env, ARTIFACT_WORKSPACE_TOKEN: 'front-token' });
    const ui = mcp.replace(/\/mcp$/, '/ui/');
    expect((await fetch(ui)).status).toBe(401);
    const res = await fetch(ui, { headers: { authorization: 'Bearer front-token' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(await res.text()).toContain(`/ui/run/tips/${runs[0]}`);
  });

  it('get_workspace_info as an MCP App: a host renders the ui:// view with the tool result', async () => {
    const h = await startInMemory();
    const info = (await h.client.listTools()).tools.find((t) => t.name === 'get_workspace_info')!;
    const uri = (info._meta as { ui?: { resourceUri?: string } }).ui?.resourceUri;
    expect(uri).toBe('ui://artifact-workspace/workspace.html');
    const listed = (await h.client.listResources()).resources.find((r) => r.uri === uri);
    expect(listed?.mimeType).toBe('text/html;profile=mcp-app');
    const view = (await h.client.readResource({ uri: uri! })).contents[0] as { text: string; mimeType: string };
    expect(view.mimeType).toBe('text/html;profile=mcp-app');
    const src = path.join(dir, 'model.bin');
    fs.writeFileSync(src, 'weights');
    await h.call('ensure_workspace', { dataset: 'tips' });
    // A tool name with markup in it: shown as text, never as markup.
    await h.call('route_artifacts', { paths: [src], type: 'model', tool: '<b>evil</b>' });
    const result = await h.call('get_workspace_info');
    const { page, frame } = await renderApp(browser, view.text, result);
    await expect.poll(() => frame.locator('#title').innerText(), { timeout: 10_000 }).toMatch(/^tips\/\d{8}_\d{6}/);
    expect(await frame.locator('#recent tbody td').first().innerText()).toBe('model.bin');
    expect(await frame.locator('#recent tbody td').nth(2).innerText()).toBe('<b>evil</b>');
    expect(await frame.locator('#recent b').count()).toBe(0);
    await page.close();
  });

  it('compare_runs as an MCP App: the same comparison as the compare page, deltas and all', async () => {
    const h = await startInMemory({ flags: { root: path.join(dir, '.uploaded', '_workspaces') } });
    const tool = (await h.client.listTools()).tools.find((t) => t.name === 'compare_runs')!;
    const uri = (tool._meta as { ui?: { resourceUri?: string } }).ui?.resourceUri;
    expect(uri).toBe('ui://artifact-workspace/compare.html');
    expect((await h.client.listResources()).resources.find((r) => r.uri === uri)?.mimeType).toBe('text/html;profile=mcp-app');
    const view = (await h.client.readResource({ uri: uri! })).contents[0] as { text: string };
    // Through client.callTool: the result is checked against the tool's outputSchema.
    const result = await h.client.callTool({ name: 'compare_runs', arguments: { dataset: 'tips', a: runs[0], b: `tips/${runs[1]}` } });
    const s = result.structuredContent as { changed: string[]; metrics: { key: string; delta?: number }[]; plots: string[] };
    expect(s.changed).toContain('metrics/metrics.json');
    expect(s.metrics.find((m) => m.key === 'accuracy')?.delta).toBeCloseTo(-0.05, 6);
    const { page, frame } = await renderApp(browser, view.text, result);
    await expect.poll(() => frame.locator('#title').innerText(), { timeout: 10_000 }).toBe(`tips: ${runs[0]} → ${runs[1]}`);
    expect(await frame.locator('#changed li').allInnerTexts()).toContain('metrics/metrics.json');
    const acc = frame.locator('#metrics tbody tr', { has: frame.locator('td', { hasText: /^accuracy$/ }) });
    expect(await acc.locator('td').nth(4).innerText()).toBe('-0.05');
    expect(await acc.locator('td.down').count()).toBe(1);
    expect((await frame.locator('#plots li').allInnerTexts()).length).toBe(s.plots.length);
    await page.close();
  });

  it('will not serve beyond loopback without a token', () => {
    const r = spawnSync(process.execPath, [CLI, 'ui', '--host', '0.0.0.0', '--port', '0'], { cwd: dir, encoding: 'utf8', timeout: 20_000, env: { ...process.env, ARTIFACT_WORKSPACE_TOKEN: '' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/without a token/);
  });
});

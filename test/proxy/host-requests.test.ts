// A downstream server's own requests (sampling, elicitation, roots) cross the proxy to the host:
// they reach the host's handlers as sent, the answers (and errors) reach the server as given, the
// right session answers, cancellation crosses, and a host's roots changes reach the servers.
import { describe, expect, it } from 'vitest';
import type { Client, CallToolResult, CreateMessageRequest, ElicitRequest, Root } from '@modelcontextprotocol/client';
import { FIXTURE, connectHost, fixtureEntry, startDirect, startProxy, startProxyOnly, waitFor, type HostSetup } from './harness.js';

const SAMPLE = {
  messages: [{ role: 'user', content: { type: 'text', text: 'What is 2+2?' } }],
  systemPrompt: 'Be brief.',
  maxTokens: 50,
  metadata: { 'fixture/x': 1 },
};
const ELICIT = {
  message: 'Your details',
  requestedSchema: {
    type: 'object',
    properties: {
      name: { type: 'string', default: 'Ada' },
      age: { type: 'integer', minimum: 0 },
      colour: { type: 'string', oneOf: [{ const: 'r', title: 'Red' }, { const: 'g', title: 'Green' }] },
    },
    required: ['name'],
  },
};

/** A host that samples and elicits, recording what it was asked. */
function answering(model = 'test-model') {
  const seen: { sampling: CreateMessageRequest['params'][]; elicit: ElicitRequest['params'][] } = { sampling: [], elicit: [] };
  const setup: HostSetup = {
    capabilities: { sampling: {}, elicitation: { form: {} } },
    handlers: (c: Client) => {
      c.setRequestHandler('sampling/createMessage', (req) => {
        seen.sampling.push(req.params);
        return { model, role: 'assistant', content: { type: 'text', text: '4' }, stopReason: 'endTurn', _meta: { 'host/x': true } };
      });
      c.setRequestHandler('elicitation/create', (req) => {
        seen.elicit.push(req.params);
        return { action: 'accept', content: { name: 'Grace', age: 36, colour: 'g' } };
      });
    },
  };
  return { seen, setup };
}

const ask = (method: string, params: object) => ['ask_client', { method, params }] as const;
const code = (r: CallToolResult) => (r.structuredContent as { code?: number } | undefined)?.code;

describe('server requests through the proxy', () => {
  it('sampling and elicitation: the host gets the same requests and the server the same answers as directly', async () => {
    const direct = answering();
    const proxied = answering();
    const d = await startDirect({ command: process.execPath, args: [FIXTURE] }, direct.setup);
    const p = await startProxy({ mcpServers: { ds: fixtureEntry() } }, { host: proxied.setup });
    for (const [name, args] of [ask('sampling/createMessage', SAMPLE), ask('elicitation/create', ELICIT)]) {
      const viaProxy = await p.call(name, args);
      expect(viaProxy.isError).toBeFalsy();
      expect(viaProxy).toEqual(await d.call(name, args));
    }
    expect(proxied.seen).toEqual(direct.seen);
    expect(proxied.seen.sampling[0]).toMatchObject(SAMPLE);
    expect(proxied.seen.elicit[0]).toEqual(ELICIT);
  });

  it('a host without the capability: the server is not told it, and gets what it would get directly', async () => {
    // Declares form-mode elicitation only (and answers it), nothing else.
    const formOnly = (): HostSetup => ({
      capabilities: { elicitation: { form: {} } },
      handlers: (c) => c.setRequestHandler('elicitation/create', () => ({ action: 'decline' })),
    });
    const d = await startDirect({ command: process.execPath, args: [FIXTURE] }, formOnly());
    const p = await startProxy({ mcpServers: { ds: fixtureEntry() } }, { host: formOnly() });
    const url = { mode: 'url', message: 'Sign in', url: 'https://example.com/login', elicitationId: 'e1' };
    for (const [name, args] of [ask('sampling/createMessage', SAMPLE), ask('roots/list', {}), ask('elicitation/create', url)]) {
      const viaProxy = await p.call(name, args);
      expect(viaProxy.isError).toBe(true);
      expect(code(viaProxy)).toBe(code(await d.call(name, args)));
    }
    // Never declared to the server (the host did not declare them): the answer is the one the
    // server gets directly, word for word.
    for (const [name, args] of [ask('sampling/createMessage', SAMPLE), ask('roots/list', {})]) expect(await p.call(name, args)).toEqual(await d.call(name, args));
  });

  it('each session answers its own calls\' requests', async () => {
    const p = await startProxyOnly({ mcpServers: { ds: fixtureEntry() } });
    const a = await connectHost(p, answering('model-A').setup);
    const b = await connectHost(p, answering('model-B').setup);
    const model = async (h: typeof a) => ((await h.call(...ask('sampling/createMessage', SAMPLE))).structuredContent as { model: string }).model;
    expect(await model(a)).toBe('model-A');
    expect(await model(b)).toBe('model-B');
    expect(await model(a)).toBe('model-A');
    const [ra, rb] = await Promise.all([model(a), model(a)]);
    expect([ra, rb]).toEqual(['model-A', 'model-A']);
  });

  it('cancelling the call cancels the host request it is waiting on', async () => {
    let aborted = false;
    let asked = 0;
    const p = await startProxy(
      { mcpServers: { ds: fixtureEntry() } },
      {
        host: {
          capabilities: { sampling: {} },
          handlers: (c) =>
            c.setRequestHandler('sampling/createMessage', (_req, ctx) => {
              // The first is answered: the SDK ignores a cancellation of request id 0 (a falsy id).
              if (++asked === 1) return { model: 'm', role: 'assistant', content: { type: 'text', text: 'ok' } };
              ctx.mcpReq.signal.addEventListener('abort', () => (aborted = true));
              return new Promise(() => {});
            }),
        },
      },
    );
    expect((await p.call(...ask('sampling/createMessage', SAMPLE))).isError).toBeFalsy();
    const ac = new AbortController();
    const call = p.call(...ask('sampling/createMessage', SAMPLE), { signal: ac.signal }).catch((e: unknown) => e);
    await waitFor(() => asked === 2, 5000, 'the sampling request at the host');
    ac.abort('stop');
    expect(await call).toBeInstanceOf(Error);
    await waitFor(() => aborted, 5000, 'the host request to be cancelled');
  });

  it('roots: asked within a call; a host\'s roots change reaches the server, which asks again outside any call', async () => {
    let roots: Root[] = [{ uri: 'file:///work/one', name: 'one' }];
    const p = await startProxy(
      { mcpServers: { ds: fixtureEntry() } },
      { host: { capabilities: { roots: { listChanged: true } }, handlers: (c) => c.setRequestHandler('roots/list', () => ({ roots })) } },
    );
    expect((await p.call(...ask('roots/list', {}))).structuredContent).toEqual({ roots });
    roots = [{ uri: 'file:///work/two', name: 'two' }];
    await p.client.sendRootsListChanged();
    const log = await waitFor(() => p.logs.find((l) => (l.data as { why?: string }).why === 'list_changed'), 5000, 'the re-asked roots');
    expect(log.data).toEqual({ why: 'list_changed', roots });
  });

  it('servers start when the first host is ready, so one that asks at once is answered by that host', async () => {
    const p = await startProxyOnly({ mcpServers: { ds: fixtureEntry({ FIXTURE_ROOTS_ON_START: '1' }) } });
    // No host yet: nothing is started (the server would be told capabilities nobody declared).
    await new Promise((r) => setTimeout(r, 300));
    expect(p.proxy.downstreams[0]!.status).toBe('idle');
    const roots = [{ uri: 'file:///first', name: 'first' }];
    await connectHost(p, { capabilities: { roots: { listChanged: true } }, handlers: (c) => c.setRequestHandler('roots/list', () => ({ roots })) });
    const answered = await waitFor(() => p.stderr.find((l) => l.includes('fixture roots (start)')), 10_000, 'the roots request at start');
    expect(answered).toContain('file:///first');
    expect(answered).not.toMatch(/failed/);
  });
});

// A host may get a downstream prompt it knows from an earlier session without listing first.
import { describe, expect, it } from 'vitest';
import { fixtureEntry, startProxy } from './harness.js';

describe('downstream prompts without a list first', () => {
  it('prompts/get lists the servers once, then answers', async () => {
    const p = await startProxy({ mcpServers: { ds: fixtureEntry() } });
    const res = await p.client.getPrompt({ name: 'greet', arguments: { who: 'Ada' } });
    expect(JSON.stringify(res.messages)).toContain('Ada');
    await expect(p.client.getPrompt({ name: 'no_such_prompt' })).rejects.toThrow(/Unknown prompt: no_such_prompt/);
  });
});

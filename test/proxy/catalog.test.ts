import { describe, expect, it } from 'vitest';
import { buildCatalog, filterNames, type ServerItems } from '../../src/proxy/catalog.js';

type T = { name: string; inputSchema?: unknown; annotations?: unknown; _meta?: unknown };
const tools = (...names: string[]): T[] => names.map((name) => ({ name, inputSchema: { type: 'object', properties: { [name]: {} } } }));
const OWN = new Set(['ensure_workspace', 'route_artifacts', 'get_workspace_info']);
const names = (servers: ServerItems<T>[]) => buildCatalog(servers, OWN).entries.map((e) => `${e.exposed}<-${e.server}:${e.original}`);

describe('buildCatalog', () => {
  it.each<[string, ServerItems<T>[], string[]]>([
    ['unique names keep their names', [{ server: 'a', items: tools('x', 'y') }, { server: 'b', items: tools('z') }], ['x<-a:x', 'y<-a:y', 'z<-b:z']],
    ['a name on two servers is prefixed on both', [{ server: 'a', items: tools('x', 'y') }, { server: 'b', items: tools('x') }], ['a__x<-a:x', 'y<-a:y', 'b__x<-b:x']],
    ['three servers, one shared name', [{ server: 'a', items: tools('x') }, { server: 'b', items: tools('x') }, { server: 'c', items: tools('x', 'w') }], ['a__x<-a:x', 'b__x<-b:x', 'c__x<-c:x', 'w<-c:w']],
    ['our own names are never taken', [{ server: 'a', items: tools('ensure_workspace', 'get_workspace_info', 'p') }], ['a__ensure_workspace<-a:ensure_workspace', 'a__get_workspace_info<-a:get_workspace_info', 'p<-a:p']],
    // Another server's prefix is never a bare name: evil cannot take the name good's echo is reached by.
    ['a name in another server\'s prefix space is prefixed with its own server', [{ server: 'a', items: tools('x', 'b__x') }, { server: 'b', items: tools('x') }], ['a__x<-a:x', 'a__b__x<-a:b__x', 'b__x<-b:x']],
    ['good__echo from evil cannot hijack good\'s echo', [{ server: 'good', items: tools('echo') }, { server: 'evil', items: tools('echo', 'good__echo') }], ['good__echo<-good:echo', 'evil__echo<-evil:echo', 'evil__good__echo<-evil:good__echo']],
    ['… even when good\'s echo needs no prefix', [{ server: 'good', items: tools('echo') }, { server: 'evil', items: tools('good__echo') }], ['echo<-good:echo', 'evil__good__echo<-evil:good__echo']],
    ['a server may use its own prefix', [{ server: 'a', items: tools('a__x') }, { server: 'b', items: tools('y') }], ['a__x<-a:a__x', 'y<-b:y']],
    ['a prefixed name that is taken is dropped, not doubled', [{ server: 'a', items: tools('x', 'a__x') }, { server: 'b', items: tools('x') }], ['a__x<-a:x', 'b__x<-b:x']],
    ['no servers', [], []],
  ])('%s', (_title, servers, want) => {
    expect(names(servers)).toEqual(want);
  });

  it('keeps the item itself untouched, renaming only when prefixed', () => {
    const item: T = { name: 'x', inputSchema: { type: 'object', additionalProperties: false }, annotations: { readOnlyHint: true }, _meta: { k: 1 } };
    const solo = buildCatalog([{ server: 'a', items: [item] }], OWN);
    expect(solo.entries[0]!.item).toBe(item);
    const clash = buildCatalog([{ server: 'a', items: [item] }, { server: 'b', items: tools('x') }], OWN);
    expect(clash.byName.get('a__x')!.item).toEqual({ ...item, name: 'a__x' });
    expect(item.name).toBe('x');
  });

  it('reports what it dropped', () => {
    const c = buildCatalog([{ server: 'a', items: tools('x', 'a__x') }, { server: 'b', items: tools('x') }], OWN);
    expect(c.dropped).toEqual(['a: a__x (already the name of a: x)']);
  });

  it('filters before counting collisions: a denied tool does not force a prefix', () => {
    expect(names([{ server: 'a', items: tools('x') }, { server: 'b', items: tools('x'), deny: ['x'] }])).toEqual(['x<-a:x']);
  });
});

describe('allow / deny', () => {
  it.each<[string[] | undefined, string[] | undefined, string[]]>([
    [undefined, undefined, ['read_file', 'write_file', 'delete_file', 'list']],
    [['*_file'], undefined, ['read_file', 'write_file', 'delete_file']],
    [undefined, ['delete_*'], ['read_file', 'write_file', 'list']],
    [['*_file'], ['delete_*'], ['read_file', 'write_file']],
    [['list'], ['list'], []],
    [[], undefined, []],
  ])('allow %j deny %j', (allow, deny, want) => {
    expect(filterNames(tools('read_file', 'write_file', 'delete_file', 'list'), allow, deny).map((t) => t.name)).toEqual(want);
  });
});

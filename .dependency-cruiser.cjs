// The house's layering, enforced in `npm test` (README "Development"). Each room may use the rooms
// below it, never one above:
//   cli.ts (entry) → cli-main.ts → serve.ts → commands/ → proxy/ → server/ → routing/ → workspace/ → storage/
// with transports/ beside (used by serve and proxy; it uses none of the domain rooms), and the
// leaves (time, log, version, progress, config, expand) usable from anywhere. No file may sit in a cycle.
/** @type {import('dependency-cruiser').IConfiguration} */
const LEAVES = '^src/(time|log|version|progress|config|config-path|config-schema|expand|serve-argv|memory)\\.ts$';
const above = (...rooms) => `^src/(${rooms.join('|')})(/|\\.ts$)`;
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'files importing each other, however indirectly', from: {}, to: { circular: true } },
    { name: 'storage-is-the-floor', severity: 'error', from: { path: '^src/storage/' }, to: { path: above('workspace', 'routing', 'server', 'proxy', 'transports', 'commands', 'serve', 'main', 'cli-main') } },
    { name: 'workspace-below-routing', severity: 'error', from: { path: '^src/workspace/' }, to: { path: above('routing', 'server', 'proxy', 'transports', 'commands', 'serve', 'main', 'cli-main') } },
    { name: 'routing-below-server', severity: 'error', from: { path: '^src/routing/' }, to: { path: above('server', 'proxy', 'transports', 'commands', 'serve', 'main', 'cli-main') } },
    { name: 'server-below-proxy', severity: 'error', from: { path: '^src/server/' }, to: { path: above('proxy', 'transports', 'commands', 'serve', 'main', 'cli-main') } },
    { name: 'proxy-below-commands', severity: 'error', from: { path: '^src/proxy/' }, to: { path: above('commands', 'serve', 'main', 'cli-main') } },
    { name: 'commands-below-serve', severity: 'error', from: { path: '^src/commands/' }, to: { path: above('serve', 'main', 'cli-main') } },
    { name: 'transports-beside', severity: 'error', comment: 'the wire knows nothing of workspaces, routing, tools or the proxy', from: { path: '^src/transports/' }, to: { path: above('storage', 'workspace', 'routing', 'server', 'proxy', 'commands', 'serve', 'main', 'cli-main') } },
    { name: 'leaves-are-leaves', severity: 'error', from: { path: LEAVES }, to: { path: '^src/', pathNot: LEAVES } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};

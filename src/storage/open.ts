// Which store a workspaces root names. Every caller opens the store here, so a new backend is
// added in one place.
import { LocalStore, type LocalStoreOptions } from './local.js';
import { StoreRefusal, type WorkspaceStore } from './store.js';

export type StoreOptions = LocalStoreOptions;

/** Whether a root names an object store rather than a folder. */
export const isRemoteRoot = (root: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(root) && !root.startsWith('file://');

export async function openStore(root: string, opts: StoreOptions = {}): Promise<WorkspaceStore> {
  if (isRemoteRoot(root)) throw new StoreRefusal(`workspaces root ${root}: only local folders are supported`);
  return LocalStore.open(root, opts);
}

// Which store a workspaces root names. Every caller opens the store here, so a new backend is
// added in one place.
import { LocalStore, type LocalStoreOptions } from './local.js';
import { isRemoteRoot } from './paths.js';
import { StoreRefusal, type WorkspaceStore } from './store.js';
import type { S3StoreOptions } from './s3.js';

export type StoreOptions = LocalStoreOptions & Pick<S3StoreOptions, 'env' | 'forcePathStyle' | 'partBytes' | 'queue' | 'probe'>;

export { isRemoteRoot };

export async function openStore(root: string, opts: StoreOptions = {}): Promise<WorkspaceStore> {
  if (/^s3:\/\//i.test(root)) {
    // Loaded only for an s3:// root: the AWS SDK is not part of a local server's start.
    const { S3Store } = await import('./s3.js');
    return S3Store.open(root, opts);
  }
  if (isRemoteRoot(root)) throw new StoreRefusal(`workspaces root ${root}: only local folders and s3://BUCKET/PREFIX are supported`);
  return LocalStore.open(root, opts);
}

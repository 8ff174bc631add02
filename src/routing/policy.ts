// Which sources may be routed. The containment and deny-list checks are pure string functions
// (tested with plain strings, prefix attacks included); checkSource does the fs work at the edge.
import fs from 'node:fs/promises';
import type { Stats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isWithin } from '../storage/paths.js';

export interface SourcePolicy {
  /** Allowed source roots, real paths (symlinks resolved once, when the policy was made). */
  readonly roots: readonly string[];
  /** Real path of the home folder whose secrets are denied. */
  readonly homeDir: string;
  readonly platform: NodeJS.Platform;
}

export type SourceCheck =
  | { ok: true; real: string; stat: Stats; kind: 'file' | 'dir' }
  | { ok: false; reason: string };


export { isWithin };

/**
 * Why a folder is too broad to be an allowed source root, or null: the filesystem root, the home
 * folder, or any folder holding the home folder would let a tool result name every private file
 * the deny list does not know (shell histories, browser profiles, mail). Pure.
 */
export function broadRootReason(dir: string, homeDir: string, platform: NodeJS.Platform = process.platform): string | null {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const d = p.resolve(dir);
  if (d === p.parse(d).root) return 'the filesystem root';
  if (isWithin(homeDir, d, platform)) return isWithin(d, homeDir, platform) ? 'the home folder' : 'a folder holding the home folder';
  return null;
}

// Home-relative secrets: credentials a tool result must never exfiltrate into a workspace.
const HOME_SECRETS = ['.ssh', '.aws', '.gnupg', '.config/gcloud', '.azure', '.kube', '.docker/config.json', '.netrc', '.npmrc', '.pypirc', '.git-credentials', '.pgpass', '.config/gh/hosts.yml'];
const SYSTEM_DENY = ['/proc', '/sys', '/dev'];
const SECRET_EXT = ['.pem', '.key', '.p12', '.pfx', '.ppk', '.jks', '.keystore', '.kdbx'];
// Credential files by name, wherever they are (a copy in a project folder is still a credential).
const SECRET_NAMES = new Set(['.env', '.netrc', '.npmrc', '.pypirc', '.git-credentials', '.pgpass', 'credentials', 'credentials.json', 'application_default_credentials.json', 'service-account.json', 'service_account.json', 'keyfile.json']);

/** Why a real path is on the built-in deny list, or null. Pure. */
export function denyReason(realPath: string, homeDir: string, platform: NodeJS.Platform = process.platform): string | null {
  for (const s of HOME_SECRETS) {
    if (isWithin(realPath, path.join(homeDir, s), platform)) return `denied: secret (~/${s})`;
  }
  if (platform !== 'win32') {
    if (isWithin(realPath, '/etc/shadow', platform) || isWithin(realPath, '/etc/gshadow', platform)) return 'denied: secret (/etc/shadow)';
    for (const s of SYSTEM_DENY) if (isWithin(realPath, s, platform)) return `denied: system path (${s})`;
  }
  const base = path.basename(realPath);
  const lower = base.toLowerCase();
  if (lower === '.env' || lower.startsWith('.env.')) return 'denied: secret (.env)';
  if (SECRET_NAMES.has(lower)) return `denied: secret (${lower})`;
  const ext = path.extname(lower);
  if (SECRET_EXT.includes(ext)) return `denied: secret (*${ext})`;
  // SSH private keys (id_rsa, id_ed25519, id_ecdsa_sk, and copies like id_rsa.bak); `id_rsa.pub` is public.
  if (/^id_[a-z0-9_-]+(\..*)?$/.test(lower) && !lower.endsWith('.pub')) return 'denied: secret (id_*)';
  if (/^deploy[_-]?key/.test(lower) && !lower.endsWith('.pub')) return 'denied: secret (deploy key)';
  // Kerberos ticket caches (krb5cc_1000).
  if (lower.startsWith('krb5cc')) return 'denied: secret (krb5cc_*)';
  if (/(service[-_]?account|\bsa[-_]key).*\.json$/.test(lower)) return 'denied: secret (service account key)';
  return null;
}

/**
 * Why the first bytes of a file say it is a credential whatever its name, or null. Pure. A
 * renamed private key or cloud key file carries its own markers: PEM and OpenSSH private key
 * armour, PuTTY key files, Google service-account JSON, AWS credential files.
 */
export function secretContentReason(head: Buffer): string | null {
  const text = head.toString('latin1');
  if (/-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/.test(text)) return 'denied: secret (a private key)';
  if (text.startsWith('PuTTY-User-Key-File-')) return 'denied: secret (a PuTTY key)';
  if (/"type"\s*:\s*"service_account"/.test(text) && /"private_key"\s*:/.test(text)) return 'denied: secret (a service account key)';
  if (/^\s*aws_secret_access_key\s*=/m.test(text)) return 'denied: secret (AWS credentials)';
  return null;
}

/** Real path of `p`, or of its nearest existing ancestor plus the rest (a root made later). */
async function realOrNearest(p: string): Promise<string> {
  const abs = path.resolve(p);
  const tail: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      return path.join(await fs.realpath(cur), ...tail.reverse());
    } catch {
      const up = path.dirname(cur);
      if (up === cur) return abs;
      tail.push(path.basename(cur));
      cur = up;
    }
  }
}

/** Resolves the roots and home folder once; later checks compare against these real paths. */
export async function createSourcePolicy(opts: {
  roots: readonly string[];
  homeDir?: string;
  platform?: NodeJS.Platform;
}): Promise<SourcePolicy> {
  const roots = await Promise.all(opts.roots.filter((r) => r !== '').map(realOrNearest));
  return {
    roots: [...new Set(roots)],
    homeDir: await realOrNearest(opts.homeDir ?? os.homedir()),
    platform: opts.platform ?? process.platform,
  };
}

export function kindOf(st: Stats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSymbolicLink()) return 'symlink';
  return 'unknown';
}

export function errnoReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ELOOP') return 'symlink loop';
  if (code === 'ENAMETOOLONG') return 'path too long';
  return `cannot read (${code ?? (e instanceof Error ? e.message : String(e))})`;
}

/** Reasons a candidate string is not a usable path at all, before any fs call. */
export function pathSyntaxReason(p: unknown): string | null {
  if (typeof p !== 'string' || p === '') return 'empty path';
  if (p.includes('\0')) return 'path contains a NUL byte';
  return null;
}

/** Where a real path may be routed from, per policy; the containment rule every source obeys. */
export function policyReason(real: string, policy: SourcePolicy): string | null {
  const denied = denyReason(real, policy.homeDir, policy.platform);
  if (denied) return denied;
  if (!policy.roots.some((r) => isWithin(real, r, policy.platform))) return 'outside allowed source roots';
  return null;
}

/**
 * Resolves `p` (symlinks at every level) and checks it against the policy. The deny list is checked
 * before the roots so a refused secret says why; only regular files and folders pass.
 */
export async function checkSource(p: string, policy: SourcePolicy): Promise<SourceCheck> {
  const bad = pathSyntaxReason(p);
  if (bad) return { ok: false, reason: bad };
  let real: string;
  let stat: Stats;
  try {
    real = await fs.realpath(path.resolve(p));
    stat = await fs.lstat(real);
  } catch (e) {
    return { ok: false, reason: errnoReason(e) };
  }
  const denied = denyReason(real, policy.homeDir, policy.platform);
  if (denied) return { ok: false, reason: denied };
  if (!stat.isFile() && !stat.isDirectory()) return { ok: false, reason: `not a regular file (${kindOf(stat)})` };
  const why = policyReason(real, policy);
  if (why) return { ok: false, reason: why };
  return { ok: true, real, stat, kind: stat.isFile() ? 'file' : 'dir' };
}

// The S3 client as AWS tools configure it (README "S3 workspaces"), and S3 failures as reasons a
// user can act on. The endpoint comes from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, credentials
// from the SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, …), the
// region from AWS_REGION (default us-east-1). Checksums only where an operation requires them, so
// S3-compatible stores without the newest checksum headers work.
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { StoreRefusal } from './store.js';

export interface S3Location {
  bucket: string;
  /** Key segments every workspace key is below (may be empty). */
  prefix: string[];
}

export interface S3ClientOptions {
  env?: NodeJS.ProcessEnv;
  /** Path-style addressing; default: on when an endpoint is given (S3-compatible stores), else off. */
  forcePathStyle?: boolean;
  /** Attempts per request, throttling and 5xx retried with backoff (default 6). */
  maxAttempts?: number;
  /** Parallel connections to the endpoint (default 16). */
  maxSockets?: number;
}

// S3 bucket names: 3-63 of lower-case letters, digits, dots and hyphens, starting and ending with a
// letter or digit. Prefix segments follow our key rules (no `.`/`..`, no empty segment).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `s3://bucket/prefix/…` as bucket and prefix segments; an error that says what is wrong otherwise. */
export function parseS3Root(root: string): S3Location {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(root);
  if (!m) throw new StoreRefusal(`workspaces root ${root}: not an s3://BUCKET/PREFIX URI`);
  const bucket = m[1]!;
  if (!BUCKET.test(bucket) || bucket.includes('..')) throw new StoreRefusal(`workspaces root ${root}: "${bucket}" is not an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)`);
  const prefix = (m[2] ?? '').split('/').filter((s) => s !== '');
  for (const s of prefix) {
    if (s === '.' || s === '..' || s.startsWith('.') || /[\\\0]/.test(s)) throw new StoreRefusal(`workspaces root ${root}: prefix segment ${JSON.stringify(s)} is not allowed`);
  }
  return { bucket, prefix };
}

export function endpointOf(env: NodeJS.ProcessEnv): string | undefined {
  return env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
}

export function makeClient(opts: S3ClientOptions = {}): S3Client {
  const env = opts.env ?? process.env;
  const endpoint = endpointOf(env);
  const agent = { keepAlive: true, maxSockets: opts.maxSockets ?? 16 };
  return new S3Client({
    ...(endpoint && { endpoint }),
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    forcePathStyle: opts.forcePathStyle ?? !!endpoint,
    // Keys in the environment we were given (the SDK's own chain reads only process.env);
    // without them the chain's profile, SSO or instance role applies.
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY && {
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }) },
    }),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: opts.maxAttempts ?? 6,
    retryMode: 'standard',
    // A bucket in another region than AWS_REGION still answers (AWS redirects, the SDK follows).
    followRegionRedirects: true,
    requestHandler: {
      // An endpoint that does not answer fails in seconds, not after the OS's TCP timeout.
      connectionTimeout: 5000,
      // A stalled transfer (no bytes either way) fails; a slow one does not.
      socketTimeout: 120_000,
      httpAgent: new Agent(agent),
      httpsAgent: new HttpsAgent(agent),
    },
  });
}

/** HTTP status of an S3 failure, if it got that far. */
export const statusOf = (e: unknown): number | undefined => (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;

/** "Lost a conditional write": 412, or a 409 ConditionalRequestConflict (AWS) — or a 500 some engines answer racing writers with; callers re-check. */
export const isPreconditionFailed = (e: unknown): boolean => {
  const s = statusOf(e);
  return s === 412 || (s === 409 && (e as Error)?.name === 'ConditionalRequestConflict') || (e as Error)?.name === 'PreconditionFailed';
};

export const isNotFound = (e: unknown): boolean => {
  const s = statusOf(e);
  const n = (e as Error)?.name;
  return s === 404 || n === 'NotFound' || n === 'NoSuchKey';
};

/**
 * An S3 failure as a reason a person can act on: what went wrong and what to check. Becomes a
 * StoreRefusal, so the router records it per file in `skipped` and the tool call still answers.
 */
export function s3Reason(e: unknown, where: { bucket: string; endpoint?: string }): StoreRefusal {
  if (e instanceof StoreRefusal) return e;
  const err = e as Error & { code?: string; Code?: string };
  const name = err?.name ?? '';
  const status = statusOf(e);
  const at = where.endpoint ?? 'AWS S3';
  const code = err?.code ?? (err as { cause?: { code?: string } })?.cause?.code;
  let msg: string;
  if (name === 'NoSuchBucket') msg = `S3 bucket "${where.bucket}" does not exist at ${at}: create it, or fix the workspaces root`;
  else if (name === 'CredentialsProviderError') msg = `no S3 credentials found for bucket "${where.bucket}": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE`;
  else if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'TokenRefreshRequired'].includes(name))
    msg = `S3 refused the credentials (${name}) for bucket "${where.bucket}" at ${at}: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE`;
  else if (status === 403 && name !== 'AccessDenied')
    // A HEAD answer has no body to name the cause: either is possible.
    msg = `S3 answered 403 for bucket "${where.bucket}" at ${at}: the credentials are wrong or may not use this bucket (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE, and the bucket's policy)`;
  else if (status === 403) msg = `S3 denied access to bucket "${where.bucket}" at ${at} (AccessDenied): the credentials are valid but their policy does not allow this; check the IAM or bucket policy`;
  else if (name === 'NoSuchUpload') msg = `the upload was aborted meanwhile at ${at} (by another process's sweep, or a bucket lifecycle rule)`;
  else if (['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded'].includes(name) || status === 429 || status === 503)
    msg = `S3 at ${at} is throttling or unavailable (${name || status}) after retries with backoff: try again later`;
  else if (code && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE)$/.test(code)) msg = `cannot reach the S3 endpoint ${at} (${code})`;
  else if (name === 'TimeoutError' || /timed? ?out/i.test(err?.message ?? '')) msg = `the S3 endpoint ${at} did not answer in time (${err.message})`;
  else if (e instanceof S3ServiceException) msg = `S3 at ${at} answered ${status ?? '?'} ${name}${err.message && err.message !== name && err.message !== 'UnknownError' ? `: ${err.message}` : ''}`;
  else msg = `S3 request to ${at} failed: ${err?.message ?? String(e)}`;
  const out = new StoreRefusal(msg);
  (out as { cause?: unknown }).cause = e;
  return out;
}

// Signed OTA jobs, as the device checks them (src/ota/job.ts): Ed25519 over the canonical manifest
// (src/ota/canonical.ts: the job's JSON with sorted keys, without "signature").
import { createHash, sign, type KeyObject } from 'node:crypto';
import { manifestBytes } from '../../src/ota/canonical';
import { FleetError } from './errors';

export interface JobFields {
  id: string;
  version: string;
  url: string;
  size: number;
  /** Hex SHA-256 of the image. */
  sha256: string;
  allowDowngrade?: boolean;
  /** Epoch seconds. */
  expires?: number;
  /** The board type the image is built for (a device of another type refuses the job). */
  board?: string;
}

export type SignedJob = JobFields & { signature: string };

export function describeImage(bytes: Uint8Array): { size: number; sha256: string } {
  if (!bytes.length) throw new FleetError('image', 'the image is empty');
  return { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

export function signJob(fields: JobFields, key: KeyObject): SignedJob {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(fields.id)) throw new FleetError('usage', `job id "${fields.id}" must be 1-64 characters of A-Z a-z 0-9 . _ -`);
  const job: Record<string, unknown> = { ...fields };
  for (const k of Object.keys(job)) if (job[k] === undefined) delete job[k];
  if (job.allowDowngrade === false) delete job.allowDowngrade;
  const signature = sign(null, manifestBytes(job), key).toString('base64');
  return { ...(job as unknown as JobFields), signature };
}

// The messages between the hash pool (hash.ts) and its threads (hash-worker.ts). Kept apart so
// that a hashing thread loads nothing else (no FFI, no config) into its small heap.
import type { HashAlgorithm } from './hash.js';

export interface HashJob {
  id: number;
  fd: number;
  algorithms: HashAlgorithm[];
  /** Stop with TOO_LARGE once this many bytes were read (0: no limit). */
  maxBytes: number;
}

export type HashReply = { id: number; size: number; digests: string[] } | { id: number; error: string };

/** The worker's error for a file that reached the byte limit while it was read. */
export const TOO_LARGE = 'TOO_LARGE';
/** The worker's error for a job the pool cancelled. */
export const CANCELED = 'ECANCELED';
/** Written to a worker's cancel word: abandon whatever job runs (shutdown). */
export const CANCEL_ALL = -1;

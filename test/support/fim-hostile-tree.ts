// Hostile file names for the FIM tests: control characters and quotes, 255-byte names, a path of
// exactly PATH_MAX - 1 bytes, paths beyond PATH_MAX, names that are not UTF-8, and the race helper
// that catches the hash worker while it reads a file.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PATH_MAX } from '../../src/fim/scan.js';

/** Valid names that break naive quoting, line-based logs and JSON writers. */
export const ODD_NAMES = [
  'new\nline', 'tab\there', 'carriage\rreturn', 'quote"d', "single'quote", 'back\\slash', '\\"both\\"', 'ctl\x01\x1f\x7f',
  ' spaces ', 'sep\u2028arator', 'n'.repeat(255), '€'.repeat(85) /* 255 bytes in 85 characters */,
];

/** Bytes that are not UTF-8; the first two read as the same name, "bad\uFFFD", through a 'utf8' readdir. */
export const INVALID_NAMES = [Buffer.from('bad\xff', 'latin1'), Buffer.from('bad\xfe', 'latin1'), Buffer.from('latin1-caf\xe9', 'latin1')];

/** A valid name that a lossy decoding of INVALID_NAMES[0] and [1] collides with. */
export const REPLACEMENT_NAME = 'bad\uFFFD';

export interface LongPaths {
  /** A file whose absolute path is PATH_MAX - 1 bytes, the longest a system call accepts. */
  longest: string;
  /** Entries whose path is PATH_MAX bytes or more (a file, and a directory holding a file). */
  tooLong: string[];
}

/** Runs a shell command in `cwd`, which may be too deep for Node's path-based calls to reach below it. */
function shellIn(cwd: string, script: string, ...args: string[]): void {
  execFileSync('sh', ['-c', `cd "$1" && shift && ${script}`, 'sh', cwd, ...args]);
}

/** Builds directories of 255-byte names under `root` down to where a path reaches PATH_MAX. */
export function makeLongPaths(root: string): LongPaths {
  const component = 'd'.repeat(255);
  let dir = root;
  // the last name must leave room for one more byte: the entry one byte longer is "too long"
  while (PATH_MAX - 1 - Buffer.byteLength(dir) - 1 > 254) dir = path.join(dir, component);
  fs.mkdirSync(dir, { recursive: true });
  const nameLength = PATH_MAX - 1 - Buffer.byteLength(dir) - 1;
  const longest = path.join(dir, 'f'.repeat(nameLength));
  fs.writeFileSync(longest, 'at the limit\n');
  const overFile = 'g'.repeat(nameLength + 1);
  const overDir = 'h'.repeat(255);
  shellIn(dir, 'printf "one byte too long\\n" > "$1" && mkdir "$2" && printf "inside\\n" > "$2/inner"', overFile, overDir);
  return { longest, tooLong: [path.join(dir, overFile), path.join(dir, overDir)] };
}

/** Removes a tree that may hold paths beyond PATH_MAX (rm(1) walks them relatively). */
export function removeTree(dir: string): void {
  execFileSync('rm', ['-rf', '--', dir]);
}

/**
 * Resolves once this process holds `file` open, i.e. the hash worker is reading it, with the
 * fd's /proc path (which still reaches the inode after the path is deleted or replaced).
 */
export async function whileHashing(file: string): Promise<string> {
  // detects a hang only: the worker opens the file within milliseconds of the scan reaching it
  const deadline = Date.now() + 30_000;
  for (;;) {
    for (const fd of fs.readdirSync('/proc/self/fd')) {
      const link = `/proc/self/fd/${fd}`;
      try {
        if (fs.readlinkSync(link) === file) return link;
      } catch {
        // an fd closed since the listing
      }
    }
    if (Date.now() > deadline) throw new Error(`'${file}' was never opened for hashing`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** A sparse file of `gib` GiB: hashing it takes seconds, storing it takes no blocks. */
export function makeHuge(file: string, gib = 3): void {
  fs.truncateSync(file, gib * 2 ** 30);
}

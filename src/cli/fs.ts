// Output files: checked before any work, written via a temp file (or temp folder) and a
// rename, so a crash, an error or Ctrl-C never leaves half a file or a stray temp file.
import { accessSync, constants, lstatSync, mkdirSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';

// ---------------------------------------------------------------------------------------
// Live temp paths, removed on SIGINT / SIGTERM / SIGHUP and on any exit

const live = new Set<string>();
let handlersInstalled = false;

const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Removes every temp file and folder this process still has; safe to call at any time. */
export function removeLiveTemps(): void {
  for (const path of live) {
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      // best effort: the process is going down
    }
    live.delete(path);
  }
}

function track(path: string): void {
  live.add(path);
  if (handlersInstalled) return;
  // Installed with the first temp path, and kept: until then a signal keeps its default
  // action (the process ends at once, and there is nothing to clean up). Worker threads
  // end with process.exit; the handler does not wait for them.
  handlersInstalled = true;
  for (const [signal, code] of Object.entries(SIGNAL_EXIT) as [NodeJS.Signals, number][]) {
    process.on(signal, () => {
      removeLiveTemps();
      process.exit(code);
    });
  }
  process.on('exit', removeLiveTemps);
}

function untrack(path: string): void {
  live.delete(path);
}

const tempName = (path: string): string => `${path.replace(/\/+$/, '') || path}.tmp-${process.pid}`;

// ---------------------------------------------------------------------------------------
// Checks

export interface OutputCheck {
  /** The flag that named the path, for messages (default -o). */
  flag?: string;
  /** Files the command reads: the output must not be any of them (same device and inode). */
  inputs?: readonly (string | undefined)[];
  /** A file name for the "give a file path such as DIR/NAME" hint. */
  example?: string;
}

const label = (flag: string, path: string): string => `${flag} ${path === '' ? "''" : path}`;

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function kindOf(st: Stats): string {
  if (st.isFile()) return 'a file';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Refuses a path whose existing entry is not a regular file: writing by rename would
 * replace a device node, FIFO, socket or symbolic link with a regular file.
 */
function checkReplaceable(path: string, flag: string, example?: string): void {
  const st = lstatOrUndefined(path);
  if (!st || st.isFile()) return;
  if (st.isDirectory()) throw new InputError(`${label(flag, path)}: is a directory; give a file path${example ? ` such as ${join(path, example)}` : ' inside it'}`);
  if (st.isSymbolicLink()) {
    let target = '';
    try {
      target = ` (to ${readlinkSync(path)})`;
    } catch {
      // unreadable link: name it without its target
    }
    throw new InputError(`${label(flag, path)}: is a symbolic link${target}; nnvis replaces only regular files, so give the target path or another name`);
  }
  throw new InputError(`${label(flag, path)}: is ${kindOf(st)}; nnvis replaces only regular files, so give another path`);
}

/**
 * The first existing ancestor folder of `path` must be a writable directory (missing ones
 * are created when writing). True when that folder is the parent itself.
 */
function checkParent(path: string, flag: string): boolean {
  const parent = dirname(resolve(path));
  let dir = parent;
  for (;;) {
    let st: Stats | undefined;
    try {
      st = statSync(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new InputError(`${label(flag, path)}: cannot use ${dir} (${reason(err)})`);
    }
    if (st) {
      const shown = dir === parent ? dirname(path) : dir;
      if (!st.isDirectory()) throw new InputError(`${label(flag, path)}: ${shown} is not a directory; give a path inside a directory`);
      try {
        accessSync(dir, constants.W_OK | constants.X_OK);
      } catch (err) {
        throw new InputError(`${label(flag, path)}: cannot write in ${shown} (${reason(err)})`);
      }
      return dir === parent;
    }
    const up = dirname(dir);
    if (up === dir) return false;
    dir = up;
  }
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

function checkNotInput(path: string, flag: string, inputs: readonly (string | undefined)[]): void {
  let out: Stats;
  try {
    out = statSync(path);
  } catch {
    return; // does not exist yet, so it is no input
  }
  for (const input of inputs) {
    if (input === undefined) continue;
    let st: Stats;
    try {
      st = statSync(input);
    } catch {
      continue;
    }
    if (sameFile(out, st)) {
      const as = resolve(input) === resolve(path) ? '' : ` ${input}`;
      throw new InputError(`${label(flag, path)}: is the same file as the input${as}; writing it would overwrite that input, so give another output path`);
    }
  }
}

/**
 * Checks an output file path before the command does any work: not empty, not a
 * directory or other non-regular file, a writable parent, and none of the inputs.
 * Every problem is one InputError line naming the flag and the path.
 */
export function checkOutputFile(path: string, opts: OutputCheck = {}): void {
  const flag = opts.flag ?? '-o';
  const example = opts.example ?? 'out.nnvis';
  if (path.trim() === '') throw new InputError(`${label(flag, path)}: empty path; give a file path such as ${example}`);
  if (/[/\\]$/.test(path)) throw new InputError(`${label(flag, path)}: ends in a slash, which names a directory; give a file path such as ${join(path, example)}`);
  checkReplaceable(path, flag, example);
  if (checkParent(path, flag)) probe(path, flag);
  checkNotInput(path, flag, opts.inputs ?? []);
}

/**
 * Creates and removes the temp file the write will use, so a place that refuses new files
 * (/proc, a read-only mount, a full quota) fails now rather than after the work.
 */
function probe(path: string, flag: string): void {
  // Not tracked (that would install the signal handlers before the work): created and
  // removed in one synchronous step, under a name of its own.
  const tmp = `${path}.probe-${process.pid}`;
  try {
    quietRm(tmp); // a leftover of an earlier process with this pid
    writeFileSync(tmp, '', { flag: 'wx' });
  } catch (err) {
    throw new InputError(`${label(flag, path)}: cannot write (${reason(err)})`);
  } finally {
    quietRm(tmp);
  }
}

function quietRm(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // nothing more to do
  }
}

/** probe() for a folder output: creates and removes an empty folder beside it. */
function probeDir(dir: string, flag: string): void {
  const tmp = `${dir.replace(/\/+$/, '') || dir}.probe-${process.pid}`;
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
  } catch (err) {
    throw new InputError(`${label(flag, dir)}: cannot create it (${reason(err)})`);
  } finally {
    quietRm(tmp);
  }
}

/**
 * Checks an output directory and the files the command will write into it (`names`):
 * the directory is either missing (it is created) or a directory, and each file in it is
 * replaceable and none of the inputs.
 */
export function checkOutputDir(dir: string, names: readonly string[], opts: OutputCheck = {}): void {
  const flag = opts.flag ?? '-o';
  if (dir.trim() === '') throw new InputError(`${label(flag, dir)}: empty path; give a directory such as results/`);
  let st: Stats | undefined;
  try {
    st = statSync(dir); // a link to a directory is fine: files are written inside it, the link stays
  } catch {
    st = lstatOrUndefined(dir); // a dangling link, or missing
  }
  if (st && !st.isDirectory()) throw new InputError(`${label(flag, dir)}: exists and is ${kindOf(st)}; ${flag} takes an output directory`);
  if (!st) {
    if (checkParent(dir.replace(/\/+$/, '') || dir, flag)) probeDir(dir, flag);
    return;
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new InputError(`${label(flag, dir)}: cannot write in it (${reason(err)})`);
  }
  for (const name of names) {
    const inner = lstatOrUndefined(join(dir, name));
    if (inner && !inner.isFile()) {
      throw new InputError(`${label(flag, dir)}: its ${name} is ${kindOf(inner)}; nnvis replaces only regular files, so move it or give another directory`);
    }
    checkNotInput(join(dir, name), flag, opts.inputs ?? []);
  }
}

// ---------------------------------------------------------------------------------------
// Writing

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
  ENOENT: 'the file system refuses new entries there',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many symbolic links',
  EEXIST: 'already exists',
  ENOTEMPTY: 'a non-empty directory is in the way',
  EIO: 'input/output error',
  EBUSY: 'busy',
  EINVAL: 'invalid path for this file system',
  EMFILE: 'too many open files',
  EXDEV: 'crosses file systems',
};

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return (code && REASONS[code]) ?? code ?? 'unknown error';
}

/** A system error while writing `path` as one line; other errors pass through. */
function writeError(err: unknown, path: string, flag: string | undefined): unknown {
  if (err instanceof InputError || typeof (err as NodeJS.ErrnoException).code !== 'string') return err;
  return new InputError(`${flag ? label(flag, path) : path}: cannot write (${reason(err)})`);
}

const CHUNK_BYTES = 8 * 1024 * 1024;

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Writes `data` to a new file `tmp` in chunks, so the event loop (and a Ctrl-C handler) runs in between. */
async function writeChunked(tmp: string, data: Uint8Array): Promise<void> {
  quietRm(tmp); // a leftover of an earlier process with this pid
  const fh = await open(tmp, 'wx');
  try {
    for (let off = 0; off < data.length; ) {
      const { bytesWritten } = await fh.write(data, off, Math.min(CHUNK_BYTES, data.length - off));
      off += bytesWritten;
    }
  } finally {
    await fh.close();
  }
}

export interface WriteOptions {
  /** The flag that named the path, for messages. */
  flag?: string;
}

/**
 * Writes via a temp file and rename, so a crash or error never leaves half a file; the
 * temp file is removed on error and on SIGINT / SIGTERM. Synchronous: a signal is handled
 * once the write is done. Prefer writeFileAtomicAsync for large files.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, opts: WriteOptions = {}): void {
  const tmp = tempName(path);
  try {
    checkReplaceable(path, opts.flag ?? '-o');
    mkdirSync(dirname(path) || '.', { recursive: true });
    track(tmp);
    writeFileSync(tmp, data, { flag: 'w' });
    checkReplaceable(path, opts.flag ?? '-o');
    renameSync(tmp, path);
  } catch (err) {
    quietRm(tmp);
    throw writeError(err, path, opts.flag);
  } finally {
    untrack(tmp);
  }
}

/** writeFileAtomic, written in chunks so Ctrl-C during a large write removes the temp file and ends the process. */
export async function writeFileAtomicAsync(path: string, data: Uint8Array | string, opts: WriteOptions = {}): Promise<void> {
  const tmp = tempName(path);
  try {
    checkReplaceable(path, opts.flag ?? '-o');
    mkdirSync(dirname(path) || '.', { recursive: true });
    track(tmp);
    await writeChunked(tmp, toBytes(data));
    checkReplaceable(path, opts.flag ?? '-o');
    renameSync(tmp, path);
  } catch (err) {
    quietRm(tmp);
    throw writeError(err, path, opts.flag);
  } finally {
    untrack(tmp);
  }
}

/**
 * Writes a set of files into directory `dir`, all or nothing: a missing directory is
 * built as `dir.tmp-PID` and renamed into place; in an existing one every file is written
 * as `name.tmp-PID` first and the renames follow together. Other files in `dir` stay.
 */
export async function writeFilesAtomic(dir: string, files: ReadonlyMap<string, Uint8Array | string>, opts: WriteOptions = {}): Promise<void> {
  const flag = opts.flag ?? '-o';
  let exists = false;
  try {
    exists = statSync(dir).isDirectory();
  } catch {
    // missing: built beside it
  }
  if (!exists) {
    const tmpDir = tempName(dir);
    try {
      mkdirSync(dirname(resolve(dir)), { recursive: true });
      track(tmpDir);
      quietRm(tmpDir);
      mkdirSync(tmpDir);
      for (const [name, data] of files) await writeChunked(join(tmpDir, name), toBytes(data));
      renameSync(tmpDir, dir);
    } catch (err) {
      quietRm(tmpDir);
      throw writeError(err, dir, flag);
    } finally {
      untrack(tmpDir);
    }
    return;
  }
  const staged: [string, string][] = [];
  try {
    for (const [name, data] of files) {
      const path = join(dir, name);
      checkReplaceable(path, flag);
      const tmp = tempName(path);
      track(tmp);
      staged.push([tmp, path]);
      await writeChunked(tmp, toBytes(data));
    }
    for (const [, path] of staged) checkReplaceable(path, flag);
    for (const [tmp, path] of staged) renameSync(tmp, path);
  } catch (err) {
    for (const [tmp] of staged) quietRm(tmp);
    throw writeError(err, dir, flag);
  } finally {
    for (const [tmp] of staged) untrack(tmp);
  }
}

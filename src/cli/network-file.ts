import { constants as bufferConstants } from 'node:buffer';
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { PREFIX_BYTES, checkContainerHead, containerHeadBytes, decodeNetwork, encodeNetwork } from '../core/container.ts';
import { InputError } from '../core/errors.ts';
import type { Network } from '../core/network.ts';
import { printable } from '../core/text.ts';
import { writeFileAtomic } from './fs.ts';

// Node-side wrappers around the .nnvis container (docs/FORMAT.md).

/** The largest file a Buffer can hold; a header declaring more is refused before reading. */
const MAX_FILE_BYTES = bufferConstants.MAX_LENGTH;
/** readSync moves at most 2 GiB - 1 per call. */
const READ_PIECE = 1 << 30;

/**
 * Reads and validates a .nnvis file; every problem is an InputError naming `path`.
 *
 * Hostile paths and files cost nothing: only regular files are opened (a directory,
 * /dev/zero or a FIFO is refused after a stat), and the prefix and header are read and
 * checked against the file's size before the rest is read, so a header that promises
 * more than the file holds, or a file larger than its header says, is refused without
 * allocating for it.
 */
export function readNetworkFile(path: string): Network {
  const label = printable(path, 500);
  let fd: number;
  try {
    refuseIrregular(statSync(path), label);
    // O_NONBLOCK: should a FIFO appear between stat and open, opening it must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw openError(err, label);
  }
  try {
    const stats = fstatSync(fd);
    refuseIrregular(stats, label); // the path may have been swapped since the stat
    const size = stats.size;
    const head = containerHeadBytes(readAt(fd, Math.min(size, PREFIX_BYTES)), size, path);
    checkContainerHead(readAt(fd, head), size, path);
    if (size > MAX_FILE_BYTES) {
      throw new InputError(`${label}: is ${size} bytes, more than the ${MAX_FILE_BYTES} bytes this Node.js can hold in memory`);
    }
    return decodeNetwork(readAt(fd, size, label), path);
  } finally {
    closeSync(fd);
  }
}

/** Encodes first (which validates), then writes atomically: a bad network never touches the file. */
export function writeNetworkFile(path: string, net: Network): void {
  writeFileAtomic(path, encodeNetwork(net));
}

function refuseIrregular(stats: Stats, label: string): void {
  if (stats.isFile()) return;
  const what = stats.isDirectory()
    ? 'a directory'
    : stats.isCharacterDevice()
      ? 'a character device'
      : stats.isBlockDevice()
        ? 'a block device'
        : stats.isFIFO()
          ? 'a FIFO (named pipe)'
          : stats.isSocket()
            ? 'a socket'
            : 'not a regular file';
  throw new InputError(`${label}: is ${what}, expected a .nnvis file (a regular file)`);
}

/** The usual user mistakes become one-line messages; anything else is a real failure. */
function openError(err: unknown, label: string): unknown {
  if (err instanceof InputError) return err;
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new InputError(`${label}: file not found`);
    case 'EACCES':
    case 'EPERM':
      return new InputError(`${label}: permission denied`);
    case 'ELOOP':
      return new InputError(`${label}: too many levels of symbolic links`);
    case 'ENAMETOOLONG':
      return new InputError(`${label}: file name too long`);
    default:
      return err;
  }
}

/**
 * The first `length` bytes of the file (fewer if it shrank meanwhile; the decoder then
 * reports the truncation). A fresh, unpooled buffer: the decoded arrays are views into it.
 */
function readAt(fd: number, length: number, label?: string): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = Buffer.allocUnsafeSlow(length);
  } catch (err) {
    if (label !== undefined && err instanceof RangeError) throw new InputError(`${label}: not enough memory to read its ${length} bytes`);
    throw err;
  }
  let got = 0;
  while (got < length) {
    const n = readSync(fd, bytes, got, Math.min(length - got, READ_PIECE), got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? bytes : bytes.subarray(0, got);
}

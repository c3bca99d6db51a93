import { readFileSync } from 'node:fs';
import { decodeNetwork, encodeNetwork } from '../core/container.ts';
import { InputError } from '../core/errors.ts';
import type { Network } from '../core/network.ts';
import { writeFileAtomic } from './fs.ts';

// Node-side wrappers around the .nnvis container (docs/FORMAT.md).

/** Reads and validates a .nnvis file; every problem is an InputError naming `path`. */
export function readNetworkFile(path: string): Network {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    // The usual user mistakes become one-line messages; anything else is a real failure.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${path}: file not found`);
    if (code === 'EISDIR') throw new InputError(`${path}: is a directory, expected a .nnvis file`);
    if (code === 'EACCES') throw new InputError(`${path}: permission denied`);
    throw err;
  }
  return decodeNetwork(bytes, path);
}

/** Encodes first (which validates), then writes atomically: a bad network never touches the file. */
export function writeNetworkFile(path: string, net: Network): void {
  writeFileAtomic(path, encodeNetwork(net));
}

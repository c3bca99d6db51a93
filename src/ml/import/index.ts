// `nnvis import`: reads a trained dense network from the formats users have and returns the
// common `Network` (layers, activations, Keras-layout weights, biases). Picks the reader by
// extension, then trusts the file's content where the two disagree (an HDF5 file named
// .keras, a zip named .h5); a directory holding model.json is read as a tfjs model.

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Network } from '../../core/network.ts';
import { InputError } from '../../core/errors.ts';
import { printable } from '../../core/text.ts';
import { SUPPORTED_ACTIVATIONS, SUPPORTED_GRAPH_OPS, SUPPORTED_LAYERS, SUPPORTED_OPS } from './common.ts';

export { SUPPORTED_LAYERS } from './common.ts';
export { SUPPORTED_OPS } from './common.ts';

export const SUPPORTED_FORMATS = [
  'Supported model formats:',
  '  .json          TensorFlow.js layers or graph model (model.json + weight shards beside it; float32 or quantized weights)',
  '  .h5, .hdf5     Keras HDF5 model (model.save("model.h5"), Keras 2 or 3)',
  '  .keras         Keras 3 model (model.save("model.keras"))',
  '  .onnx          ONNX model',
  `Keras / tfjs layers: ${SUPPORTED_LAYERS}.`,
  `ONNX ops: ${SUPPORTED_OPS}.`,
  `TensorFlow.js graph-model ops: ${SUPPORTED_GRAPH_OPS}.`,
  `Activations: ${SUPPORTED_ACTIVATIONS}.`,
  'A 1-unit sigmoid output is read as 2 classes; BatchNormalization between dense layers is folded into them.',
].join('\n');

const EXTENSIONS = '.json (TensorFlow.js), .h5/.hdf5 (Keras HDF5), .keras (Keras 3), .onnx (ONNX)';

function isZip(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(4);
    return readSync(fd, buf, 0, 4, 0) === 4 && buf.readUInt32LE(0) === 0x04034b50;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Reads a trained model file into a Network; every problem with the file is an InputError. */
export async function importModel(path: string): Promise<Network> {
  const shown = printable(path, 1000);
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new InputError(`${shown}: file not found`);
  }
  if (stat.isDirectory()) {
    const json = join(path, 'model.json');
    try {
      statSync(json);
    } catch {
      throw new InputError(`${shown}: is a directory without model.json; give the model file (${EXTENSIONS})`);
    }
    return (await import('./tfjs.ts')).readTfjs(json);
  }
  // Devices, FIFOs and sockets could block or never end (/dev/zero); models are files.
  if (!stat.isFile()) throw new InputError(`${shown}: is not a regular file (a device, FIFO or socket); give the model file (${EXTENSIONS})`);
  const ext = extname(path).toLowerCase();
  switch (ext) {
    case '.json':
      return (await import('./tfjs.ts')).readTfjs(path);
    case '.h5':
    case '.hdf5':
    case '.keras': {
      const keras = await import('./keras.ts');
      if (keras.looksLikeHdf5(path)) return keras.readKerasH5(path);
      if (isZip(path)) return keras.readKerasZip(path);
      throw new InputError(`${shown}: is neither an HDF5 file nor a zip archive; expected a Keras ${ext} model`);
    }
    case '.onnx':
      return (await import('./onnx.ts')).readOnnx(path);
    default:
      throw new InputError(`${shown}: unknown model format '${printable(ext, 20) || '(no extension)'}'; supported: ${EXTENSIONS}`);
  }
}

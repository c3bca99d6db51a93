// The IDX format of the original MNIST files (and Fashion-MNIST's): a big-endian header
// — magic number, then one 32-bit size per dimension — followed by the unsigned bytes.
// Pure functions on a Uint8Array (no Node), checked: every mismatch is one InputError line
// that names the file and what was expected.
import { InputError } from '../core/errors.ts';
import type { Dataset } from './data.ts';

/** Unsigned bytes, 3 dimensions (count × rows × cols). */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** Unsigned bytes, 1 dimension (count). */
export const IDX_LABELS_MAGIC = 0x00000801;

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count × rows × cols grey values 0–255, row-major; a view into the input. */
  pixels: Uint8Array;
}

const hex = (v: number): string => `0x${v.toString(16).padStart(8, '0')}`;

function header(bytes: Uint8Array, file: string, magic: number, dims: number, what: string): number[] {
  const need = 4 + 4 * dims;
  const short = (): InputError =>
    new InputError(`${file}: ${bytes.length} bytes is too short for an IDX ${what} header (${need} bytes: magic ${hex(magic)} and ${dims} size${dims > 1 ? 's' : ''})`);
  if (bytes.length < 4) throw short();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = view.getUint32(0, false);
  if (found !== magic) {
    const other = found === IDX_IMAGES_MAGIC ? ' (that is an IDX image file)' : found === IDX_LABELS_MAGIC ? ' (that is an IDX label file)' : '';
    throw new InputError(`${file}: magic number ${hex(found)}${other}; an IDX ${what} file starts with ${hex(magic)}`);
  }
  if (bytes.length < need) throw short();
  return Array.from({ length: dims }, (_, d) => view.getUint32(4 + 4 * d, false));
}

function checkLength(bytes: Uint8Array, file: string, need: number, detail: string): void {
  if (bytes.length !== need) {
    const how = bytes.length < need ? 'truncated' : 'has trailing bytes';
    throw new InputError(`${file}: ${how}: ${bytes.length} bytes, but the header (${detail}) needs exactly ${need}`);
  }
}

/**
 * Reads an IDX image file. `expect` (e.g. { rows: 28, cols: 28 }) rejects other image sizes.
 */
export function parseIdxImages(bytes: Uint8Array, file: string, expect: { rows?: number; cols?: number; count?: number } = {}): IdxImages {
  const [count, rows, cols] = header(bytes, file, IDX_IMAGES_MAGIC, 3, 'image');
  if ((expect.rows !== undefined && rows !== expect.rows) || (expect.cols !== undefined && cols !== expect.cols)) {
    throw new InputError(`${file}: images are ${rows}×${cols}; expected ${expect.rows ?? rows}×${expect.cols ?? cols}`);
  }
  if (expect.count !== undefined && count !== expect.count) throw new InputError(`${file}: holds ${count} images; expected ${expect.count}`);
  if (rows === 0 || cols === 0) throw new InputError(`${file}: images are ${rows}×${cols}; both sizes must be positive`);
  checkLength(bytes, file, 16 + count * rows * cols, `${count} images of ${rows}×${cols}`);
  return { count, rows, cols, pixels: bytes.subarray(16) };
}

/** Reads an IDX label file; every label must be below `classes`. */
export function parseIdxLabels(bytes: Uint8Array, file: string, classes: number, expect: { count?: number } = {}): Uint8Array {
  const [count] = header(bytes, file, IDX_LABELS_MAGIC, 1, 'label');
  if (expect.count !== undefined && count !== expect.count) throw new InputError(`${file}: holds ${count} labels; expected ${expect.count}`);
  checkLength(bytes, file, 8 + count, `${count} labels`);
  const labels = bytes.subarray(8);
  const bad = labels.findIndex((l) => l >= classes);
  if (bad >= 0) throw new InputError(`${file}: label ${bad} is ${labels[bad]}; expected a class 0–${classes - 1}`);
  return labels;
}

/**
 * One IDX image file and its label file as a Dataset, grey values scaled to [0, 1].
 * `alloc` makes the arrays (e.g. on a SharedArrayBuffer, for worker threads).
 */
export function idxDataset(
  images: Uint8Array,
  labels: Uint8Array,
  files: { images: string; labels: string },
  classes: number,
  expect: { rows?: number; cols?: number; count?: number } = {},
  alloc: { floats: (n: number) => Float32Array; ints: (n: number) => Int32Array } = { floats: (n) => new Float32Array(n), ints: (n) => new Int32Array(n) },
): Dataset {
  const img = parseIdxImages(images, files.images, expect);
  const lab = parseIdxLabels(labels, files.labels, classes, { count: expect.count });
  if (img.count !== lab.length) {
    throw new InputError(`${files.labels}: holds ${lab.length} labels but ${files.images} holds ${img.count} images; they must pair up one to one`);
  }
  const features = img.rows * img.cols;
  const y = alloc.ints(lab.length);
  y.set(lab);
  return { x: scaleBytes(img.pixels, alloc.floats(img.pixels.length)), y, count: img.count, features, classes };
}

/** Grey values 0–255 as Float32 in [0, 1]. */
export function scaleBytes(bytes: Uint8Array, out: Float32Array = new Float32Array(bytes.length)): Float32Array {
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  return out;
}

/** The IDX bytes of images (count × rows × cols) — the inverse of parseIdxImages. */
export function encodeIdxImages(pixels: Uint8Array, count: number, rows: number, cols: number): Uint8Array {
  if (pixels.length !== count * rows * cols) throw new Error(`encodeIdxImages: ${pixels.length} bytes for ${count} images of ${rows}×${cols}`);
  const out = new Uint8Array(16 + pixels.length);
  const view = new DataView(out.buffer);
  [IDX_IMAGES_MAGIC, count, rows, cols].forEach((v, i) => view.setUint32(4 * i, v, false));
  out.set(pixels, 16);
  return out;
}

/** The IDX bytes of labels — the inverse of parseIdxLabels. */
export function encodeIdxLabels(labels: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(8 + labels.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, IDX_LABELS_MAGIC, false);
  view.setUint32(4, labels.length, false);
  for (let i = 0; i < labels.length; i++) out[8 + i] = labels[i];
  return out;
}

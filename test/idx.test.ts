// The IDX reader (src/ml/idx.ts) on small hand-made files: good ones round-trip, every
// malformed one is a one-line InputError naming the file and what was expected.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/core/errors.ts';
import { readIdxFile } from '../src/ml/datasets.ts';
import { encodeIdxImages, encodeIdxLabels, idxDataset, parseIdxImages, parseIdxLabels } from '../src/ml/idx.ts';
import { tempDir } from './helpers.ts';

const pixels = Uint8Array.from({ length: 3 * 2 * 2 }, (_, i) => i * 20);
const images = encodeIdxImages(pixels, 3, 2, 2);
const labels = encodeIdxLabels([2, 0, 1]);
const files = { images: 'imgs-idx3-ubyte', labels: 'labs-idx1-ubyte' };

/** The one-line InputError message `fn` throws. */
function inputError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    const message = (err as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    return message;
  }
  throw new Error('expected an InputError');
}

function withUint32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(offset, value, false);
  return copy;
}

describe('IDX reader', () => {
  it('reads images and labels into a dataset scaled to [0, 1]', () => {
    const img = parseIdxImages(images, files.images, { rows: 2, cols: 2, count: 3 });
    expect([img.count, img.rows, img.cols]).toEqual([3, 2, 2]);
    expect(Array.from(img.pixels)).toEqual(Array.from(pixels));
    expect(Array.from(parseIdxLabels(labels, files.labels, 3))).toEqual([2, 0, 1]);
    const d = idxDataset(images, labels, files, 3);
    expect([d.count, d.features, d.classes]).toEqual([3, 4, 3]);
    expect(Array.from(d.y)).toEqual([2, 0, 1]);
    expect(d.x[1]).toBeCloseTo(20 / 255, 6);
    expect(Math.max(...d.x)).toBeLessThanOrEqual(1);
  });

  it('inflates gzip files', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'plain'), images);
    writeFileSync(join(dir, 'zipped'), gzipSync(images));
    expect(readIdxFile(join(dir, 'zipped'))).toEqual(readIdxFile(join(dir, 'plain')));
    const broken = gzipSync(images).subarray(0, 20);
    writeFileSync(join(dir, 'broken.gz'), broken);
    expect(inputError(() => readIdxFile(join(dir, 'broken.gz')))).toContain('broken.gz: starts like gzip but does not inflate');
    expect(inputError(() => readIdxFile(join(dir, 'missing')))).toContain('missing: cannot be read (ENOENT)');
  });

  it.each([
    ['a wrong magic number', () => parseIdxImages(withUint32(images, 0, 0x00000802), files.images), 'imgs-idx3-ubyte: magic number 0x00000802; an IDX image file starts with 0x00000803'],
    ['labels given as images', () => parseIdxImages(labels, files.labels), 'that is an IDX label file'],
    ['images given as labels', () => parseIdxLabels(images, files.labels, 10), 'labs-idx1-ubyte' + ': magic number 0x00000803 (that is an IDX image file)'],
    ['a truncated header', () => parseIdxImages(images.subarray(0, 10), files.images), 'imgs-idx3-ubyte: 10 bytes is too short for an IDX image header (16 bytes'],
    ['truncated pixels', () => parseIdxImages(images.subarray(0, images.length - 1), files.images), 'imgs-idx3-ubyte: truncated: 27 bytes, but the header (3 images of 2×2) needs exactly 28'],
    ['trailing bytes', () => parseIdxLabels(Uint8Array.from([...labels, 0]), files.labels, 3), 'labs-idx1-ubyte: has trailing bytes: 12 bytes, but the header (3 labels) needs exactly 11'],
    ['a count larger than the data', () => parseIdxImages(withUint32(images, 4, 60000), files.images), 'needs exactly 240016'],
    ['other image dimensions', () => parseIdxImages(images, files.images, { rows: 28, cols: 28 }), 'imgs-idx3-ubyte: images are 2×2; expected 28×28'],
    ['zero-sized images', () => parseIdxImages(withUint32(withUint32(images, 8, 0), 12, 0), files.images), 'both sizes must be positive'],
    ['an unexpected image count', () => parseIdxImages(images, files.images, { count: 60000 }), 'imgs-idx3-ubyte: holds 3 images; expected 60000'],
    ['a label outside the classes', () => parseIdxLabels(labels, files.labels, 2), 'labs-idx1-ubyte: label 0 is 2; expected a class 0–1'],
    ['label and image counts that differ', () => idxDataset(images, encodeIdxLabels([0, 1]), files, 3), 'labs-idx1-ubyte: holds 2 labels but imgs-idx3-ubyte holds 3 images'],
  ])('rejects %s in one line', (_name, fn, text) => {
    expect(inputError(fn)).toContain(text);
  });
});

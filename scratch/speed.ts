import { initTf } from '../src/ml/tf.ts';
import { loadDataset } from '../src/ml/datasets.ts';
const tf = await initTf();
const c3 = tf.getKernel('Conv3DBackpropFilterV2', 'wasm')!;
tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: (args) => {
  const { x, dy } = args.inputs as any; const { strides, pad, filterShape } = args.attrs as any;
  const b = args.backend as any; 
  const rs = tf.getKernel('Reshape', 'wasm')!;
  const x5 = rs.kernelFunc({ inputs: { x }, backend: b, attrs: { shape: [x.shape[0], 1, ...x.shape.slice(1)] } }) as any;
  const dy5 = rs.kernelFunc({ inputs: { x: dy }, backend: b, attrs: { shape: [dy.shape[0], 1, ...dy.shape.slice(1)] } }) as any;
  const out = c3.kernelFunc({ inputs: { x: x5, dy: dy5 }, backend: b, attrs: { strides: typeof strides === 'number' ? [1, strides, strides] : [1, strides[0], strides[1]], pad, filterShape: [1, ...filterShape] } }) as any;
  const r = rs.kernelFunc({ inputs: { x: out }, backend: b, attrs: { shape: filterShape } });
  b.disposeData(x5.dataId); b.disposeData(dy5.dataId); b.disposeData(out.dataId);
  return r;
}});
const d = loadDataset('mnist');
const rnd = (s: number[], fan: number) => tf.variable(tf.randomUniform(s, -Math.sqrt(6 / fan), Math.sqrt(6 / fan), 'float32', 1));
const w1 = rnd([5,5,1,6], 25+150), b1 = tf.variable(tf.zeros([6]));
const w2 = rnd([5,5,6,16], 150+400), b2 = tf.variable(tf.zeros([16]));
const w3 = rnd([400,120], 520), b3 = tf.variable(tf.zeros([120]));
const w4 = rnd([120,84], 204), b4 = tf.variable(tf.zeros([84]));
const w5 = rnd([84,10], 94), b5 = tf.variable(tf.zeros([10]));
const f = (x: any) => {
  let h = tf.relu(tf.add(tf.conv2d(x, w1, 1, 'same'), b1)); h = tf.maxPool(h, 2, 2, 'valid');
  h = tf.relu(tf.add(tf.conv2d(h as any, w2, 1, 'valid'), b2)); h = tf.maxPool(h, 2, 2, 'valid');
  h = tf.reshape(h, [-1, 400]);
  h = tf.relu(tf.add(tf.matMul(h as any, w3), b3)); h = tf.relu(tf.add(tf.matMul(h as any, w4), b4));
  return tf.add(tf.matMul(h as any, w5), b5);
};
const opt = tf.train.adam(0.001);
const B = Number(process.argv[2] ?? 64);
for (let ep = 0; ep < Number(process.argv[3] ?? 1); ep++) {
const t0 = Date.now();
for (let s = 0; s + B <= d.train.count; s += B) {
  tf.tidy(() => {
    const x = tf.tensor4d(d.train.x.subarray(s*784,(s+B)*784), [B,28,28,1]);
    const y = tf.oneHot(tf.tensor1d(d.train.y.subarray(s,s+B),'int32'),10);
    opt.minimize(() => tf.losses.softmaxCrossEntropy(y, f(x)) as any);
  });
  if (s === B*50) console.log('50 batches', (Date.now()-t0)/1000);
}
const t1 = Date.now();
const p = tf.tidy(() => f(tf.tensor4d(d.test.x, [d.test.count,28,28,1])).argMax(-1).dataSync());
let ok=0; for (let i=0;i<d.test.count;i++) if (p[i]===d.test.y[i]) ok++;
console.log('epoch', ep, (t1-t0)/1000, 's; acc', ok/d.test.count, 'eval', (Date.now()-t1)/1000);
}

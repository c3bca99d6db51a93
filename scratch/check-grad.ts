import { initTf } from '../src/ml/tf.ts';
const tf = await initTf();
for (const [pad, s, h, k, ci, co] of [['same', 1, 28, 5, 1, 6], ['valid', 1, 14, 5, 6, 16], ['same', 1, 9, 4, 3, 2], ['valid', 2, 11, 3, 2, 3], ['same', 2, 10, 3, 2, 3]] as const) {
  const x = tf.randomUniform([3, h, h, ci], -1, 1, 'float32', 1);
  const w = tf.randomUniform([k, k, ci, co], -1, 1, 'float32', 2);
  const y = tf.conv2d(x as any, w as any, s, pad);
  const dy = tf.randomUniform(y.shape, -1, 1, 'float32', 3);
  const g = (xx: any, dd: any) => tf.grad((ww: any) => tf.sum(tf.mul(tf.conv2d(xx, ww, s, pad), dd)))(tf.tensor(w.dataSync(), w.shape) as any);
  const got = g(x, dy);
  // reference: numeric by definition via gradient of sum(conv*dy) on cpu
  await tf.setBackend('cpu');
  const ref = g(tf.tensor(x.dataSync(), x.shape), tf.tensor(dy.dataSync(), dy.shape));
  const diff = tf.max(tf.abs(tf.sub(ref, tf.tensor(got.dataSync(), got.shape)))).dataSync()[0];
  console.log(pad, s, h, k, ci, co, 'max diff', diff);
  await tf.setBackend('wasm');
}

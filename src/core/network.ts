// The one data model every stage passes along: a dense classifier as flat typed arrays
// (struct of arrays), so the same buffers go to tfjs, the bundling engine and the GPU.
//
// Orderings, fixed for all arrays:
// - nodes: layer by layer, then node index inside the layer (N = sum of layers);
// - edges: layer gap by layer gap, then source node, then target node (E = sum n_k * n_k+1).
//   Inside one gap this is exactly a Keras/tfjs kernel [inputs, units] in row-major order.

export const ACTIVATIONS = [
  'linear',
  'relu',
  'sigmoid',
  'tanh',
  'softmax',
  'leaky_relu',
  'elu',
  'selu',
  'gelu',
  'gelu_tanh',
  'swish',
  'softplus',
  'hard_sigmoid',
] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/**
 * Parameters of the activations that take them (docs/FORMAT.md): leaky_relu and elu `alpha`,
 * selu `alpha` and `gamma`, hard_sigmoid `alpha` (slope) and `beta` (offset). A missing one
 * takes its value in ACTIVATION_DEFAULTS (ONNX's defaults).
 */
export interface ActivationParams {
  alpha?: number;
  beta?: number;
  gamma?: number;
}

export const ACTIVATION_DEFAULTS: Partial<Record<Activation, Required<Pick<ActivationParams, 'alpha'>> & ActivationParams>> = {
  leaky_relu: { alpha: 0.01 },
  elu: { alpha: 1 },
  selu: { alpha: 1.6732632423543772, gamma: 1.0507009873554805 },
  hard_sigmoid: { alpha: 0.2, beta: 0.5 },
};

/** Dense layer k's activation for people: "leaky_relu(alpha=0.2)", the parameters it takes filled in. */
export function activationText(net: Network, k: number): string {
  const name = net.activations![k];
  const params: ActivationParams = { ...ACTIVATION_DEFAULTS[name], ...net.activationParams?.[k] };
  const keys = Object.keys(ACTIVATION_DEFAULTS[name] ?? {}) as (keyof ActivationParams)[];
  return keys.length > 0 ? `${name}(${keys.map((key) => `${key}=${params[key]}`).join(', ')})` : name;
}

export type NetworkKind = 'network' | 'importance' | 'processed';

/** Free-form JSON facts stored beside the arrays: config used, provenance, reports. */
export interface NetworkMeta {
  provenance?: Provenance;
  config?: Record<string, unknown>;
  training?: Record<string, unknown>;
  importance?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Provenance {
  tool: string;
  command: string;
  seed?: number;
  source?: string;
  [key: string]: unknown;
}

export interface Network {
  /** Node count per layer, input first, output (one node per class) last. */
  layers: number[];
  classNames: string[];
  /** One per dense layer (layers.length - 1), present together with weights. */
  activations?: Activation[];
  /** One per dense layer ({} where the activation takes none); only when some layer has parameters. */
  activationParams?: ActivationParams[];
  /**
   * Conv networks only: the input's [height, width, channels] (layers[0] is their product, one
   * node per value, channels last).
   */
  inputShape?: MapShape;
  /**
   * Conv networks only: 'chw' when the model's data rows are channels first (a channels-first
   * model with several input channels); they are reordered to node order as they are read
   * (dataInNodeOrder). Absent: rows are channels last, in node order.
   */
  inputOrder?: InputOrder;
  /** Conv networks only: one op per layer gap (absent: every gap is dense). */
  ops?: LayerOp[];
  /**
   * The kernels of all gaps, one after the other: a dense kernel [inputs, units] row-major (for
   * a dense network exactly edge order, E weights); a conv kernel [kh, kw, cin, cout]; a dense
   * layer reading a feature map [h · w · c, units], rows in channels-last order.
   */
  weights?: Float32Array;
  /** One bias per non-input node, in node order minus the input layer. */
  biases?: Float32Array;
  /** N × C, node-major: nodeImportance[node * C + c]. */
  nodeImportance?: Float32Array;
  /** E edge importance ("alpha") in [0, 1]. */
  edgeImportance?: Float32Array;
  /** N × 3 node positions (x, y, z). */
  nodePositions?: Float32Array;
  /** E + 1 offsets into edgeSamples (in samples): edge e owns samples [o[e], o[e+1]). */
  edgeSampleOffsets?: Uint32Array;
  /** S × 3 positions of the bundled edge polylines. */
  edgeSamples?: Float32Array;
  meta: NetworkMeta;
}

export function kindOf(net: Network): NetworkKind {
  if (net.edgeSamples) return 'processed';
  if (net.nodeImportance) return 'importance';
  return 'network';
}

export function nodeCount(layers: readonly number[]): number {
  return layers.reduce((a, b) => a + b, 0);
}

export function edgeCount(layers: readonly number[]): number {
  let e = 0;
  for (let k = 0; k + 1 < layers.length; k++) e += layers[k] * layers[k + 1];
  return e;
}

/** Index of the first node of layer l. */
export function nodeOffset(layers: readonly number[], l: number): number {
  let o = 0;
  for (let k = 0; k < l; k++) o += layers[k];
  return o;
}

/** Index of the first edge of layer gap k (between layer k and k + 1). */
export function edgeOffset(layers: readonly number[], k: number): number {
  let o = 0;
  for (let j = 0; j < k; j++) o += layers[j] * layers[j + 1];
  return o;
}

/** Index of the first bias of dense layer k (producing layer k + 1). */
export function biasOffset(layers: readonly number[], k: number): number {
  return nodeOffset(layers, k + 1) - layers[0];
}

/** Kernel of gap k as a view (layout: `Network.weights`). */
export function kernelView(net: Network, k: number): Float32Array {
  if (!net.weights) throw new Error('network has no weights');
  const o = weightOffset(net, k);
  return net.weights.subarray(o, o + gapWeightCounts(net)[k]);
}

export function biasView(net: Network, k: number): Float32Array {
  if (!net.biases) throw new Error('network has no biases');
  const o = biasOffset(net.layers, k);
  return net.biases.subarray(o, o + net.layers[k + 1]);
}

export function defaultClassNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(i));
}

// ---------------------------------------------------------------------------------------
// Convolutional networks (docs/FORMAT.md, "Convolutional networks").
//
// A conv layer is a layer of channel nodes; the input layer stays one node per input value
// (pixel × channel, channels last), so the input plane keeps its meaning. Every edge owns a
// group of weights: a dense edge one weight; an edge into a conv channel the kernel slice
// w[:, :, i, j] (shared by all pixels of input channel i); an edge from a feature map channel
// into a dense unit the h·w weights of the dense kernel that read that channel.

export type Padding = 'same' | 'valid';

/** Pooling after a conv layer's activation; `global` averages each channel to one value. */
export type Pool = { kind: 'max' | 'avg'; size: [number, number]; strides: [number, number]; padding: Padding } | { kind: 'global' };

export interface ConvOp {
  kind: 'conv';
  kernel: [number, number];
  strides: [number, number];
  padding: Padding;
  pool?: Pool;
}

export interface DenseOp {
  kind: 'dense';
}

/** How layer k + 1 is computed from layer k (`Network.ops[k]`). */
export type LayerOp = ConvOp | DenseOp;

export const DENSE_OP: DenseOp = { kind: 'dense' };

/** [height, width, channels] of a layer's output (a dense layer: [1, 1, units]). */
export type MapShape = [number, number, number];

export type InputOrder = 'chw';

/**
 * `count` data rows of a network's input in node order (channels last): a copy reordered from
 * channels first when the network's `inputOrder` is 'chw', else the rows themselves.
 */
export function rowsInNodeOrder(net: Pick<Network, 'inputShape' | 'inputOrder'>, rows: Float32Array, count: number): Float32Array {
  if (net.inputOrder !== 'chw' || !net.inputShape) return rows;
  const [h, w, c] = net.inputShape;
  const size = h * w * c;
  const out = new Float32Array(count * size);
  for (let n = 0; n < count; n++) {
    const o = n * size;
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[o + p * c + ch] = rows[o + ch * h * w + p];
  }
  return out;
}

export function isConvNet(net: Pick<Network, 'ops'>): boolean {
  return net.ops?.some((op) => op.kind === 'conv') ?? false;
}

export function layerOp(net: Pick<Network, 'ops'>, k: number): LayerOp {
  return net.ops?.[k] ?? DENSE_OP;
}

/** Output size along one axis of a window of `size` moved by `stride` (Keras/TF rules). */
export function windowOutput(input: number, size: number, stride: number, padding: Padding): number {
  return padding === 'same' ? Math.ceil(input / stride) : Math.ceil((input - size + 1) / stride);
}

/** The map shape of every layer: the input's from `inputShape`, then through each op. */
export function mapShapes(net: Pick<Network, 'layers' | 'ops' | 'inputShape'>): MapShape[] {
  const { layers } = net;
  const shapes: MapShape[] = [net.inputShape ? [...net.inputShape] : [1, 1, layers[0]]];
  for (let k = 0; k + 1 < layers.length; k++) {
    const op = layerOp(net, k);
    if (op.kind === 'dense') {
      shapes.push([1, 1, layers[k + 1]]);
      continue;
    }
    const [h, w] = shapes[k];
    let oh = windowOutput(h, op.kernel[0], op.strides[0], op.padding);
    let ow = windowOutput(w, op.kernel[1], op.strides[1], op.padding);
    const pool = op.pool;
    if (pool?.kind === 'global') [oh, ow] = [1, 1];
    else if (pool) [oh, ow] = [windowOutput(oh, pool.size[0], pool.strides[0], pool.padding), windowOutput(ow, pool.size[1], pool.strides[1], pool.padding)];
    shapes.push([oh, ow, layers[k + 1]]);
  }
  return shapes;
}

/** Weights of gap k: conv [kh, kw, cin, cout]; dense [h·w·c of the map it reads, units]. */
export function gapWeightCounts(net: Pick<Network, 'layers' | 'ops' | 'inputShape'>): number[] {
  const shapes = mapShapes(net);
  return net.layers.slice(0, -1).map((_, k) => {
    const op = layerOp(net, k);
    const out = net.layers[k + 1];
    if (op.kind === 'conv') return op.kernel[0] * op.kernel[1] * shapes[k][2] * out;
    const [h, w, c] = shapes[k];
    return h * w * c * out;
  });
}

/** Gap k's kernel as a tensor shape: conv [kh, kw, cin, cout], dense [inputs, units]. */
export function kernelShape(net: Pick<Network, 'layers' | 'ops' | 'inputShape'>, k: number): number[] {
  const op = layerOp(net, k);
  const out = net.layers[k + 1];
  return op.kind === 'conv' ? [op.kernel[0], op.kernel[1], mapShapes(net)[k][2], out] : [gapWeightCounts(net)[k] / out, out];
}

/** The weights array's length: E for a dense network, the sum of the kernels otherwise. */
export function weightCount(net: Pick<Network, 'layers' | 'ops' | 'inputShape'>): number {
  return gapWeightCounts(net).reduce((a, b) => a + b, 0);
}

/** Index of gap k's first weight. */
export function weightOffset(net: Pick<Network, 'layers' | 'ops' | 'inputShape'>, k: number): number {
  return gapWeightCounts(net)
    .slice(0, k)
    .reduce((a, b) => a + b, 0);
}

/**
 * Calls `visit(e, w)` for every weight index w in the group of every edge e of gap k (edge
 * indices relative to the gap, as source · targets + target).
 */
export function forEachEdgeWeight(net: Pick<Network, 'layers' | 'ops' | 'inputShape'>, k: number, visit: (e: number, w: number) => void): void {
  const { layers } = net;
  const shapes = mapShapes(net);
  const targets = layers[k + 1];
  const base = weightOffset(net, k);
  const op = layerOp(net, k);
  const [h, w, c] = shapes[k];
  if (op.kind === 'conv') {
    const taps = op.kernel[0] * op.kernel[1];
    const cin = c;
    for (let i = 0; i < layers[k]; i++) {
      // the input layer: node i is value (y, x, channel i % c); otherwise node i is channel i
      const ci = k === 0 && net.inputShape ? i % cin : i;
      for (let j = 0; j < targets; j++) {
        const e = i * targets + j;
        for (let t = 0; t < taps; t++) visit(e, base + (t * cin + ci) * targets + j);
      }
    }
    return;
  }
  const spatial = k > 0 && layerOp(net, k - 1).kind === 'conv';
  if (!spatial) {
    for (let e = 0; e < layers[k] * targets; e++) visit(e, base + e);
    return;
  }
  // channels-last flatten: row (y · w + x) · c + i reads channel i
  for (let p = 0; p < h * w; p++) {
    for (let i = 0; i < c; i++) {
      const row = base + (p * c + i) * targets;
      for (let j = 0; j < targets; j++) visit(i * targets + j, row + j);
    }
  }
}

/** Whether pruning may remove gap k's edges one by one: not those sharing one kernel slice per input pixel. */
export function prunableGap(net: Pick<Network, 'ops' | 'inputShape'>, k: number): boolean {
  return !(k === 0 && net.inputShape && layerOp(net, 0).kind === 'conv');
}

/** "conv 5×5 same, max-pool 2×2" for people; "dense" for a dense gap. */
export function opText(op: LayerOp): string {
  if (op.kind === 'dense') return 'dense';
  const stride = op.strides[0] !== 1 || op.strides[1] !== 1 ? ` stride ${op.strides.join('×')}` : '';
  const pool = !op.pool ? '' : op.pool.kind === 'global' ? ', global average pool' : `, ${op.pool.kind}-pool ${op.pool.size.join('×')}`;
  return `conv ${op.kernel.join('×')} ${op.padding}${stride}${pool}`;
}

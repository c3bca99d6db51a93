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
  /** E weights in edge order. */
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

/** Kernel of dense layer k as a view: [layers[k], layers[k+1]] row-major. */
export function kernelView(net: Network, k: number): Float32Array {
  if (!net.weights) throw new Error('network has no weights');
  const o = edgeOffset(net.layers, k);
  return net.weights.subarray(o, o + net.layers[k] * net.layers[k + 1]);
}

export function biasView(net: Network, k: number): Float32Array {
  if (!net.biases) throw new Error('network has no biases');
  const o = biasOffset(net.layers, k);
  return net.biases.subarray(o, o + net.layers[k + 1]);
}

export function defaultClassNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(i));
}

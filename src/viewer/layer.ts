// One per-instance data set (edge samples or nodes) and the meshes that draw it in each
// render mode. The instances live in two data textures shared by every mode (positions and
// importance uploaded once per geometry; colours re-filled on the CPU when the class
// visibility changes); render modes and parameters are uniforms only. Draws are not
// instanced: each vertex finds its instance from gl_VertexID (see common.vert.glsl).

import * as THREE from 'three';
import commonFrag from './shaders/common.frag.glsl?raw';
import commonVert from './shaders/common.vert.glsl?raw';
import impostorFrag from './shaders/impostor.frag.glsl?raw';
import impostorVert from './shaders/impostor.vert.glsl?raw';
import lineFrag from './shaders/line.frag.glsl?raw';
import lineVert from './shaders/line.vert.glsl?raw';
import pointFrag from './shaders/point.frag.glsl?raw';
import pointVert from './shaders/point.vert.glsl?raw';
import { allocBuffers, bufferBytes, fillColors, fillDrawList, importancePercentile, TEXTURE_WIDTH, textureRows, type InstanceBuffers } from './scene-data.ts';
import { DEFAULT_PALETTE, MAX_CLASS_CHANNELS } from './palette.ts';

/**
 * Which importance is drawn as fully opaque and full size: this percentile of the
 * importances of the drawn instances (those at or above the threshold) in the current class
 * mode (docs/VIEWER.md#opacity). 1 would be the largest; a trained network's importance is
 * concentrated on few edges, so most would fade to white.
 */
export const OPACITY_PERCENTILE = 0.9;

type Primitive = 'impostor' | 'point' | 'line';

interface ModeSpec {
  primitive: Primitive;
  defines: Record<string, string>;
  opaque: boolean;
  /** Whether the last sample of an edge draws nothing (it has no next sample). */
  spansToNext: boolean;
}

export const MODES: Record<string, ModeSpec> = {
  sphere: { primitive: 'impostor', defines: { OPAQUE: '' }, opaque: true, spansToNext: false },
  transparent_sphere: { primitive: 'impostor', defines: {}, opaque: false, spansToNext: false },
  transparent_ellipsoid: { primitive: 'impostor', defines: { ELLIPSOID: '' }, opaque: false, spansToNext: true },
  line: { primitive: 'line', defines: {}, opaque: false, spansToNext: true },
  point: { primitive: 'point', defines: {}, opaque: false, spansToNext: false },
};

const SHADERS: Record<Primitive, { vert: string; frag: string }> = {
  impostor: { vert: impostorVert, frag: impostorFrag },
  point: { vert: pointVert, frag: pointFrag },
  line: { vert: lineVert, frag: lineFrag },
};

/** Vertices each instance draws (the vertex shaders' VERTICES). */
const VERTICES: Record<Primitive, number> = { impostor: 6, point: 1, line: 2 };

/**
 * Edge spheres (sphere, transparent_sphere): beads per sample, placed from it toward the
 * next sample at most one radius apart (impostor.vert.glsl), so that a polyline sampled
 * every layer_width / sampling_rate reads as a tube at the default size instead of a dotted
 * trail. Unused beads are culled in the vertex shader.
 */
export const BEADS = 8;

/**
 * Polyline simplification (ellipsoids and lines): a span may run over samples within this
 * share of the primitive size of its straight line (fillDrawList); 0 turns it off.
 */
export const SIMPLIFY_TOLERANCE = 0.1;

/**
 * Consecutive draw-list entries progressive drawing schedules as one: its passes take every
 * k-th run, so each pass is still spread over the whole network, while the entries of a run
 * (neighbours in memory and on screen) are drawn together.
 */
export const RUN = 64;

/** Class modes whose colours a layer keeps (fillColorTexture). */
const COLOR_CACHE = 3;

const TEXTURE_DEFINES = { TEXTURE_WIDTH: String(TEXTURE_WIDTH), TEXTURE_SHIFT: String(Math.log2(TEXTURE_WIDTH)) };

/** Class visibility as the shader sees it: -2 independent, -1 all, else a class index. */
export type ClassVisibility = 'independent' | 'all' | number;

export function classUniform(v: ClassVisibility): number {
  return v === 'independent' ? -2 : v === 'all' ? -1 : v % MAX_CLASS_CHANNELS;
}

export interface ShaderParams {
  size: number;
  base_opacity: number;
  importance_opacity: number;
  depth_opacity: number;
  depth_exponent: number;
  importance_threshold: number;
}

function dataTexture(data: Float32Array | Uint8Array): THREE.DataTexture {
  const t = new THREE.DataTexture(data, TEXTURE_WIDTH, data.length / 4 / TEXTURE_WIDTH, THREE.RGBAFormat, data instanceof Float32Array ? THREE.FloatType : THREE.UnsignedByteType);
  t.needsUpdate = true;
  return t;
}

export class InstanceLayer {
  buffers: InstanceBuffers = allocBuffers(1);
  mode = 'none';
  readonly uniforms = {
    uTexels: { value: null as THREE.DataTexture | null },
    /** The draw list (fillDrawList): per entry the instance and the sample its primitive runs to. */
    uList: { value: null as THREE.DataTexture | null },
    uColors: { value: null as THREE.DataTexture | null },
    /** Class visibility (classUniform); set it through setClass, which re-fills the colour texture. */
    uClass: { value: -2 },
    uSize: { value: 0.02 },
    uThreshold: { value: 0.01 },
    /** Entries drawn: every uStride-th run of uRun entries from run uPhase (setRange; common.vert.glsl). */
    uStride: { value: 1 },
    uPhase: { value: 0 },
    uRun: { value: 1 },
    /** Entries of the draw list (the last run may be short). */
    uEntries: { value: 0 },
    uDepthRange: { value: new THREE.Vector2(0, 1) },
    uBase: { value: 0 },
    uImportanceOpacity: { value: 1 },
    uDepthOpacity: { value: 0.5 },
    uDepthExponent: { value: 0.25 },
    uPointScale: { value: 500 },
    /** 1 / the importance drawn as 1 (OPACITY_PERCENTILE of the drawn instances); the shaders use min(1, importance · uImportanceScale). */
    uImportanceScale: { value: 1 },
  };
  private readonly geometries = new Map<string, THREE.BufferGeometry>();
  private readonly materials = new Map<string, THREE.ShaderMaterial>();
  private object: THREE.Object3D | null = null;
  /** The class visibility and palette the colour texture holds. */
  private colorsFor = '';
  /** Colours and histograms of the last class modes (fillColorTexture). */
  private colorCache: { key: string; colors: Uint8Array; histogram: Uint32Array }[] = [];
  /** What the draw list was built for, and its length. */
  private listFor = '';
  private listCount = 0;
  private listDrawn = 0;
  /** Bumped when the instance data change, so the draw list is rebuilt. */
  private version = 0;
  /** Polyline simplification on (SIMPLIFY_TOLERANCE) or off. */
  simplify = true;
  private palette: string = DEFAULT_PALETTE;

  /** `beads`: the edge layer, whose sphere modes draw BEADS spheres per sample. */
  constructor(
    private readonly group: THREE.Group,
    private readonly beads = false,
  ) {}

  /** Vertices per instance in a mode. */
  private vertices(spec: ModeSpec): number {
    return VERTICES[spec.primitive] * (this.beadsIn(spec) ? BEADS : 1);
  }

  private beadsIn(spec: ModeSpec): boolean {
    return this.beads && spec.primitive === 'impostor' && !spec.spansToNext;
  }

  /** The object drawing the current mode (null: nothing to draw). */
  get drawable(): THREE.Object3D | null {
    return this.object;
  }

  /** Whether the current mode writes depth (drawn before every transparent primitive). */
  get opaque(): boolean {
    return MODES[this.mode]?.opaque ?? false;
  }

  /** Vertices one run (RUN entries of the draw list) costs in the current mode (a rough relative cost). */
  get runCost(): number {
    const spec = MODES[this.mode];
    return spec ? this.vertices(spec) * RUN : 0;
  }

  /**
   * What the next draw covers: runs first·stride + phase, …, (first + count − 1)·stride +
   * phase of `run` consecutive entries each (the vertex shaders map gl_VertexID so, see
   * common.vert.glsl).
   */
  setRange(stride: number, phase: number, first: number, count: number, run = RUN): void {
    this.updateList();
    const u = this.uniforms;
    u.uStride.value = stride;
    u.uPhase.value = phase;
    u.uRun.value = run;
    u.uEntries.value = this.listCount;
    const spec = MODES[this.mode];
    const geometry = spec && this.geometries.get(this.geometryKey(spec));
    if (!geometry) return;
    const v = this.vertices(spec) * run;
    geometry.setDrawRange(first * v, count * v);
  }

  /** Every `stride`-th entry of the draw list in one draw (1: all). */
  setWhole(stride = 1): void {
    this.setRange(stride, 0, 0, Math.ceil(this.entryCount / stride), 1);
  }

  /** Entries of the draw list: the primitives the current settings draw (culled on the CPU). */
  get entryCount(): number {
    this.updateList();
    return this.listCount;
  }

  /** Runs of RUN entries in the draw list: what progressive drawing schedules. */
  get runCount(): number {
    return Math.ceil(this.entryCount / RUN);
  }

  /** Rebuilds the draw list when the mode, threshold, size, colours or the data changed. */
  private updateList(): void {
    const spec = MODES[this.mode];
    const list = this.uniforms.uList.value;
    if (!spec || !list) {
      this.listCount = 0;
      this.listDrawn = 0;
      return;
    }
    const u = this.uniforms;
    const tolerance = this.simplify && spec.spansToNext ? SIMPLIFY_TOLERANCE * u.uSize.value : 0;
    const key = `${spec.spansToNext}|${u.uThreshold.value}|${tolerance}|${this.colorsFor}|${this.version}`;
    if (key === this.listFor) return;
    this.listFor = key;
    const { entries, drawn } = u.uSize.value > 0 ? fillDrawList(this.buffers, list.image.data as Float32Array, u.uThreshold.value, spec.spansToNext, tolerance) : { entries: 0, drawn: 0 };
    this.listCount = entries;
    this.listDrawn = drawn;
    list.needsUpdate = true;
  }

  /** Replaces the storage (new file, or a snapshot that outgrew the capacity). */
  setBuffers(buffers: InstanceBuffers): void {
    this.buffers = buffers;
    this.uniforms.uTexels.value?.dispose();
    this.uniforms.uColors.value?.dispose();
    this.uniforms.uList.value?.dispose();
    this.uniforms.uTexels.value = dataTexture(buffers.texels);
    this.uniforms.uColors.value = dataTexture(buffers.colors);
    const list = new THREE.DataTexture(new Float32Array(textureRows(buffers.capacity) * TEXTURE_WIDTH * 2), TEXTURE_WIDTH, textureRows(buffers.capacity), THREE.RGFormat, THREE.FloatType);
    this.uniforms.uList.value = list;
    this.version++;
    this.fillColorTexture();
    const mode = this.mode;
    this.mode = 'none';
    this.setMode(mode);
  }

  /** After the arrays were rewritten in place (same capacity). */
  markUpdated(): void {
    if (this.uniforms.uTexels.value) this.uniforms.uTexels.value.needsUpdate = true;
    this.version++;
    this.fillColorTexture(); // class mixes move with the samples
  }

  /** Class visibility and palette: the uniform, and the colour texture for them (refilled only when they change). */
  setClass(cls: number, palette: string = this.palette): void {
    this.uniforms.uClass.value = cls;
    this.palette = palette;
    if (`${cls}|${palette}` !== this.colorsFor) this.fillColorTexture();
  }

  private fillColorTexture(): void {
    const cls = this.uniforms.uClass.value;
    const colors = this.uniforms.uColors.value;
    if (!colors) return;
    // Legend clicks go back and forth between a few modes: keep their colours (a copy is
    // milliseconds, filling them ~0.3 s on a 2.5 M-sample network).
    const key = `${cls}|${this.palette}|${this.version}`;
    const b = this.buffers;
    const hit = this.colorCache.find((c) => c.key === key);
    if (hit) {
      b.colors.set(hit.colors);
      b.histogram.set(hit.histogram);
    } else {
      fillColors(b, cls, this.palette);
      this.colorCache = [{ key, colors: b.colors.slice(0, b.count * 4), histogram: b.histogram.slice() }, ...this.colorCache.filter((c) => c.key.endsWith(`|${this.version}`))].slice(0, COLOR_CACHE);
    }
    colors.needsUpdate = true;
    this.colorsFor = `${cls}|${this.palette}`;
    this.updateScale();
  }

  /** The importance drawn as 1 now (OPACITY_PERCENTILE of the drawn instances; 1 when none is drawn). */
  get fullImportance(): number {
    return 1 / this.uniforms.uImportanceScale.value;
  }

  private updateScale(): void {
    const p = importancePercentile(this.buffers, this.uniforms.uThreshold.value, OPACITY_PERCENTILE);
    this.uniforms.uImportanceScale.value = p > 0 ? 1 / p : 1;
  }

  gpuBytes(): number {
    return this.buffers.count > 0 ? bufferBytes(this.buffers) + (this.uniforms.uList.value?.image.data?.byteLength ?? 0) : 0;
  }

  setParams(p: ShaderParams): void {
    const u = this.uniforms;
    u.uSize.value = p.size;
    u.uBase.value = p.base_opacity;
    u.uImportanceOpacity.value = p.importance_opacity;
    u.uDepthOpacity.value = p.depth_opacity;
    u.uDepthExponent.value = p.depth_exponent;
    const thresholdChanged = u.uThreshold.value !== p.importance_threshold;
    u.uThreshold.value = p.importance_threshold;
    if (thresholdChanged) this.updateScale();
  }

  setMode(mode: string): void {
    if (mode === this.mode && this.object) return;
    if (this.object) this.group.remove(this.object);
    this.object = null;
    this.mode = mode;
    const spec = MODES[mode];
    if (!spec || this.buffers.count === 0) return;
    const geometry = this.geometry(spec);
    const material = this.material(mode, spec);
    const object =
      spec.primitive === 'point' ? new THREE.Points(geometry, material) : spec.primitive === 'line' ? new THREE.LineSegments(geometry, material) : new THREE.Mesh(geometry, material);
    object.frustumCulled = false; // instances are placed in the shader
    object.renderOrder = spec.opaque ? 0 : 1;
    this.object = object;
    this.group.add(object);
  }

  /** Instances the current mode draws (CPU mirror of the vertex-shader culling, counted with the draw list). */
  drawnInstances(): number {
    this.updateList();
    return this.listDrawn;
  }

  /** Changes whenever what this layer draws may have changed (the camera fit caches on it). */
  get stateKey(): string {
    const u = this.uniforms;
    return `${this.mode}|${u.uSize.value}|${u.uThreshold.value}|${u.uImportanceScale.value}|${this.colorsFor}|${this.version}`;
  }

  dispose(): void {
    if (this.object) this.group.remove(this.object);
    this.object = null;
    for (const g of this.geometries.values()) g.dispose();
    for (const m of this.materials.values()) m.dispose();
    this.uniforms.uTexels.value?.dispose();
    this.uniforms.uColors.value?.dispose();
    this.uniforms.uList.value?.dispose();
    this.geometries.clear();
    this.materials.clear();
  }

  private geometryKey(spec: ModeSpec): string {
    return `${spec.primitive}:${this.vertices(spec)}`;
  }

  private geometry(spec: ModeSpec): THREE.BufferGeometry {
    const vertices = this.vertices(spec);
    const key = this.geometryKey(spec);
    let g = this.geometries.get(key);
    if (!g) {
      // No attributes: the vertex shader fetches everything by gl_VertexID.
      g = new THREE.BufferGeometry();
      g.boundingSphere = new THREE.Sphere(new THREE.Vector3(), Infinity);
      g.setDrawRange(0, this.buffers.count * vertices);
      this.geometries.set(key, g);
    }
    return g;
  }

  private material(mode: string, spec: ModeSpec): THREE.ShaderMaterial {
    let m = this.materials.get(mode);
    if (!m) {
      const { vert, frag } = SHADERS[spec.primitive];
      m = new THREE.ShaderMaterial({
        glslVersion: THREE.GLSL3,
        vertexShader: `${commonVert}\n${vert}`,
        fragmentShader: `${commonFrag}\n${frag}`,
        uniforms: this.uniforms,
        defines: { ...spec.defines, ...TEXTURE_DEFINES, ...(this.beadsIn(spec) ? { BEADS: String(BEADS) } : {}) },
        side: THREE.DoubleSide, // the quads' winding depends on the view
        depthTest: true,
        depthWrite: spec.opaque,
        transparent: !spec.opaque,
        // docs/METHOD.md §5.2: colours pre-blended toward white, MIN on colour and MAX on alpha, so
        // overlapping transparent primitives need no sorting.
        ...(spec.opaque
          ? { blending: THREE.NoBlending }
          : { blending: THREE.CustomBlending, blendEquation: THREE.MinEquation, blendEquationAlpha: THREE.MaxEquation, blendSrc: THREE.OneFactor, blendDst: THREE.OneFactor }),
      });
      this.materials.set(mode, m);
    }
    return m;
  }
}

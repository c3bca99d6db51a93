// One instanced data set (edge samples or nodes) and the meshes that draw it in each render
// mode. Attributes are uploaded once and shared by every mode's geometry; parameters and
// class visibility are uniforms, so switching them never touches a buffer.

import * as THREE from 'three';
import commonFrag from './shaders/common.frag.glsl?raw';
import commonVert from './shaders/common.vert.glsl?raw';
import impostorFrag from './shaders/impostor.frag.glsl?raw';
import impostorVert from './shaders/impostor.vert.glsl?raw';
import lineFrag from './shaders/line.frag.glsl?raw';
import lineVert from './shaders/line.vert.glsl?raw';
import pointFrag from './shaders/point.frag.glsl?raw';
import pointVert from './shaders/point.vert.glsl?raw';
import { allocBuffers, bufferBytes, type InstanceBuffers } from './scene-data.ts';
import { GREY, MAX_CLASS_CHANNELS, PALETTE } from './palette.ts';

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

const BASE_POSITIONS: Record<Primitive, { positions: number[]; index?: number[] }> = {
  impostor: { positions: [-1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 1, 0], index: [0, 1, 2, 0, 2, 3] },
  point: { positions: [0, 0, 0] },
  line: { positions: [0, 0, 0, 1, 0, 0] },
};

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

/** '#rrggbb' as the shader outputs it (sRGB, no colour management: the canvas shows it as is). */
function rgb(hex: string): THREE.Vector3 {
  const v = parseInt(hex.slice(1), 16);
  return new THREE.Vector3(((v >> 16) & 255) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255);
}

export class InstanceLayer {
  buffers: InstanceBuffers = allocBuffers(1);
  mode = 'none';
  readonly uniforms = {
    uPalette: { value: PALETTE.map(rgb) },
    uGrey: { value: rgb(GREY) },
    uClass: { value: -2 },
    uSize: { value: 0.02 },
    uThreshold: { value: 0.01 },
    uLod: { value: 1 },
    uDepthRange: { value: new THREE.Vector2(0, 1) },
    uBase: { value: 0 },
    uImportanceOpacity: { value: 1 },
    uDepthOpacity: { value: 0.5 },
    uDepthExponent: { value: 0.25 },
    uPointScale: { value: 500 },
  };
  private readonly geometries = new Map<Primitive, THREE.InstancedBufferGeometry>();
  private readonly materials = new Map<string, THREE.ShaderMaterial>();
  private object: THREE.Object3D | null = null;
  private attributes: Record<string, THREE.BufferAttribute | THREE.InterleavedBufferAttribute> = {};
  private positionBuffer: THREE.InstancedInterleavedBuffer | null = null;

  constructor(private readonly group: THREE.Group) {}

  /** Replaces the storage (new file, or a snapshot that outgrew the capacity). */
  setBuffers(buffers: InstanceBuffers): void {
    this.buffers = buffers;
    for (const g of this.geometries.values()) g.dispose();
    this.geometries.clear();
    this.positionBuffer = new THREE.InstancedInterleavedBuffer(buffers.positions, 3, 1);
    const mix = new THREE.InstancedInterleavedBuffer(buffers.mix, MAX_CLASS_CHANNELS, 1);
    this.attributes = {
      iPos: new THREE.InterleavedBufferAttribute(this.positionBuffer, 3, 0),
      // The same buffer one sample later: the next point of the polyline, without a copy.
      iNext: new THREE.InterleavedBufferAttribute(this.positionBuffer, 3, 3),
      iImp: new THREE.InstancedBufferAttribute(buffers.importance, 1),
      iMix0: new THREE.InterleavedBufferAttribute(mix, 4, 0, true),
      iMix1: new THREE.InterleavedBufferAttribute(mix, 4, 4, true),
      iMix2: new THREE.InterleavedBufferAttribute(mix, 4, 8, true),
      iEnd: new THREE.InstancedBufferAttribute(buffers.end, 1, true),
    };
    const mode = this.mode;
    this.mode = 'none';
    this.setMode(mode);
  }

  /** After the arrays were rewritten in place (same capacity). */
  markUpdated(): void {
    for (const a of Object.values(this.attributes)) {
      if (a instanceof THREE.InterleavedBufferAttribute) a.data.needsUpdate = true;
      else a.needsUpdate = true;
    }
    for (const g of this.geometries.values()) g.instanceCount = this.buffers.count;
  }

  gpuBytes(): number {
    return this.buffers.count > 0 ? bufferBytes(this.buffers) : 0;
  }

  setParams(p: ShaderParams): void {
    const u = this.uniforms;
    u.uSize.value = p.size;
    u.uBase.value = p.base_opacity;
    u.uImportanceOpacity.value = p.importance_opacity;
    u.uDepthOpacity.value = p.depth_opacity;
    u.uDepthExponent.value = p.depth_exponent;
    u.uThreshold.value = p.importance_threshold;
  }

  setMode(mode: string): void {
    if (mode === this.mode && this.object) return;
    if (this.object) this.group.remove(this.object);
    this.object = null;
    this.mode = mode;
    const spec = MODES[mode];
    if (!spec || this.buffers.count === 0) return;
    const geometry = this.geometry(spec.primitive);
    const material = this.material(mode, spec);
    const object =
      spec.primitive === 'point' ? new THREE.Points(geometry, material) : spec.primitive === 'line' ? new THREE.LineSegments(geometry, material) : new THREE.Mesh(geometry, material);
    object.frustumCulled = false; // instances are placed in the shader
    object.renderOrder = spec.opaque ? 0 : 1;
    this.object = object;
    this.group.add(object);
  }

  /** Instances the current mode draws (CPU mirror of the vertex-shader culling). */
  drawnInstances(visibility: ClassVisibility): number {
    const spec = MODES[this.mode];
    const { count, importance, mix, end } = this.buffers;
    if (!spec || this.uniforms.uSize.value <= 0) return 0;
    const threshold = this.uniforms.uThreshold.value;
    const channel = typeof visibility === 'number' ? visibility % MAX_CLASS_CHANNELS : -1;
    let drawn = 0;
    for (let i = 0; i < count; i++) {
      if (spec.spansToNext && end[i]) continue;
      let imp = importance[i];
      if (channel >= 0) {
        let total = 0;
        for (let k = 0; k < MAX_CLASS_CHANNELS; k++) total += mix[i * MAX_CLASS_CHANNELS + k];
        if (total > 0) imp *= mix[i * MAX_CLASS_CHANNELS + channel] / 255;
      }
      if (imp >= threshold) drawn++;
    }
    return drawn;
  }

  dispose(): void {
    if (this.object) this.group.remove(this.object);
    this.object = null;
    for (const g of this.geometries.values()) g.dispose();
    for (const m of this.materials.values()) m.dispose();
    this.geometries.clear();
    this.materials.clear();
  }

  private geometry(primitive: Primitive): THREE.InstancedBufferGeometry {
    let g = this.geometries.get(primitive);
    if (!g) {
      g = new THREE.InstancedBufferGeometry();
      const base = BASE_POSITIONS[primitive];
      g.setAttribute('position', new THREE.Float32BufferAttribute(base.positions, 3));
      if (base.index) g.setIndex(base.index);
      for (const [name, a] of Object.entries(this.attributes)) g.setAttribute(name, a);
      g.instanceCount = this.buffers.count;
      this.geometries.set(primitive, g);
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
        defines: spec.defines,
        side: THREE.DoubleSide, // the quads' winding depends on the view
        depthTest: true,
        depthWrite: spec.opaque,
        transparent: !spec.opaque,
        // SPEC §5: colours pre-blended toward white, MIN on colour and MAX on alpha, so
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

// The density grid (grid.render_mode): the coarse edge-density summary the processing worker
// computes (src/core/process/grid-summary.ts), drawn as transparent cubes or as points, one
// per cell above GRID_THRESHOLD. Same transparency as the edges (docs/METHOD.md §5.2): colours pre-blended
// toward white by an opacity ∝ density, MIN blending, no depth writes, so nothing is sorted.
// The cells are merged into one plain (non-instanced) geometry: SwiftShader would run every
// instance of an instanced draw as a draw of its own.

import * as THREE from 'three';
import type { DensitySummary } from '../core/process/grid-summary.ts';
import type { ClassVisibility } from './layer.ts';
import { classColor, GREY } from './palette.ts';

/** Cells below this normalised density are not drawn. */
export const GRID_THRESHOLD = 0.05;
/** Opacity of a full cell; points are small, so they get more. */
const MAX_OPACITY = { cube: 0.8, point: 1 };
/**
 * Cells are drawn with opacity MAX_OPACITY · sqrt(min(1, density / q)), q the FULL_PERCENTILE
 * of the drawn cells' densities: a field normalised to its single densest cell left all but
 * a few cells nearly white.
 */
const FULL_PERCENTILE = 0.9;
/** Cube side and point diameter relative to the cell (gaps keep the grid readable). */
const CUBE_SIDE = 0.9;
const POINT_SIZE = 0.4;

// A unit cube around the origin: 8 corners, 12 triangles.
const CORNERS = [-1, -1, -1, 1, -1, -1, -1, 1, -1, 1, 1, -1, -1, -1, 1, 1, -1, 1, -1, 1, 1, 1, 1, 1].map((v) => v / 2);
const TRIANGLES = [0, 2, 1, 1, 2, 3, 4, 5, 6, 5, 7, 6, 0, 1, 4, 1, 5, 4, 2, 6, 3, 3, 6, 7, 0, 4, 2, 2, 4, 6, 1, 3, 5, 3, 7, 5];

export class DensityGridLayer {
  private summary: DensitySummary | null = null;
  private object: THREE.Mesh | THREE.Points | null = null;
  private builtFor = '';
  /** The render mode of the last `update`. */
  mode = 'none';
  /** Cells the current mode draws. */
  drawn = 0;

  constructor(private readonly group: THREE.Group) {}

  /** A new summary (null: none, e.g. a new file); drawn at the next `update`. */
  setSummary(summary: DensitySummary | null): void {
    this.summary = summary;
    this.builtFor = '';
  }

  get hasSummary(): boolean {
    return this.summary !== null;
  }

  /** Rebuilds the geometry when the mode, the class visibility or the summary changed. */
  update(mode: string, visibility: ClassVisibility, palette = 'vivid'): void {
    this.mode = mode;
    const key = `${mode}|${visibility}|${palette}`;
    if (key === this.builtFor) return;
    this.builtFor = key;
    this.clear();
    const s = this.summary;
    if (!s || (mode !== 'cube' && mode !== 'point')) return;
    const [nx, ny] = s.dims;
    const cells: number[] = [];
    for (let c = 0; c < s.density.length; c++) {
      if (s.density[c] < GRID_THRESHOLD) continue;
      if (typeof visibility === 'number' && s.dominant[c] !== visibility) continue;
      cells.push(c);
    }
    this.drawn = cells.length;
    if (cells.length === 0) return;
    const sorted = Float32Array.from(cells, (c) => s.density[c]).sort();
    const full = Math.max(GRID_THRESHOLD, sorted[Math.min(sorted.length - 1, Math.floor(FULL_PERCENTILE * sorted.length))]);
    const colors = new Map<number, THREE.Color>();
    const colorOf = (c: number): THREE.Color => {
      const k = visibility === 'independent' ? -1 : s.dominant[c];
      let color = colors.get(k);
      if (!color) colors.set(k, (color = new THREE.Color(k < 0 ? GREY : classColor(k, palette))));
      return color;
    };
    const cube = mode === 'cube';
    const perCell = cube ? 8 : 1;
    const position = new Float32Array(cells.length * perCell * 3);
    const color = new Float32Array(cells.length * perCell * 3);
    cells.forEach((c, i) => {
      const x = s.origin[0] + ((c % nx) + 0.5) * s.cell;
      const y = s.origin[1] + ((Math.floor(c / nx) % ny) + 0.5) * s.cell;
      const z = s.origin[2] + (Math.floor(c / (nx * ny)) + 0.5) * s.cell;
      // Pre-blended toward white: rgb·a + 1 − a.
      const a = MAX_OPACITY[cube ? 'cube' : 'point'] * Math.sqrt(Math.min(1, s.density[c] / full));
      const rgb = colorOf(c);
      for (let v = 0; v < perCell; v++) {
        const o = (i * perCell + v) * 3;
        const side = CUBE_SIDE * s.cell;
        position[o] = x + (cube ? CORNERS[v * 3] * side : 0);
        position[o + 1] = y + (cube ? CORNERS[v * 3 + 1] * side : 0);
        position[o + 2] = z + (cube ? CORNERS[v * 3 + 2] * side : 0);
        color[o] = rgb.r * a + 1 - a;
        color[o + 1] = rgb.g * a + 1 - a;
        color[o + 2] = rgb.b * a + 1 - a;
      }
    });
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute('position', new THREE.BufferAttribute(position, 3));
    geometry.setAttribute('color', new THREE.BufferAttribute(color, 3));
    const blending = {
      transparent: true,
      depthWrite: false,
      blending: THREE.CustomBlending,
      blendEquation: THREE.MinEquation,
      blendEquationAlpha: THREE.MaxEquation,
      blendSrc: THREE.OneFactor,
      blendDst: THREE.OneFactor,
    } as const;
    if (cube) {
      const index = new Uint32Array(cells.length * TRIANGLES.length);
      for (let i = 0; i < cells.length; i++) for (let t = 0; t < TRIANGLES.length; t++) index[i * TRIANGLES.length + t] = i * 8 + TRIANGLES[t];
      geometry.setIndex(new THREE.BufferAttribute(index, 1));
      this.object = new THREE.Mesh(geometry, new THREE.MeshBasicMaterial({ vertexColors: true, side: THREE.DoubleSide, ...blending }));
    } else {
      // PointsMaterial draws size · (height/2) / depth pixels; a world diameter w needs
      // size = w / tan(fov/2) (the viewer's 40° camera).
      const size = (POINT_SIZE * s.cell) / Math.tan(THREE.MathUtils.degToRad(20));
      this.object = new THREE.Points(geometry, new THREE.PointsMaterial({ vertexColors: true, size, sizeAttenuation: true, ...blending }));
    }
    this.object.renderOrder = 2;
    this.group.add(this.object);
  }

  /** The object drawing the grid now (null: none). */
  get drawable(): THREE.Object3D | null {
    return this.object;
  }

  /** Vertices the grid draws (its cost for the progressive view). */
  get drawCost(): number {
    const g = this.object?.geometry;
    return g ? (g.index?.count ?? g.attributes.position.count) : 0;
  }

  gpuBytes(): number {
    const g = this.object?.geometry;
    if (!g) return 0;
    return Object.values(g.attributes).reduce((a, b) => a + (b.array as Float32Array).byteLength, 0) + (g.index?.array.byteLength ?? 0);
  }

  private clear(): void {
    this.drawn = 0;
    if (!this.object) return;
    this.group.remove(this.object);
    this.object.geometry.dispose();
    (this.object.material as THREE.Material).dispose();
    this.object = null;
  }

  dispose(): void {
    this.clear();
    this.summary = null;
    this.builtFor = '';
  }
}

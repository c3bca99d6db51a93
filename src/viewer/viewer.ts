// The 3D view: renderer, camera and controls, the edge and node layers, camera presets,
// progressive drawing (chunks per animation frame sized by the measured frame cost) and
// frame timing. No GUI here; main.ts and gui.ts drive it.

import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { applyConfig, defaultConfig, type ConfigValues } from '../core/config.ts';
import type { DensitySummary } from '../core/process/grid-summary.ts';
import type { Antialias } from '../core/antialias.ts';
import { FxaaPass } from './fxaa.ts';
import { DensityGridLayer } from './density-grid.ts';
import { classUniform, InstanceLayer, type ClassVisibility, type ShaderParams } from './layer.ts';
import { Accumulation, dampingFactor, easeOutFactor, easeOutLeft, type Chunk, type DrawItem } from './progressive.ts';
import { allocBuffers, boundsOf, decodedImportance, fillEdges, fillNodes, gridCellsOf, prunedEdgeCount, type Bounds, type InstanceBuffers, type SceneNetwork } from './scene-data.ts';

/** Camera presets (docs/METHOD.md §5.5; keys 0–9): direction from the network's centre to the camera. */
export const CAMERA_PRESETS: readonly { name: string; dir: [number, number, number] }[] = [
  { name: 'front', dir: [-1, 0, 0] },
  { name: 'right', dir: [0, 0, 1] },
  { name: 'left', dir: [0, 0, -1] },
  { name: 'lower-back-right', dir: [1, -0.8, 1] },
  { name: 'back-right', dir: [1, 0, 1] },
  { name: 'upper-back-left', dir: [1, 0.8, -1] },
  { name: 'upper-back-right', dir: [1, 0.8, 1] },
  { name: 'back', dir: [1, 0, 0] },
  { name: 'default', dir: [-1, 0.55, 0.75] },
  { name: 'top', dir: [-0.02, 1, 0] },
];
export const DEFAULT_PRESET = 8;

/** Share of the free area (width or height, whichever binds) the fitted network spans. */
export const FIT_FILL = 0.94;
/**
 * Instances count for the camera fit when their drawn importance (after normalisation,
 * docs/VIEWER.md#opacity) is at least this: fainter ones are hardly inked (an input pixel
 * no class uses would otherwise widen the frame by a corner of invisible nodes).
 */
export const FIT_MIN_IMPORTANCE = 0.15;
/** Side by side: CSS pixels kept free at the bottom of each panel for its label. */
const LABEL_RESERVE = 80;

/** CSS pixels of the canvas covered by panels on each side; the network is framed in the rest. */
export interface Insets {
  left: number;
  right: number;
  top: number;
  bottom: number;
}
const NO_INSETS: Insets = { left: 0, right: 0, top: 0, bottom: 0 };

/**
 * What a frame of the interactive view draws: 'auto' as much as the frame budget allows at
 * the measured drawing speed (the rest follows in later frames), or a fixed 1 / lod of the
 * scene per frame (1: everything at once).
 */
export type LodSetting = 'auto' | number;
/** Default frame budget (ms of drawing per animation frame) of the progressive view. */
export const FRAME_BUDGET_MS = 60;
/** After this long without a restart (ms), frames of the progressive view draw FILL_BUDGET_FACTOR × the frame budget. */
const STILL_MS = 300;
const FILL_BUDGET_FACTOR = 2.5;
/** Drawing speed assumed before any frame was measured (cost units, i.e. vertices, per ms: about 170 ellipsoids on SwiftShader). */
const INITIAL_COST_PER_MS = 1_000;
const MIN_COST_PER_MS = 100;

/** The render modes a frame draws, in order: what its drawing speed depends on most. */
function speedKey(drawables: readonly Drawable[]): string {
  return drawables.map((d) => d.layer?.mode ?? 'grid').join(' ');
}

/** The largest distance a point moved between two lists of x y pairs. */
function maxShift(a: readonly number[], b: readonly number[]): number {
  let m = 0;
  for (let i = 0; i < a.length; i += 2) m = Math.max(m, Math.hypot(b[i] - a[i], b[i + 1] - a[i + 1]));
  return m;
}

/** The progressive accumulation (nnvis.progress()). */
export interface ProgressState {
  /** Counts the restarts (any change starts the picture afresh). */
  generation: number;
  /** Whether the canvas holds the full picture. */
  done: boolean;
  /** Share of the picture drawn, 0…1. */
  share: number;
  /** Animation frames the accumulation has taken so far. */
  frames: number;
  /** The largest share of the whole one frame drew (1: everything in one frame). */
  largestFrameShare: number;
  /** ms from the change that restarted it to the full picture (0 until done). */
  convergedMs: number;
}

/** One object the progressive view draws in chunks: a layer of a panel, or the density grid. */
interface Drawable {
  panel: number;
  layer: InstanceLayer | null;
  object: THREE.Object3D;
  item: DrawItem;
}

interface Progressive {
  acc: Accumulation;
  drawables: Drawable[];
  /** Cost per frame with a fixed level of detail. */
  frameCost: number;
  frames: number;
  largestFrame: number;
  started: number;
  convergedMs: number;
  /** Which drawing speed applies (speedKey). */
  speedKey: string;
}

export interface ViewerStats {
  edges: number;
  prunedEdges: number;
  samples: number;
  drawnInstances: number;
  /** Density-grid size (cells per layer gap, docs/METHOD.md §4.2) processing recorded in `meta` (not the drawn density grid). */
  gridCells: number;
  /** Cells of the density grid drawn now (grid.render_mode cube / point). */
  densityCells: number;
  fps: number;
  gpuMemoryBytes: number;
  kind: string;
  file: string | null;
  /** The WebGL renderer's name (SwiftShader without a GPU). */
  renderer: string;
  /** How the picture is antialiased: 'msaa', 'fxaa' (one pass over the finished picture) or 'none'. */
  antialias: Antialias;
  /** VR: 'off' outside a session, else the frame-budget choice ('full', 'line', 'every 3rd sample', …). */
  xrMode: string;
}

export interface ViewerOptions {
  headless: boolean;
  antialias: Antialias;
  /** The WebGL renderer's name, for the statistics. */
  rendererName: string;
}

function shaderParams(values: ConfigValues, prefix: string): ShaderParams {
  const n = (k: string): number => values[`${prefix}.${k}`] as number;
  return {
    size: n('size'),
    base_opacity: n('base_opacity'),
    importance_opacity: n('importance_opacity'),
    depth_opacity: n('depth_opacity'),
    depth_exponent: n('depth_exponent'),
    importance_threshold: n('importance_threshold'),
  };
}

export function visibilityFromConfig(v: string): ClassVisibility {
  return v === 'independent' || v === 'all' ? v : Number(v.replace('class_', ''));
}

export function visibilityToConfig(v: ClassVisibility): string {
  return typeof v === 'number' ? `class_${v}` : v;
}

/**
 * A further network shown side by side with the first: its own three.js scene and layers,
 * drawn in its own viewport of the canvas with the shared (linked) camera.
 */
interface ExtraPanel {
  label: string;
  scene: SceneNetwork;
  root: THREE.Scene;
  edges: InstanceLayer;
  nodes: InstanceLayer;
  bounds: Bounds;
  drawnCache: number | null;
}

/** What drawing and statistics need of a panel (the first one is the viewer's own fields). */
interface PanelView {
  label: string | null;
  scene: SceneNetwork | null;
  root: THREE.Scene;
  edges: InstanceLayer;
  nodes: InstanceLayer;
  bounds: Bounds;
}

interface CameraTween {
  from: THREE.Vector3;
  to: THREE.Vector3;
  fromTarget: THREE.Vector3;
  toTarget: THREE.Vector3;
  start: number;
  duration: number;
}

/** A rectangle of the canvas in CSS pixels, y down from the top. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export class Viewer {
  readonly renderer: THREE.WebGLRenderer;
  readonly camera = new THREE.PerspectiveCamera(40, 1, 0.01, 100);
  readonly controls: OrbitControls;
  readonly edges: InstanceLayer;
  readonly nodes: InstanceLayer;
  /** The density grid of the first network (drawn in its panel only). */
  readonly grid: DensityGridLayer;
  scene: SceneNetwork | null = null;
  fileName: string | null = null;
  rendering: ConfigValues = defaultConfig('rendering');
  visibility: ClassVisibility = 'independent';
  lod: LodSetting = 'auto';
  /** ms of drawing per animation frame for lod 'auto'. */
  frameBudgetMs = FRAME_BUDGET_MS;
  /** Whether the class visibility was chosen (else it follows the file: all classes when it has importance). */
  classExplicit = false;
  /** Called after anything a panel shows changed (file, settings, stats). */
  onChange: () => void = () => {};
  /** Called when the density grid is switched on and needs a summary (processing.ts answers). */
  onGridWanted: () => void = () => {};
  /** Set by xr.ts while an immersive session draws the scene (the desktop loop then pauses). */
  xrPresenting = false;
  /** Frame-budget choice in VR (stats().xrMode) and its sample stride. */
  xrMode = 'off';
  xrLod = 1;

  private readonly three = new THREE.Scene();
  private readonly group = new THREE.Group();
  /** Framing bounds: the first network's, or in side-by-side mode every panel's box around the first one's centre. */
  private bounds: Bounds = { min: [-0.5, -0.5, -0.5], max: [0.5, 0.5, 0.5], center: [0, 0, 0], radius: 1 };
  /** Bounds of the first (or only) network. */
  private primaryBounds: Bounds = this.bounds;
  /** Panels 2… of the side-by-side mode (empty: one network, the classic view). */
  private extras: ExtraPanel[] = [];
  private readonly panelCamera = new THREE.PerspectiveCamera();
  private cssSize: { width: number; height: number } | null = null;
  /** Canvas area covered by the panels (GUI); the camera frames the network in the rest. */
  private insets: Insets = NO_INSETS;
  /** The camera preset last chosen (the GUI's dropdown shows it). */
  preset = DEFAULT_PRESET;
  /** Called when the panel viewports moved (the side-by-side labels follow). */
  onLayout: () => void = () => {};
  /** Measures the insets afresh (the GUI's panels); every fit calls it first. */
  measureInsets: (() => Insets) | null = null;
  /** Whether the camera is where the last fit put it (the user has not moved it since). */
  private fitted = false;
  private tween: CameraTween | null = null;
  private progressive: Progressive | null = null;
  /** The camera fit's points (fitPositions) and what they were collected for. */
  private fitCache: { key: string; points: Float32Array } | null = null;
  /**
   * Measured drawing speed, cost units (vertices) per ms, smoothed over frames, per set of
   * render modes drawn: a vertex of a line costs several times one of a culled sphere bead, so
   * one mode's speed would size the next mode's frames many times over budget.
   */
  private readonly speeds = new Map<string, number>();
  /** Restarts of the progressive picture so far. */
  private generation = 0;
  private dirty = true;
  private drawnCache: number | null = null;
  private frameTimes: number[] = [];
  private lastFrameMs = 0;
  private readonly pixel = new Uint8Array(4);
  private lastTick = 0;
  /** Whether a pointer drags the camera, and, after it let go, how far the ease-out still moves the picture (px). */
  private dragging = false;
  private easeLeftPx = 0;
  /** Smooths the finished picture when the context has no multisampling (antialias 'fxaa'). */
  private readonly fxaa: FxaaPass | null;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly options: ViewerOptions,
  ) {
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: options.antialias === 'msaa', preserveDrawingBuffer: true, alpha: false, powerPreference: 'high-performance' });
    this.fxaa = options.antialias === 'fxaa' ? new FxaaPass() : null;
    this.renderer.setClearColor(0xffffff, 1);
    this.renderer.autoClear = false; // frames add to the canvas (progressive drawing); restarts clear it
    this.three.add(this.group);
    this.edges = new InstanceLayer(this.group, true);
    this.nodes = new InstanceLayer(this.group);
    this.grid = new DensityGridLayer(this.group);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.enableDamping = !options.headless;
    this.controls.autoRotateSpeed = 1.5;
    this.controls.addEventListener('change', () => (this.dirty = true));
    this.controls.addEventListener('start', () => {
      this.fitted = false;
      this.dragging = true;
    });
    this.controls.addEventListener('end', () => (this.dragging = false));
    this.applyRendering();
    this.setCamera(DEFAULT_PRESET, false);
  }

  /** Shows a network; a new file fits the camera, a snapshot of the same one keeps it. */
  show(scene: SceneNetwork, fileName: string | null): void {
    this.showSideBySide([{ scene, label: fileName }]);
  }

  /**
   * Shows one network per panel, side by side in one canvas with one camera: the first in
   * the viewer's own layers, the others in scenes of their own. One entry is the plain view.
   */
  showSideBySide(panels: readonly { scene: SceneNetwork; label: string | null }[]): void {
    if (panels.length === 0) return;
    this.clearExtras();
    const [first, ...rest] = panels;
    const scene = first.scene;
    const edges = allocBuffers(scene.edgeSamples.length / 3);
    const nodes = allocBuffers(scene.nodePositions.length / 3);
    fillEdges(edges, scene);
    fillNodes(nodes, scene);
    if (!this.classExplicit) {
      this.visibility = scene.hasImportance ? 'all' : 'independent';
      this.rendering = { ...this.rendering, class_visibility: this.visibility };
    }
    this.edges.setBuffers(edges);
    this.nodes.setBuffers(nodes);
    this.applyLayers(this.edges, this.nodes);
    this.scene = scene;
    this.fileName = first.label;
    // A new first network: the summary of the old one is gone (processing.ts asks anew).
    this.grid.setSummary(null);
    this.applyGrid();
    this.primaryBounds = boundsOf(scene.nodePositions, scene.edgeSamples);
    for (const p of rest) this.extras.push(this.makePanel(p.scene, p.label ?? `network ${this.extras.length + 2}`));
    this.panelsChanged();
  }

  /** Adds a network as a further panel (the first panel must exist). */
  addPanel(scene: SceneNetwork, label: string): void {
    if (!this.scene) {
      this.show(scene, label);
      return;
    }
    this.extras.push(this.makePanel(scene, label));
    this.panelsChanged();
  }

  /** Back to the first network alone. */
  leaveSideBySide(): void {
    if (this.extras.length === 0) return;
    this.clearExtras();
    this.panelsChanged();
  }

  /** Number of panels side by side (1: the plain view). */
  get panelCount(): number {
    return 1 + this.extras.length;
  }

  /** The label of each panel (the file name of the first). */
  panelLabels(): string[] {
    return [this.fileName ?? '', ...this.extras.map((p) => p.label)];
  }

  /** The network of a panel. */
  panelScene(panel: number): SceneNetwork | null {
    return this.panelViews()[panel]?.scene ?? null;
  }

  /** The panel under a canvas x coordinate (CSS pixels): the nearest slot. */
  panelAt(x: number): number {
    const rects = this.panelRects();
    let best = 0;
    rects.forEach((r, i) => {
      if (x >= r.x) best = i;
    });
    return best;
  }

  /** Canvas area covered by the panels (CSS pixels): the camera frames the network in the rest. */
  setInsets(insets: Insets): void {
    const old = this.insets;
    const changed = (['left', 'right', 'top', 'bottom'] as const).some((k) => Math.abs(old[k] - insets[k]) > 1);
    if (!changed) return; // (measured every half second: an unchanged layout must not restart the picture)
    this.insets = { ...insets };
    this.updateAspect();
    if (this.fitted && !this.tween) this.refit(false);
    this.onLayout();
  }

  private canvasSize(): { width: number; height: number } {
    if (this.cssSize) return this.cssSize;
    const r = this.canvas.getBoundingClientRect();
    return { width: r.width || this.canvas.width, height: r.height || this.canvas.height };
  }

  /**
   * Each panel's viewport (CSS pixels): the whole canvas for one network; side by side,
   * equal slots across the width the panels (insets) leave free.
   */
  panelRects(): Rect[] {
    const { width, height } = this.canvasSize();
    const n = this.panelCount;
    if (n === 1) return [{ x: 0, y: 0, width, height }];
    const left = Math.min(this.insets.left, width * 0.4);
    const right = Math.min(this.insets.right, width * 0.4);
    const w = Math.max(n, width - left - right) / n;
    return Array.from({ length: n }, (_, i) => ({ x: left + i * w, y: 0, width: w, height }));
  }

  /**
   * The part of panel 0's viewport the fitted network fills (CSS pixels, relative to the
   * viewport): one network, the area the insets leave free; side by side, the slot less its label.
   */
  frameRect(): Rect {
    const [r] = this.panelRects();
    if (this.panelCount > 1) return { x: 0, y: 0, width: r.width, height: Math.max(r.height * 0.5, r.height - LABEL_RESERVE) };
    const { left, right, top, bottom } = this.insets;
    // Panels covering most of a small window: frame in at least a third of it anyway.
    const l = Math.min(left, r.width * 0.3);
    const w = Math.max(r.width * 0.3, r.width - l - right);
    const t = Math.min(top, r.height * 0.25);
    const h = Math.max(r.height * 0.5, r.height - t - bottom);
    return { x: l, y: t, width: Math.min(w, r.width - l), height: Math.min(h, r.height - t) };
  }

  private makePanel(scene: SceneNetwork, label: string): ExtraPanel {
    const root = new THREE.Scene();
    const group = new THREE.Group();
    root.add(group);
    const edges = new InstanceLayer(group, true);
    edges.simplify = this.edges.simplify;
    const nodes = new InstanceLayer(group);
    const eb = allocBuffers(scene.edgeSamples.length / 3);
    const nb = allocBuffers(scene.nodePositions.length / 3);
    fillEdges(eb, scene);
    fillNodes(nb, scene);
    edges.setBuffers(eb);
    nodes.setBuffers(nb);
    const panel: ExtraPanel = { label, scene, root, edges, nodes, bounds: boundsOf(scene.nodePositions, scene.edgeSamples), drawnCache: null };
    this.applyLayers(panel.edges, panel.nodes);
    return panel;
  }

  private clearExtras(): void {
    for (const p of this.extras) {
      p.edges.dispose();
      p.nodes.dispose();
    }
    this.extras = [];
  }

  /** New panel set: framing bounds, aspect, the default view. */
  private panelsChanged(): void {
    this.updateFraming();
    this.updateAspect();
    this.setCamera(DEFAULT_PRESET, false);
    this.changed();
  }

  /** Re-fits the camera along its current direction (after live processing moved the network). */
  refit(animate = true): void {
    const dir = this.camera.position.clone().sub(this.controls.target);
    if (dir.lengthSq() < 1e-12) dir.set(...CAMERA_PRESETS[this.preset].dir);
    this.flyTo(dir.normalize(), animate);
  }

  /**
   * The framing box: with one network its bounds; side by side, every panel's box moved onto
   * the first one's centre, so each panel is framed alike at the same camera distance.
   */
  private updateFraming(): void {
    const first = this.primaryBounds;
    if (this.extras.length === 0) {
      this.bounds = first;
      return;
    }
    const min = [...first.min] as [number, number, number];
    const max = [...first.max] as [number, number, number];
    let radius = first.radius;
    for (const p of this.extras) {
      for (let k = 0; k < 3; k++) {
        min[k] = Math.min(min[k], first.center[k] + p.bounds.min[k] - p.bounds.center[k]);
        max[k] = Math.max(max[k], first.center[k] + p.bounds.max[k] - p.bounds.center[k]);
      }
      radius = Math.max(radius, p.bounds.radius);
    }
    this.bounds = { min, max, center: first.center, radius };
  }

  /**
   * Aspect of panel 0's viewport, and a view offset that puts the projection centre in the
   * middle of the frame rectangle (so a fitted network sits in the area the panels leave free
   * and orbits about its own middle there).
   */
  private updateAspect(): void {
    if (!this.cssSize) return;
    const [r] = this.panelRects();
    const f = this.frameRect();
    this.camera.aspect = r.width / r.height;
    const offX = r.width / 2 - (f.x + f.width / 2);
    const offY = r.height / 2 - (f.y + f.height / 2);
    if (Math.abs(offX) > 0.5 || Math.abs(offY) > 0.5) this.camera.setViewOffset(r.width, r.height, offX, offY, r.width, r.height);
    else this.camera.clearViewOffset();
    this.camera.updateProjectionMatrix();
    this.dirty = true;
  }

  private panelViews(): PanelView[] {
    return [{ label: this.fileName, scene: this.scene, root: this.three, edges: this.edges, nodes: this.nodes, bounds: this.primaryBounds }, ...this.extras];
  }

  /** The shared camera moved to panel `i`'s network (same direction and distance to its centre). */
  private cameraFor(i: number): THREE.PerspectiveCamera {
    if (i === 0) return this.camera;
    const c = this.panelCamera.copy(this.camera);
    const from = this.primaryBounds.center;
    const to = this.extras[i - 1].bounds.center;
    c.position.add(new THREE.Vector3(to[0] - from[0], to[1] - from[1], to[2] - from[2]));
    c.updateMatrixWorld(true);
    return c;
  }

  /** New positions from live processing: in place when they fit, else grown by 1.5×. */
  updateGeometry(nodePositions: Float32Array, edgeSampleOffsets: Uint32Array, edgeSamples: Float32Array): void {
    if (!this.scene) return;
    // The engine's positions: bundled (or on the way there), whatever the file was.
    const scene: SceneNetwork = { ...this.scene, kind: 'processed', nodePositions, edgeSampleOffsets, edgeSamples };
    this.scene = scene;
    const S = edgeSamples.length / 3;
    this.refill(this.edges, S, (b) => fillEdges(b, scene));
    this.refill(this.nodes, nodePositions.length / 3, (b) => fillNodes(b, scene));
    this.primaryBounds = boundsOf(nodePositions, edgeSamples);
    this.updateFraming();
    this.changed();
  }

  private refill(layer: InstanceLayer, count: number, fill: (b: InstanceBuffers) => void): void {
    if (count <= layer.buffers.capacity && layer.buffers.count > 0) {
      fill(layer.buffers);
      layer.markUpdated();
    } else {
      const b = allocBuffers(Math.ceil(count * 1.5));
      fill(b);
      layer.setBuffers(b);
    }
  }

  /** Flat rendering keys ('edges.size', 'class_visibility', …), validated like a config file. */
  setRendering(values: Record<string, string | number | boolean>, source = 'rendering'): void {
    this.rendering = applyConfig('rendering', this.rendering, values, source);
    if ('class_visibility' in values) {
      this.visibility = visibilityFromConfig(this.rendering.class_visibility as string);
      this.classExplicit = true;
    }
    this.applyRendering();
  }

  /**
   * `explicit`: chosen by the user or the caller (URL, API, GUI); until then a file with
   * importance opens in all class colours, one without in independent grey.
   */
  setClassVisibility(v: ClassVisibility, explicit = true): void {
    if (explicit) this.classExplicit = true;
    this.visibility = v;
    // rendering.json names classes 0–9 only; higher classes are shown but not saved.
    if (typeof v !== 'number' || v <= 9) this.rendering = { ...this.rendering, class_visibility: visibilityToConfig(v) };
    this.applyRendering();
  }

  /** Whether the density grid is switched on (cube or point) for a loaded network. */
  gridWanted(): boolean {
    const mode = this.rendering['grid.render_mode'];
    return this.scene !== null && (mode === 'cube' || mode === 'point');
  }

  /** A density-grid summary from the processing worker (null: drop it). */
  setGridSummary(summary: DensitySummary | null): void {
    this.grid.setSummary(summary);
    this.applyGrid();
    this.changed();
  }

  private applyGrid(): void {
    this.grid.update(this.rendering['grid.render_mode'] as string, this.visibility, this.rendering.palette as string);
  }

  private applyRendering(): void {
    const mode = this.rendering['grid.render_mode'] as string;
    const switchedOn = this.grid.mode !== mode && (mode === 'cube' || mode === 'point') && this.grid.mode !== 'cube' && this.grid.mode !== 'point';
    this.applyGrid();
    // Switched on (the summary may be stale) or still without one: ask the worker.
    if (this.gridWanted() && (switchedOn || !this.grid.hasSummary)) this.onGridWanted();
    this.applyLayers(this.edges, this.nodes);
    for (const p of this.extras) this.applyLayers(p.edges, p.nodes);
    this.changed();
  }

  /** Render settings and class visibility onto one panel's layers. */
  private applyLayers(edges: InstanceLayer, nodes: InstanceLayer): void {
    edges.setParams(shaderParams(this.rendering, 'edges'));
    nodes.setParams(shaderParams(this.rendering, 'nodes'));
    edges.setMode(this.rendering['edges.render_mode'] as string);
    nodes.setMode(this.rendering['nodes.render_mode'] as string);
    const cls = classUniform(this.visibility);
    const palette = this.rendering.palette as string;
    edges.setClass(cls, palette);
    nodes.setClass(cls, palette);
  }

  private changed(): void {
    this.drawnCache = null;
    for (const p of this.extras) p.drawnCache = null;
    this.dirty = true;
    this.onChange();
  }

  classCount(): number {
    return this.scene?.net.classNames.length ?? 0;
  }

  /** Jumps (or flies, when animated) to a preset, framing the network in the free area. */
  setCamera(preset: number, animate = false): void {
    this.preset = Math.max(0, Math.min(CAMERA_PRESETS.length - 1, Math.round(preset)));
    this.flyTo(new THREE.Vector3(...CAMERA_PRESETS[this.preset].dir).normalize(), animate);
    this.onChange();
  }

  private flyTo(dir: THREE.Vector3, animate: boolean): void {
    if (this.measureInsets) {
      this.insets = this.measureInsets();
      this.updateAspect();
    }
    const { position, target } = this.fitAlong(dir);
    this.fitted = true;
    if (animate && !this.options.headless) {
      this.tween = { from: this.camera.position.clone(), to: position, fromTarget: this.controls.target.clone(), toTarget: target, start: performance.now(), duration: 700 };
    } else {
      this.tween = null;
      this.controls.target.copy(target);
      this.camera.position.copy(position);
      this.camera.lookAt(target);
      this.controls.update();
    }
    this.dirty = true;
  }

  /**
   * Where the camera looks along −`dir` from, so that everything drawn fills FIT_FILL of the
   * frame rectangle in the binding direction, centred in it. Exact for the perspective
   * projection: a point p (relative to the first network's centre) with X = p·right,
   * Y = p·up, Z = p·dir is inside when |X − a| ≤ tx·(D − Z) and |Y − b| ≤ ty·(D − Z) for a
   * camera at distance D shifted by (a, b); the smallest such D is
   * max_p(X/2tx + Z/2) + max_p(−X/2tx + Z/2) (and the same for y), and a, b are then the
   * middles of the feasible intervals. Side by side, every panel's points count, each moved
   * onto the first network's centre (the panels share the camera relative to their centres).
   */
  private fitAlong(dir: THREE.Vector3): { position: THREE.Vector3; target: THREE.Vector3 } {
    const right = new THREE.Vector3().crossVectors(new THREE.Vector3(0, 1, 0), dir);
    if (right.lengthSq() < 1e-8) right.set(1, 0, 0);
    right.normalize();
    const up = new THREE.Vector3().crossVectors(dir, right).normalize();
    const [r] = this.panelRects();
    const f = this.frameRect();
    const tanV = Math.tan(THREE.MathUtils.degToRad(this.camera.fov) / 2);
    const tanH = tanV * (r.width / r.height);
    const tx = (f.width / r.width) * tanH * FIT_FILL;
    const ty = (f.height / r.height) * tanV * FIT_FILL;
    const pts = this.fitPoints(right, up, dir);
    const n = pts.length / 3;
    let ax = -Infinity;
    let bx = -Infinity;
    let ay = -Infinity;
    let by = -Infinity;
    let zmax = -Infinity;
    for (let i = 0; i < n; i++) {
      const X = pts[i * 3];
      const Y = pts[i * 3 + 1];
      const Z = pts[i * 3 + 2];
      ax = Math.max(ax, X / (2 * tx) + Z / 2);
      bx = Math.max(bx, -X / (2 * tx) + Z / 2);
      ay = Math.max(ay, Y / (2 * ty) + Z / 2);
      by = Math.max(by, -Y / (2 * ty) + Z / 2);
      zmax = Math.max(zmax, Z);
    }
    const radius = this.bounds.radius;
    const D = Math.max(ax + bx, ay + by, zmax + radius * 0.05, radius * 0.3);
    let loX = -Infinity;
    let hiX = Infinity;
    let loY = -Infinity;
    let hiY = Infinity;
    for (let i = 0; i < n; i++) {
      const X = pts[i * 3];
      const Y = pts[i * 3 + 1];
      const depth = D - pts[i * 3 + 2];
      loX = Math.max(loX, X - tx * depth);
      hiX = Math.min(hiX, X + tx * depth);
      loY = Math.max(loY, Y - ty * depth);
      hiY = Math.min(hiY, Y + ty * depth);
    }
    const a = n > 0 ? (loX + hiX) / 2 : 0;
    const b = n > 0 ? (loY + hiY) / 2 : 0;
    const target = new THREE.Vector3(...this.primaryBounds.center).addScaledVector(right, a).addScaledVector(up, b);
    return { position: target.clone().addScaledVector(dir, D), target };
  }

  /**
   * The points the camera fit frames, relative to the first network's centre: every instance
   * drawn with drawn importance ≥ FIT_MIN_IMPORTANCE, else every drawn one, else the corners
   * of the bounding boxes. Cached until what is drawn changes (a preset change only projects).
   */
  private fitPositions(): Float32Array {
    const views = this.panelViews();
    const key = views.map((p) => `${p.edges.stateKey}/${p.nodes.stateKey}`).join(',');
    if (this.fitCache?.key === key) return this.fitCache.points;
    const total = views.reduce((a, p) => a + p.edges.buffers.count + p.nodes.buffers.count, 0);
    const out = new Float32Array((total + 8 * views.length) * 3);
    let k = 0;
    const push = (x: number, y: number, z: number): void => {
      out[k++] = x;
      out[k++] = y;
      out[k++] = z;
    };
    for (const minImportance of [FIT_MIN_IMPORTANCE, 0]) {
      for (const p of views) {
        const dx = -p.bounds.center[0];
        const dy = -p.bounds.center[1];
        const dz = -p.bounds.center[2];
        for (const layer of [p.edges, p.nodes]) {
          if (layer.mode === 'none' || layer.uniforms.uSize.value <= 0) continue;
          const { texels, importance, colors, end, count } = layer.buffers;
          const threshold = layer.uniforms.uThreshold.value;
          const scale = layer.uniforms.uImportanceScale.value;
          for (let i = 0; i < count; i++) {
            const imp = decodedImportance(importance[i], end[i] === 1) * (colors[i * 4 + 3] / 255);
            if (imp < threshold || Math.min(1, imp * scale) < minImportance) continue;
            push(texels[i * 4] + dx, texels[i * 4 + 1] + dy, texels[i * 4 + 2] + dz);
          }
        }
      }
      if (k > 0) break;
    }
    if (k === 0) {
      for (const p of views) {
        const { min, max, center } = p.bounds;
        for (let i = 0; i < 8; i++) push((i & 1 ? max[0] : min[0]) - center[0], (i & 2 ? max[1] : min[1]) - center[1], (i & 4 ? max[2] : min[2]) - center[2]);
      }
    }
    this.fitCache = { key, points: out.slice(0, k) };
    return this.fitCache.points;
  }

  /** The fit points (fitPositions) as (X, Y, Z) along right, up and dir. */
  private fitPoints(right: THREE.Vector3, up: THREE.Vector3, dir: THREE.Vector3): Float32Array {
    const pts = this.fitPositions();
    const out = new Float32Array(pts.length);
    for (let i = 0; i < pts.length; i += 3) {
      const x = pts[i];
      const y = pts[i + 1];
      const z = pts[i + 2];
      out[i] = x * right.x + y * right.y + z * right.z;
      out[i + 1] = x * up.x + y * up.y + z * up.z;
      out[i + 2] = x * dir.x + y * dir.y + z * dir.z;
    }
    return out;
  }

  /** Polyline simplification (docs/PERFORMANCE.md#rendering: the pixel difference) on or off. */
  setSimplify(on: boolean): void {
    for (const p of this.panelViews()) p.edges.simplify = on;
    this.changed();
  }

  get simplify(): boolean {
    return this.edges.simplify;
  }

  /** How much one animation frame draws (LodSetting) and the frame budget for 'auto'; restarts the picture. */
  setDrawing(lod: LodSetting, budgetMs = this.frameBudgetMs): void {
    this.lod = lod;
    this.frameBudgetMs = Math.max(1, budgetMs);
    this.dirty = true;
  }

  /** Canvas size in pixels (device pixel ratio 1 when called from automation). */
  setSize(width: number, height: number, pixelRatio = 1): void {
    this.renderer.setPixelRatio(pixelRatio);
    this.renderer.setSize(width, height, true);
    this.cssSize = { width, height };
    this.updateAspect();
    if (this.fitted && !this.tween && this.scene) this.refit(false);
  }

  setAutoRotate(on: boolean): void {
    this.controls.autoRotate = on;
    this.dirty = true;
  }

  /** Advances animations; returns whether a frame should be drawn. */
  tick(now: number): boolean {
    if (this.tween) {
      const t = Math.min(1, (now - this.tween.start) / this.tween.duration);
      const e = t < 0.5 ? 4 * t * t * t : 1 - (-2 * t + 2) ** 3 / 2;
      const target = this.controls.target.lerpVectors(this.tween.fromTarget, this.tween.toTarget, e);
      // Interpolate direction and distance separately so the flight orbits, not cuts through.
      const a = this.tween.from.clone().sub(this.tween.fromTarget);
      const b = this.tween.to.clone().sub(this.tween.toTarget);
      const dir = a.clone().normalize().lerp(b.clone().normalize(), e).normalize();
      this.camera.position.copy(target).addScaledVector(dir, a.length() + (b.length() - a.length()) * e);
      this.camera.lookAt(target);
      if (t >= 1) this.tween = null;
      this.dirty = true;
    }
    const f = this.dragging ? dampingFactor(now - this.lastTick) : easeOutFactor(now - this.lastTick, this.easeLeftPx);
    this.controls.dampingFactor = f;
    this.lastTick = now;
    const before = this.controls.enableDamping ? this.probePixels() : null;
    this.controls.update();
    this.easeLeftPx = before ? easeOutLeft(maxShift(before, this.probePixels()), f) : 0;
    const wasDirty = this.dirty;
    this.dirty = false;
    return wasDirty || this.controls.autoRotate;
  }

  /** Where the network's centre and the ends of its bounding sphere's axes are on the canvas (px, x y pairs). */
  private probePixels(): number[] {
    const { center, radius } = this.primaryBounds;
    const size = this.renderer.getSize(new THREE.Vector2());
    this.camera.updateMatrixWorld();
    const out: number[] = [];
    const p = new THREE.Vector3();
    for (const [axis, sign] of [[0, 0], [0, 1], [0, -1], [1, 1], [1, -1], [2, 1], [2, -1]]) {
      p.set(...center);
      p.setComponent(axis, p.getComponent(axis) + sign * radius);
      p.project(this.camera);
      out.push(p.x * size.x * 0.5, p.y * size.y * 0.5);
    }
    return out;
  }

  /** Asks the desktop loop for a new frame. */
  invalidate(): void {
    this.dirty = true;
  }

  /** The scene's drawables in panel order, each with its draw item for the scheduler. */
  private drawables(): Drawable[] {
    const out: Drawable[] = [];
    this.panelViews().forEach((p, panel) => {
      for (const layer of [p.edges, p.nodes]) {
        const object = layer.drawable;
        const count = object ? layer.runCount : 0;
        if (object && count > 0) {
          out.push({ panel, layer, object, item: { count, cost: layer.runCost, opaque: layer.opaque } });
        }
      }
    });
    const grid = this.grid.drawable;
    if (grid) out.push({ panel: 0, layer: null, object: grid, item: { count: 1, cost: this.grid.drawCost, opaque: false } });
    return out;
  }

  /** Camera planes and the per-panel uniforms that depend on the camera; false in VR. */
  private prepareFrame(): boolean {
    if (this.xrPresenting) return false;
    const center = new THREE.Vector3(...this.bounds.center);
    const d = this.camera.position.distanceTo(center);
    const R = this.bounds.radius * 1.1;
    this.camera.near = Math.max(d - R, R * 0.002);
    this.camera.far = d + R;
    this.camera.updateProjectionMatrix();
    const size = this.renderer.getDrawingBufferSize(new THREE.Vector2());
    const pointScale = size.y / (2 * Math.tan(THREE.MathUtils.degToRad(this.camera.fov) / 2));
    for (const p of this.panelViews()) {
      for (const layer of [p.edges, p.nodes]) {
        layer.uniforms.uDepthRange.value.set(Math.max(0, d - p.bounds.radius), d + p.bounds.radius);
        layer.uniforms.uPointScale.value = pointScale;
      }
    }
    return true;
  }

  /** White canvas (every panel and the area beside them). */
  private clearCanvas(): void {
    const size = this.renderer.getSize(new THREE.Vector2());
    this.renderer.setScissorTest(false);
    this.renderer.setViewport(0, 0, size.x, size.y);
    this.renderer.clear();
  }

  /** Draws chunks onto what the canvas holds; side by side, each in its panel's viewport. */
  private drawChunks(drawables: readonly Drawable[], chunks: readonly Chunk[]): void {
    const size = this.renderer.getSize(new THREE.Vector2());
    const rects = this.extras.length > 0 ? this.panelRects() : null;
    let viewportOf = -1;
    for (const c of chunks) {
      const d = drawables[c.item];
      if (rects && d.panel !== viewportOf) {
        viewportOf = d.panel;
        const x0 = Math.round(rects[d.panel].x);
        const x1 = Math.round(rects[d.panel].x + rects[d.panel].width);
        this.renderer.setViewport(x0, 0, x1 - x0, size.y);
        this.renderer.setScissor(x0, 0, x1 - x0, size.y);
        this.renderer.setScissorTest(true);
      }
      d.layer?.setRange(c.stride, c.phase, c.first, c.count);
      this.renderer.render(d.object, this.cameraFor(d.panel));
    }
    if (rects) {
      this.renderer.setScissorTest(false);
      this.renderer.setViewport(0, 0, size.x, size.y);
    }
  }

  /**
   * Draws the whole frame at once (synchronously issued): `frame()`, `screenshot()`,
   * `nnvis render`. The canvas then holds the converged picture, so a progressive
   * accumulation in progress is over. Nothing while a VR session draws the scene.
   */
  render(): void {
    if (!this.prepareFrame()) return;
    const t0 = performance.now();
    const drawables = this.drawables();
    const acc = new Accumulation(
      drawables.map((d) => d.item),
      Infinity,
    );
    this.clearCanvas();
    this.drawChunks(drawables, acc.next(Infinity));
    this.fxaa?.apply(this.renderer);
    this.dirty = false;
    this.progressive = { acc, drawables, frameCost: Infinity, frames: 1, largestFrame: acc.totalCost, started: t0, convergedMs: 0, speedKey: speedKey(drawables) };
    this.recordFrame(t0);
  }

  /**
   * One animation frame of the interactive view: after any change (camera, settings, file)
   * the picture restarts as a coarse first pass sized to the frame budget, and later frames
   * add chunks of the same cost until it has everything. Returns whether it drew.
   */
  step(now: number): boolean {
    // The restart's own time, not the frame's timestamp: that is stale after a long task (a one-shot frame).
    if (this.tick(now) || !this.progressive) this.restart(performance.now());
    const p = this.progressive;
    if (!p || p.acc.done || !this.prepareFrame()) return false;
    const before = p.acc.drawnCost;
    const gl = this.renderer.getContext();
    // Settle earlier GPU work (the compositor's) first, so the time below is this frame's drawing.
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, this.pixel);
    const t0 = performance.now();
    // A view left alone for a moment fills in with larger frames: fewer of them, so less of the
    // machine goes to presenting each one (the same picture about 20 % sooner in software).
    const budgetMs = this.frameBudgetMs * (t0 - p.started >= STILL_MS ? FILL_BUDGET_FACTOR : 1);
    const speed = this.speeds.get(p.speedKey) ?? INITIAL_COST_PER_MS;
    this.drawChunks(p.drawables, p.acc.next(this.lod === 'auto' ? budgetMs * speed : p.frameCost));
    if (p.acc.done) this.fxaa?.apply(this.renderer);
    // Wait for the pixels: the cost of what was drawn, and no queue of GPU work building up.
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, this.pixel);
    const ms = performance.now() - t0;
    const cost = p.acc.drawnCost - before;
    // Slower at once, faster only gradually: a frame over budget (other work on the machine, a
    // costly view) must not be followed by another one.
    if (ms > 1) {
      const rate = cost / ms;
      this.speeds.set(p.speedKey, Math.max(MIN_COST_PER_MS, rate < speed ? rate : 0.8 * speed + 0.2 * rate));
    }
    p.frames++;
    p.largestFrame = Math.max(p.largestFrame, cost);
    if (p.acc.done) p.convergedMs = performance.now() - p.started;
    this.recordFrame(t0);
    return true;
  }

  /**
   * A new accumulation on a cleared canvas. Its first pass (and each later frame) costs the
   * frame budget at the speed the last frames were drawn at, or with a fixed level of detail
   * 1 / lod of the whole (lod 1: everything in one frame).
   */
  private restart(now: number): void {
    this.generation++;
    const drawables = this.drawables();
    const items = drawables.map((d) => d.item);
    const full = items.reduce((a, it) => a + it.count * it.cost, 0);
    const key = speedKey(drawables);
    const passCost = this.lod === 'auto' ? this.frameBudgetMs * (this.speeds.get(key) ?? INITIAL_COST_PER_MS) : this.lod <= 1 ? Infinity : full / this.lod;
    this.progressive = { acc: new Accumulation(items, passCost), drawables, frameCost: passCost, frames: 0, largestFrame: 0, started: now, convergedMs: 0, speedKey: key };
    this.clearCanvas();
  }

  /** The progressive accumulation now (nnvis.progress()). */
  progress(): ProgressState {
    const p = this.progressive;
    if (!p) return { generation: this.generation, done: !this.dirty, share: 1, frames: 0, largestFrameShare: 0, convergedMs: 0 };
    const total = p.acc.totalCost;
    // A change not drawn yet (the next animation frame restarts the picture) is not done.
    return { generation: this.generation, done: p.acc.done && !this.dirty, share: p.acc.progress, frames: p.frames, largestFrameShare: total > 0 ? p.largestFrame / total : 0, convergedMs: p.convergedMs };
  }

  /** The three.js scene (WebXR adds its rig and controllers to it). */
  get sceneRoot(): THREE.Scene {
    return this.three;
  }

  /** Bounding box of the (first) network in its own coordinates. */
  get networkBounds(): Bounds {
    return this.primaryBounds;
  }

  /**
   * Draws the scene with a WebXR camera. `eye` is the viewer's position in network
   * coordinates (the depth-opacity range), `pointScale` pixels per unit at distance 1.
   */
  renderXR(camera: THREE.Camera, eye: THREE.Vector3, pointScale: number): void {
    const b = this.primaryBounds;
    const d = eye.distanceTo(new THREE.Vector3(...b.center));
    for (const layer of [this.edges, this.nodes]) {
      layer.uniforms.uDepthRange.value.set(Math.max(0, d - b.radius), d + b.radius);
      layer.uniforms.uPointScale.value = pointScale;
    }
    this.edges.setWhole(this.xrLod);
    this.nodes.setWhole();
    const t0 = performance.now();
    this.renderer.autoClear = true;
    this.renderer.render(this.three, camera);
    this.renderer.autoClear = false;
    this.progressive = null; // the desktop picture starts afresh after the session
    this.recordFrame(t0);
  }

  /** Renders one frame and waits until the GPU finished it (a 1×1 readPixels); returns ms. */
  async frame(): Promise<number> {
    const t0 = performance.now();
    this.render();
    const gl = this.renderer.getContext();
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, this.pixel);
    const ms = performance.now() - t0;
    this.lastFrameMs = ms;
    return ms;
  }

  /** Makes the canvas hold the full picture: drawn at once unless it does already (after frame(), or converged). */
  fullPicture(): void {
    if (this.dirty || !this.progressive?.acc.done) this.render();
  }

  /** PNG of the full picture. */
  screenshot(): string {
    this.fullPicture();
    return this.canvas.toDataURL('image/png');
  }

  private recordFrame(t0: number): void {
    this.frameTimes.push(t0);
    while (this.frameTimes.length > 0 && t0 - this.frameTimes[0] > 1000) this.frameTimes.shift();
  }

  /** Statistics of a panel (default the first: the only one outside side-by-side mode). */
  stats(panel = 0): ViewerStats {
    const extra = panel > 0 ? this.extras[panel - 1] : undefined;
    const view = extra ?? this.panelViews()[0];
    const scene = view.scene;
    let drawn: number;
    if (extra) {
      extra.drawnCache ??= extra.edges.drawnInstances() + extra.nodes.drawnInstances();
      drawn = extra.drawnCache;
    } else {
      this.drawnCache ??= scene ? this.edges.drawnInstances() + this.nodes.drawnInstances() : 0;
      drawn = this.drawnCache;
    }
    const recent = this.frameTimes.length;
    // Headless renders only on request: report the last measured frame rate instead.
    const fps = this.options.headless ? (this.lastFrameMs > 0 ? 1000 / this.lastFrameMs : 0) : recent;
    return {
      edges: scene ? scene.edgeSampleOffsets.length - 1 : 0,
      prunedEdges: scene ? prunedEdgeCount(scene.edgeSampleOffsets) : 0,
      samples: scene ? scene.edgeSamples.length / 3 : 0,
      drawnInstances: drawn,
      gridCells: scene ? gridCellsOf(scene.net.meta) : 0,
      densityCells: extra ? 0 : this.grid.drawn,
      fps: Math.round(fps * 10) / 10,
      gpuMemoryBytes: view.edges.gpuBytes() + view.nodes.gpuBytes() + (extra ? 0 : this.grid.gpuBytes()),
      kind: scene?.kind ?? 'none',
      file: view.label,
      renderer: this.options.rendererName,
      antialias: this.options.antialias,
      xrMode: this.xrMode,
    };
  }

  /** Screen position (CSS pixels on the canvas) of every node of a panel, for picking. */
  projectNodes(panel = 0): Float32Array | null {
    const scene = this.panelScene(panel);
    if (!scene) return null;
    const p = scene.nodePositions;
    const out = new Float32Array((p.length / 3) * 2);
    const slot = this.panelRects()[panel];
    const camera = this.cameraFor(panel);
    const v = new THREE.Vector3();
    for (let i = 0; i < p.length / 3; i++) {
      v.set(p[i * 3], p[i * 3 + 1], p[i * 3 + 2]).project(camera);
      out[i * 2] = v.z > 1 ? NaN : slot.x + ((v.x + 1) / 2) * slot.width;
      out[i * 2 + 1] = slot.y + ((1 - v.y) / 2) * slot.height;
    }
    return out;
  }
}

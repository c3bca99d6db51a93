// Entry point: reads the URL parameters, creates the view, the panels (unless headless) and
// the automation API `window.nnvis` that `nnvis render`, benchmarks and tests drive.

import './style.css';
import { ANTIALIAS_MODES, isAntialiasRequest, resolveAntialias } from '../core/antialias.ts';
import { decodeNetwork, encodeNetwork } from '../core/container.ts';
import { defaultConfig } from '../core/config.ts';
import { InputError } from '../core/errors.ts';
import { generateNetwork } from '../core/generate.ts';
import type { Network } from '../core/network.ts';
import { rendererName } from './fxaa.ts';
import { createUi, download, type Ui } from './gui.ts';
import type { ClassVisibility } from './layer.ts';
import { ProcessingPanel } from './processing.ts';
import { toScene } from './scene-data.ts';
import { Viewer, type ProgressState, type Rect, type ViewerStats } from './viewer.ts';
import { ViewerXr, type XrApi } from './xr.ts';

export interface NnvisApi {
  ready: Promise<void>;
  load(source: string | ArrayBuffer, name?: string): Promise<void>;
  /** Several networks side by side (one viewport each, one linked camera); labels default to the file names. */
  loadSideBySide(sources: (string | ArrayBuffer)[], labels?: string[]): Promise<void>;
  /** Adds a network as a further side-by-side panel (compare with the scene shown). */
  compareWith(source: string | ArrayBuffer, name?: string): Promise<void>;
  /** Back to the first network alone. */
  leaveSideBySide(): void;
  /** Statistics of every panel (one entry outside side-by-side mode). */
  panelStats(): ViewerStats[];
  setRendering(values: Record<string, string | number | boolean>): void;
  setClassVisibility(v: ClassVisibility): void;
  setCamera(preset: number, animate?: boolean): void;
  setSize(width: number, height: number): void;
  frame(): Promise<number>;
  screenshot(): Promise<string>;
  /** How much one animation frame of the interactive view draws: 'auto' (the frame budget, ms) or 1/lod of the scene. */
  setDrawing(lod: 'auto' | number, budgetMs?: number): void;
  /** Polyline simplification of ellipsoid and line edges (on by default). */
  setSimplify(on: boolean): void;
  /** The interactive view's progressive drawing: how far the picture is. */
  progress(): ProgressState;
  /** Resolves once the interactive view shows the full picture (at once when headless). */
  settled(): Promise<ProgressState>;
  /** The canvas as it is now, as a PNG data URL (nothing is drawn). */
  canvasImage(): string;
  stats(): ViewerStats;
  /**
   * Where the networks are drawn (CSS pixels of the canvas): each panel's viewport and the
   * frame the camera fit fills (panel 0's free area: the canvas less what the control
   * panels cover), and the current camera preset.
   */
  layout(): { panels: Rect[]; frame: Rect; preset: number };
  lastError(): string | null;
  /** WebXR: enter / leave the immersive-vr session, read the model's VR state. */
  xr: XrApi;
}

declare global {
  interface Window {
    nnvis: NnvisApi;
  }
}

const params = new URLSearchParams(location.search);
const headless = params.get('headless') === '1';
const fixedWidth = Number(params.get('width')) || 0;
const fixedHeight = Number(params.get('height')) || 0;

const app = document.getElementById('app')!;
const canvas = document.createElement('canvas');
canvas.id = 'view';
app.appendChild(canvas);
const aaParam = params.get('antialias') ?? 'auto';
const webgl = rendererName();
const antialias = resolveAntialias(isAntialiasRequest(aaParam) ? aaParam : 'auto', webgl);
const viewer = new Viewer(canvas, { headless, antialias, rendererName: webgl || 'unknown (hidden by the browser)' });
const xr = new ViewerXr(viewer);

let lastError: string | null = isAntialiasRequest(aaParam) ? null : `URL parameter antialias=${aaParam}: allowed are ${ANTIALIAS_MODES.join(', ')}; using auto (${antialias})`;
let ui: Ui | null = null;

// The processing worker: the Processing panel's actions and the density grid (also headless).
const processing = new ProcessingPanel(viewer, () => new Worker(new URL('./process-worker.ts', import.meta.url), { type: 'module' }), {
  showError: (message) => {
    if (ui) ui.showError(message);
    else lastError = message;
  },
  download,
  fileName: () => viewer.fileName ?? 'network.nnvis',
  gridPending: (pending) => ui?.showNotice(pending ? 'computing the density grid…' : null),
});

/** The file name a URL or path shows in messages and panels. */
function baseName(source: string): string {
  return decodeURIComponent(source.split(/[?#]/)[0].split('/').pop() || source);
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

interface Loaded {
  net: Network;
  label: string;
  bytes: ArrayBuffer;
}

/** Fetches (a URL) and decodes a container; throws with the one-line message. */
async function read(source: string | ArrayBuffer, name?: string, fallback = 'network.nnvis'): Promise<Loaded> {
  let bytes: ArrayBuffer;
  const label = name ?? (typeof source === 'string' ? baseName(source) : fallback);
  if (typeof source === 'string') {
    let response: Response;
    try {
      response = await fetch(source);
    } catch (err) {
      throw new InputError(`${label}: cannot fetch (${oneLine(err)})`, { cause: err });
    }
    if (!response.ok) throw new InputError(`${label}: HTTP ${response.status} ${response.statusText}`.trim());
    bytes = await response.arrayBuffer();
  } else {
    bytes = source;
  }
  return { net: decodeNetwork(new Uint8Array(bytes), label), label, bytes };
}

/** Records and shows a failure (the scene stays) and rethrows it as one line. */
function fail(err: unknown): never {
  lastError = oneLine(err);
  ui?.showError(lastError);
  throw new Error(lastError, { cause: err });
}

/** Decodes and shows a container; on any problem the scene stays and the error is shown. */
async function load(source: string | ArrayBuffer, name?: string): Promise<void> {
  try {
    const { net, label, bytes } = await read(source, name);
    showNetwork(net, label, bytes);
  } catch (err) {
    fail(err);
  }
}

/** Every file decoded first: one bad file shows the error and keeps the current scene. */
async function loadSideBySide(sources: (string | ArrayBuffer)[], labels?: string[]): Promise<void> {
  try {
    if (sources.length === 0) throw new InputError('side by side: no files given');
    if (labels && labels.length !== sources.length) throw new InputError(`side by side: ${labels.length} labels for ${sources.length} files`);
    const loaded = await Promise.all(sources.map((s, i) => read(s, labels?.[i], `network-${i + 1}.nnvis`)));
    viewer.showSideBySide(loaded.map((l) => ({ scene: toScene(l.net), label: l.label })));
    lastError = null;
    ui?.networkLoaded(loaded[0].net);
    processing.setSource(loaded[0].bytes);
    updatePanelLabels();
  } catch (err) {
    fail(err);
  }
}

/** Adds one network beside the scene shown (or shows it alone when there is none). */
async function compareWith(source: string | ArrayBuffer, name?: string): Promise<void> {
  try {
    const { net, label, bytes } = await read(source, name);
    if (!viewer.scene) {
      showNetwork(net, label, bytes);
      return;
    }
    viewer.addPanel(toScene(net), label);
    lastError = null;
    ui?.panelsChanged();
    updatePanelLabels();
  } catch (err) {
    fail(err);
  }
}

function leaveSideBySide(): void {
  viewer.leaveSideBySide();
  ui?.panelsChanged();
  updatePanelLabels();
}

function showNetwork(net: Network, label: string, bytes: ArrayBuffer): void {
  viewer.show(toScene(net), label);
  lastError = null;
  ui?.networkLoaded(net);
  processing.setSource(bytes);
  updatePanelLabels();
}

/** One label per side-by-side panel (none with a single network), plus the dividers. */
viewer.onLayout = () => updatePanelLabels();
const panelLabels = document.createElement('div');
panelLabels.className = 'nv-panes';
app.appendChild(panelLabels);
function updatePanelLabels(): void {
  const labels = viewer.panelCount > 1 ? viewer.panelLabels() : [];
  const rects = viewer.panelRects();
  panelLabels.replaceChildren(
    ...labels.map((text, i) => {
      const pane = document.createElement('div');
      pane.className = 'nv-pane';
      pane.style.left = `${rects[i].x}px`;
      pane.style.width = `${rects[i].width}px`;
      const label = document.createElement('div');
      label.className = 'nv-pane-label';
      label.dataset.panel = String(i);
      label.textContent = text;
      label.title = text;
      pane.appendChild(label);
      return pane;
    }),
  );
}

function generate(layers: number[], seed: number): void {
  const cfg = defaultConfig('processing');
  const net = generateNetwork({ layers, seed, layerDistance: cfg.layer_distance as number, layerWidth: cfg.layer_width as number });
  const bytes = encodeNetwork(net);
  showNetwork(net, `random-${layers.join('-')}-seed${seed}.nnvis`, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

function applyUrlSettings(): void {
  const rendering: Record<string, string> = {};
  const edges = params.get('edges');
  const nodes = params.get('nodes');
  if (edges) rendering['edges.render_mode'] = edges === 'ellipsoid' ? 'transparent_ellipsoid' : edges;
  if (nodes) rendering['nodes.render_mode'] = nodes;
  try {
    viewer.setRendering(rendering, 'URL');
  } catch (err) {
    lastError = oneLine(err);
  }
  const cls = params.get('class');
  if (cls === 'all' || cls === 'independent') viewer.setClassVisibility(cls);
  else if (cls !== null && /^\d+$/.test(cls)) viewer.setClassVisibility(Number(cls));
}

function resize(): void {
  if (fixedWidth > 0 && fixedHeight > 0) viewer.setSize(fixedWidth, fixedHeight, headless ? 1 : window.devicePixelRatio);
  else viewer.setSize(window.innerWidth, window.innerHeight, window.devicePixelRatio);
  ui?.layoutChanged();
  updatePanelLabels();
}

async function start(): Promise<void> {
  resize();
  applyUrlSettings();
  if (!headless) {
    ui = createUi(viewer, { load, generate, oneLine, compareWith, leaveSideBySide }, processing);
    if (lastError) ui.showError(lastError);
    xr.createButton(app);
    window.addEventListener('resize', resize);
    resize();
    const loop = (now: number): void => {
      viewer.step(now);
      ui?.frame();
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  }
  const files = params.getAll('file').filter((f) => f !== '');
  // The error stays visible (banner, lastError()).
  if (files.length === 1) await load(files[0]).catch(() => undefined);
  else if (files.length > 1) await loadSideBySide(files).catch(() => undefined);
  const camera = params.get('camera');
  if (camera !== null) viewer.setCamera(Number(camera), false);
  if (lastError) ui?.showError(lastError);
}

window.nnvis = {
  ready: start(),
  load,
  loadSideBySide,
  compareWith,
  leaveSideBySide,
  panelStats: () => Array.from({ length: viewer.panelCount }, (_, i) => viewer.stats(i)),
  setRendering: (values) => viewer.setRendering(values, 'setRendering'),
  setClassVisibility: (v) => viewer.setClassVisibility(v),
  setCamera: (preset, animate = false) => viewer.setCamera(preset, animate),
  setSize: (width, height) => viewer.setSize(width, height, 1),
  frame: async () => {
    await processing.gridSettled();
    return viewer.frame();
  },
  screenshot: async () => {
    await processing.gridSettled();
    return viewer.screenshot();
  },
  setDrawing: (lod, budgetMs) => viewer.setDrawing(lod, budgetMs),
  setSimplify: (on) => viewer.setSimplify(on),
  progress: () => viewer.progress(),
  settled: async () => {
    if (!headless) while (!viewer.progress().done) await new Promise((ok) => requestAnimationFrame(ok));
    return viewer.progress();
  },
  canvasImage: () => canvas.toDataURL('image/png'),
  stats: () => viewer.stats(),
  layout: () => {
    const panels = viewer.panelRects();
    const f = viewer.frameRect();
    return { panels, frame: { ...f, x: f.x + panels[0].x, y: f.y + panels[0].y }, preset: viewer.preset };
  },
  lastError: () => lastError,
  xr: {
    enter: (options) => xr.enter(options),
    exit: () => xr.exit(),
    state: () => xr.state(),
  },
};

// Live processing panel: runs the bundling engine in a Web Worker (src/viewer/process-worker.ts)
// and streams its snapshots into the scene, so the UI stays responsive while it works. The
// same worker answers the density-grid requests (grid.render_mode cube / point), also in the
// headless viewer, which has no panel: main.ts creates this object, gui.ts attaches the panel.

import type GUI from 'lil-gui';
import { defaultConfig, PROCESSING_PARAMS, type ConfigValues } from '../core/config.ts';
import type { ProcessingAction as Action, ProcessingReply, ProcessingRequest } from '../core/process/protocol.ts';
import type { Viewer } from './viewer.ts';

/** Least time between two density-grid refreshes while processing streams snapshots. */
const GRID_INTERVAL_MS = 400;

export interface ProcessingHooks {
  showError(message: string): void;
  download(blob: Blob, name: string): void;
  fileName(): string;
  /** A density grid is being computed (true) or is there (false): the GUI says so meanwhile. */
  gridPending?(pending: boolean): void;
}

const ACTIONS: readonly [Action, string][] = [
  ['resample', 'Resample edges'],
  ['smooth', 'Smooth edges'],
  ['node_advect', 'Node advect'],
  ['node_diverge', 'Node diverge'],
  ['node_noise', 'Node noise'],
  ['edge_advect', 'Edge advect'],
  ['edge_diverge', 'Edge diverge'],
  ['edge_noise', 'Edge noise'],
];

export class ProcessingPanel {
  private worker: Worker | null = null;
  private bytes: ArrayBuffer | null = null;
  /** Whether the worker holds the current file with the current settings. */
  private loaded = false;
  private busy = false;
  /** A 'load' answers with its own snapshot and 'idle', which must not end the action after it. */
  private loadIdlePending = false;
  private readonly config: ConfigValues = defaultConfig('processing');
  private readonly state = { iterations: 1, seed: 0 };
  private progressBar: HTMLDivElement | null = null;
  private progressLabel: HTMLDivElement | null = null;
  private reportLine: HTMLDivElement | null = null;
  /** The 'load' was sent for a density grid only: its snapshot must not replace the scene. */
  private skipLoadSnapshot = false;
  /** Whether the scene shows the worker's geometry (else grid requests send the scene's polylines). */
  private sceneFromWorker = false;
  /** Density-grid requests: one in flight, a timer for the next, the file they are for. */
  private gridInFlight = false;
  private gridAgain = false;
  private gridTimer: ReturnType<typeof setTimeout> | null = null;
  private gridLast = 0;
  private source = 0;
  private gridSource = 0;
  private gridWaiters: (() => void)[] = [];

  constructor(
    private readonly viewer: Viewer,
    private readonly createWorker: () => Worker,
    private readonly hooks: ProcessingHooks,
  ) {
    viewer.onGridWanted = () => this.refreshGrid(false);
  }

  /** Builds the panel's controls and progress display in a GUI folder (interactive viewer only). */
  attach(folder: GUI): void {
    const settings = folder.addFolder('Settings').close();
    for (const p of PROCESSING_PARAMS) {
      const c =
        p.type === 'boolean'
          ? settings.add(this.config, p.key)
          : p.type === 'enum'
            ? settings.add(this.config, p.key, p.values as string[])
            : settings.add(this.config, p.key, p.min, p.max, p.type === 'integer' ? 1 : (p.max - p.min) / 100);
      c.name(p.key.replace(/_/g, ' ')).onChange(() => (this.loaded = false));
      c.domElement.title = p.description;
    }
    settings.add(this.state, 'seed', 0, 1000, 1).name('noise seed').onChange(() => (this.loaded = false));
    const actions = folder.addFolder('Actions');
    actions.add({ run: () => this.run('process') }, 'run').name('▶ Process (full run)');
    actions.add({ stop: () => this.worker?.postMessage({ type: 'stop' }) }, 'stop').name('■ Stop');
    actions.add(this.config, 'smoothing').name('Smoothing').onChange(() => (this.loaded = false));
    actions.add(this.state, 'iterations', 1, 50, 1).name('iterations per step');
    for (const [action, label] of ACTIONS) actions.add({ go: () => this.run(action) }, 'go').name(label);
    actions.add({ save: () => this.post({ type: 'save' }) }, 'save').name('Save processed network');

    const progress = document.createElement('div');
    progress.className = 'nv-progress';
    const label = (this.progressLabel = document.createElement('div'));
    label.className = 'nv-progress-label';
    label.textContent = this.busy ? 'running' : 'idle';
    const track = document.createElement('div');
    track.className = 'nv-progress-track';
    const bar = (this.progressBar = document.createElement('div'));
    bar.className = 'nv-progress-bar';
    track.appendChild(bar);
    const report = (this.reportLine = document.createElement('div'));
    report.className = 'nv-progress-report';
    progress.append(label, track, report);
    folder.$children.appendChild(progress);
  }

  /** A new file in the viewer: the worker gets it with the next action or grid request. */
  setSource(bytes: ArrayBuffer): void {
    this.bytes = bytes;
    this.loaded = false;
    this.sceneFromWorker = false;
    this.source++;
    if (this.busy) this.worker?.postMessage({ type: 'stop' });
    this.refreshGrid(false);
  }

  /**
   * Asks the worker for a fresh density-grid summary when the grid is on: at once when it
   * was switched on or the file changed, at most every GRID_INTERVAL_MS after snapshots
   * (`changed`: the worker's state moved on, so a reply in flight is already stale).
   */
  refreshGrid(changed: boolean): void {
    if (!this.viewer.gridWanted() || !this.bytes) return;
    if (this.gridInFlight) {
      if (changed) this.gridAgain = true;
      return;
    }
    if (this.gridTimer !== null) return;
    const wait = changed ? Math.max(0, this.gridLast + GRID_INTERVAL_MS - performance.now()) : 0;
    this.gridTimer = setTimeout(() => {
      this.gridTimer = null;
      this.sendGrid();
    }, wait);
  }

  /** Resolves once no density-grid request is pending (screenshots wait for it). */
  gridSettled(): Promise<void> {
    if (!this.gridInFlight && this.gridTimer === null) return Promise.resolve();
    return new Promise((resolve) => this.gridWaiters.push(resolve));
  }

  private settleGrid(): void {
    if (this.gridInFlight || this.gridTimer !== null) return;
    this.hooks.gridPending?.(false);
    const waiters = this.gridWaiters;
    this.gridWaiters = [];
    for (const w of waiters) w();
  }

  private sendGrid(): void {
    const scene = this.viewer.scene;
    if (!this.viewer.gridWanted() || !this.bytes || !scene) {
      this.settleGrid();
      return;
    }
    let msg: ProcessingRequest = { type: 'grid' };
    if (!this.sceneFromWorker || !this.loaded) {
      // The scene is the file's (or an older run's): summarise what is drawn. A processed
      // file is at the end of the schedule, so the smallest bandwidth (0 → the limit).
      msg = { type: 'grid', edgeSampleOffsets: scene.edgeSampleOffsets.slice(), edgeSamples: scene.edgeSamples.slice(), ...(scene.kind === 'processed' ? { bandwidth: 0 } : {}) };
    }
    this.gridInFlight = true;
    // Only the first grid of a file takes long (the worker loads it first): say so.
    if (!this.viewer.grid.hasSummary) this.hooks.gridPending?.(true);
    this.gridAgain = false;
    this.gridSource = this.source;
    this.post(msg, true);
  }

  private onGrid(msg: Extract<ProcessingReply, { type: 'grid' }>): void {
    this.gridInFlight = false;
    this.gridLast = performance.now();
    if (this.gridSource === this.source) this.viewer.setGridSummary(msg.dims[0] > 0 ? msg : null);
    if (this.gridSource !== this.source) this.refreshGrid(false);
    else if (this.gridAgain) this.refreshGrid(true);
    this.settleGrid();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    this.worker = this.createWorker();
    this.worker.onmessage = (e: MessageEvent<ProcessingReply>) => this.onMessage(e.data);
    this.worker.onerror = (e) => {
      this.hooks.showError(`processing: ${e.message || 'the worker failed'}`);
      this.setBusy(false, 'failed');
      this.gridInFlight = false;
      this.settleGrid();
    };
    return this.worker;
  }

  private post(msg: ProcessingRequest, gridOnly = false): void {
    if (!this.bytes) {
      this.hooks.showError('processing: open or generate a network first');
      return;
    }
    const w = this.ensureWorker();
    if (!this.loaded) {
      // A copy: the viewer's arrays are views into the original buffer.
      w.postMessage({ type: 'load', bytes: this.bytes.slice(0), config: { ...this.config }, seed: this.state.seed } satisfies ProcessingRequest);
      this.loaded = true;
      this.loadIdlePending = true;
      // Loading for a grid must not reset the scene to the engine's straight start.
      this.skipLoadSnapshot = gridOnly;
      if (gridOnly) this.sceneFromWorker = false;
    }
    if (msg.type === 'grid' && msg.edgeSamples && msg.edgeSampleOffsets) w.postMessage(msg, [msg.edgeSamples.buffer, msg.edgeSampleOffsets.buffer]);
    else w.postMessage(msg);
  }

  private run(action: Action): void {
    if (this.busy || !this.bytes) {
      if (!this.bytes) this.hooks.showError('processing: open or generate a network first');
      return;
    }
    this.setBusy(true, action.replace('_', ' '));
    this.post(action === 'process' ? { type: 'action', action } : { type: 'action', action, iterations: this.state.iterations });
  }

  private setBusy(busy: boolean, label: string): void {
    this.busy = busy;
    if (this.progressLabel) this.progressLabel.textContent = label;
    if (!busy && this.progressBar) this.progressBar.style.width = '0%';
  }

  private onMessage(msg: ProcessingReply): void {
    switch (msg.type) {
      case 'snapshot': {
        if (this.skipLoadSnapshot) {
          this.skipLoadSnapshot = false;
          break;
        }
        this.viewer.updateGeometry(msg.nodePositions, msg.edgeSampleOffsets, msg.edgeSamples);
        this.sceneFromWorker = true;
        this.refreshGrid(true);
        const r = msg.report;
        if (this.reportLine) this.reportLine.textContent = `${r.phase} · iteration ${r.iteration} / ${r.iterations} · bandwidth ${r.bandwidth.toPrecision(3)} (limit ${r.limit.toPrecision(3)}) · ${msg.backend === 'wasm' ? 'WebAssembly' : 'JS'} kernels`;
        break;
      }
      case 'progress':
        if (this.progressLabel) this.progressLabel.textContent = msg.label;
        if (this.progressBar) this.progressBar.style.width = `${Math.round(Math.max(0, Math.min(1, msg.fraction)) * 100)}%`;
        break;
      case 'grid':
        this.onGrid(msg);
        break;
      case 'idle':
        if (this.loadIdlePending) this.loadIdlePending = false;
        else {
          this.setBusy(false, 'idle');
          // The engine moved the network (clustered nodes spread out): frame it again.
          if (this.sceneFromWorker) this.viewer.refit(true);
        }
        break;
      case 'saved':
        this.hooks.download(new Blob([msg.bytes], { type: 'application/octet-stream' }), this.hooks.fileName().replace(/(\.nnvis)?$/, '-processed.nnvis'));
        break;
      case 'error':
        this.hooks.showError(msg.message);
        if (this.gridInFlight && !this.busy) {
          this.gridInFlight = false;
          this.settleGrid();
        }
        this.setBusy(false, 'error');
        break;
    }
  }
}

// Live processing panel: runs the bundling engine in a Web Worker (src/viewer/process-worker.ts)
// and streams its snapshots into the scene, so the UI stays responsive while it works.

import type GUI from 'lil-gui';
import { defaultConfig, PROCESSING_PARAMS, type ConfigValues } from '../core/config.ts';
import type { Viewer } from './viewer.ts';

type Action = 'process' | 'node_advect' | 'node_diverge' | 'node_noise' | 'edge_advect' | 'edge_diverge' | 'edge_noise' | 'resample' | 'smooth';

/** Worker → main messages (the protocol of src/core/process/protocol.ts). */
type WorkerMessage =
  | {
      type: 'snapshot';
      nodePositions: Float32Array;
      edgeSampleOffsets: Uint32Array;
      edgeSamples: Float32Array;
      report: { phase: string; iteration: number; bandwidth: number; limit: number; done: boolean };
    }
  | { type: 'progress'; label: string; fraction: number }
  | { type: 'idle' }
  | { type: 'saved'; bytes: ArrayBuffer }
  | { type: 'error'; message: string };

export interface ProcessingHooks {
  showError(message: string): void;
  download(blob: Blob, name: string): void;
  fileName(): string;
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
  private readonly config: ConfigValues = defaultConfig('processing');
  private readonly state = { iterations: 1, seed: 0 };
  private readonly progressBar: HTMLDivElement;
  private readonly progressLabel: HTMLDivElement;

  constructor(
    folder: GUI,
    private readonly viewer: Viewer,
    private readonly createWorker: (() => Worker) | null,
    private readonly hooks: ProcessingHooks,
  ) {
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
    this.progressLabel = document.createElement('div');
    this.progressLabel.className = 'nv-progress-label';
    this.progressLabel.textContent = createWorker ? 'idle' : 'processing engine not available in this build';
    const track = document.createElement('div');
    track.className = 'nv-progress-track';
    this.progressBar = document.createElement('div');
    this.progressBar.className = 'nv-progress-bar';
    track.appendChild(this.progressBar);
    progress.append(this.progressLabel, track);
    folder.domElement.querySelector('.children')?.appendChild(progress);
  }

  /** A new file in the viewer: the worker gets it with the next action. */
  setSource(bytes: ArrayBuffer): void {
    this.bytes = bytes;
    this.loaded = false;
    if (this.busy) this.worker?.postMessage({ type: 'stop' });
  }

  private ensureWorker(): Worker | null {
    if (this.worker || !this.createWorker) return this.worker;
    this.worker = this.createWorker();
    this.worker.onmessage = (e: MessageEvent<WorkerMessage>) => this.onMessage(e.data);
    this.worker.onerror = (e) => {
      this.hooks.showError(`processing: ${e.message || 'the worker failed'}`);
      this.setBusy(false, 'failed');
    };
    return this.worker;
  }

  private post(msg: object): void {
    const w = this.ensureWorker();
    if (!w) {
      this.hooks.showError('processing: the processing engine is not part of this build');
      return;
    }
    if (!this.bytes) {
      this.hooks.showError('processing: open or generate a network first');
      return;
    }
    if (!this.loaded) {
      // A copy: the viewer's arrays are views into the original buffer.
      w.postMessage({ type: 'load', bytes: this.bytes.slice(0), config: { ...this.config }, seed: this.state.seed });
      this.loaded = true;
    }
    w.postMessage(msg);
  }

  private run(action: Action): void {
    if (this.busy) return;
    this.setBusy(true, action.replace('_', ' '));
    this.post(action === 'process' ? { type: 'action', action } : { type: 'action', action, iterations: this.state.iterations });
  }

  private setBusy(busy: boolean, label: string): void {
    this.busy = busy;
    this.progressLabel.textContent = label;
    if (!busy) this.progressBar.style.width = '0%';
  }

  private onMessage(msg: WorkerMessage): void {
    switch (msg.type) {
      case 'snapshot': {
        this.viewer.updateGeometry(msg.nodePositions, msg.edgeSampleOffsets, msg.edgeSamples);
        const r = msg.report;
        this.progressLabel.textContent = `${r.phase} · iteration ${r.iteration} · bandwidth ${r.bandwidth.toPrecision(3)} (limit ${r.limit.toPrecision(3)})`;
        break;
      }
      case 'progress':
        this.progressLabel.textContent = msg.label;
        this.progressBar.style.width = `${Math.round(Math.max(0, Math.min(1, msg.fraction)) * 100)}%`;
        break;
      case 'idle':
        this.setBusy(false, 'idle');
        break;
      case 'saved':
        this.hooks.download(new Blob([msg.bytes], { type: 'application/octet-stream' }), this.hooks.fileName().replace(/(\.nnvis)?$/, '-processed.nnvis'));
        break;
      case 'error':
        this.hooks.showError(msg.message);
        this.setBusy(false, 'error');
        break;
    }
  }
}

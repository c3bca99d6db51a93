// Live processing panel: runs the bundling engine in a Web Worker (src/viewer/process-worker.ts)
// and streams its snapshots into the scene, so the UI stays responsive while it works.

import type GUI from 'lil-gui';
import { defaultConfig, PROCESSING_PARAMS, type ConfigValues } from '../core/config.ts';
import type { ProcessingAction as Action, ProcessingReply, ProcessingRequest } from '../core/process/protocol.ts';
import type { Viewer } from './viewer.ts';

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
  /** A 'load' answers with its own snapshot and 'idle', which must not end the action after it. */
  private loadIdlePending = false;
  private readonly config: ConfigValues = defaultConfig('processing');
  private readonly state = { iterations: 1, seed: 0 };
  private readonly progressBar: HTMLDivElement;
  private readonly progressLabel: HTMLDivElement;
  private readonly reportLine: HTMLDivElement;

  constructor(
    folder: GUI,
    private readonly viewer: Viewer,
    private readonly createWorker: () => Worker,
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
    this.progressLabel.textContent = 'idle';
    const track = document.createElement('div');
    track.className = 'nv-progress-track';
    this.progressBar = document.createElement('div');
    this.progressBar.className = 'nv-progress-bar';
    track.appendChild(this.progressBar);
    this.reportLine = document.createElement('div');
    this.reportLine.className = 'nv-progress-report';
    progress.append(this.progressLabel, track, this.reportLine);
    folder.$children.appendChild(progress);
  }

  /** A new file in the viewer: the worker gets it with the next action. */
  setSource(bytes: ArrayBuffer): void {
    this.bytes = bytes;
    this.loaded = false;
    if (this.busy) this.worker?.postMessage({ type: 'stop' });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    this.worker = this.createWorker();
    this.worker.onmessage = (e: MessageEvent<ProcessingReply>) => this.onMessage(e.data);
    this.worker.onerror = (e) => {
      this.hooks.showError(`processing: ${e.message || 'the worker failed'}`);
      this.setBusy(false, 'failed');
    };
    return this.worker;
  }

  private post(msg: ProcessingRequest): void {
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
    }
    w.postMessage(msg);
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
    this.progressLabel.textContent = label;
    if (!busy) this.progressBar.style.width = '0%';
  }

  private onMessage(msg: ProcessingReply): void {
    switch (msg.type) {
      case 'snapshot': {
        this.viewer.updateGeometry(msg.nodePositions, msg.edgeSampleOffsets, msg.edgeSamples);
        const r = msg.report;
        this.reportLine.textContent = `${r.phase} · iteration ${r.iteration} / ${r.iterations} · bandwidth ${r.bandwidth.toPrecision(3)} (limit ${r.limit.toPrecision(3)})`;
        break;
      }
      case 'progress':
        this.progressLabel.textContent = msg.label;
        this.progressBar.style.width = `${Math.round(Math.max(0, Math.min(1, msg.fraction)) * 100)}%`;
        break;
      case 'idle':
        if (this.loadIdlePending) this.loadIdlePending = false;
        else this.setBusy(false, 'idle');
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

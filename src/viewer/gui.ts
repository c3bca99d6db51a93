// Everything around the 3D view in the interactive viewer: the lil-gui control panel (built
// from the config tables), statistics, class legend, node tooltip, help overlay, error
// banner, drag-and-drop and the keyboard shortcuts.

import GUI, { type Controller } from 'lil-gui';
import { nestConfig, RENDERING_PARAMS } from '../core/config.ts';
import { isConvNet, kernelView, layerOp, mapShapes, opText, type Network } from '../core/network.ts';
import type { ClassVisibility } from './layer.ts';
import { classColor, paletteColors } from './palette.ts';
import type { ProcessingPanel } from './processing.ts';
import { CAMERA_PRESETS, type Insets, type Viewer } from './viewer.ts';

export interface UiActions {
  load(source: string | ArrayBuffer, name?: string): Promise<void>;
  generate(layers: number[], seed: number): void;
  oneLine(err: unknown): string;
  /** Adds a network beside the scene shown (side by side, linked camera). */
  compareWith(source: string | ArrayBuffer, name?: string): Promise<void>;
  leaveSideBySide(): void;
}

export interface Ui {
  showError(message: string): void;
  networkLoaded(net: Network): void;
  /** A side-by-side panel was added or the comparison left. */
  panelsChanged(): void;
  /** Called once per animation frame. */
  frame(): void;
  /** The window or a panel changed size: tell the viewer which area the panels cover. */
  layoutChanged(): void;
  /** A short status line at the bottom (null hides it). */
  showNotice(text: string | null): void;
}

const KEYS: readonly [string, string][] = [
  ['drag', 'orbit'],
  ['right drag / shift drag', 'pan'],
  ['wheel', 'zoom'],
  ['H', 'toggle auto-rotation'],
  ['K', 'save a PNG screenshot (full resolution)'],
  ['0 – 9', `camera presets: ${CAMERA_PRESETS.map((p, i) => `${i} ${p.name}`).join(', ')}`],
  ['C', 'cycle class visibility: independent → all → each class'],
  ['legend click', 'show only that class; click it again for all classes'],
  ['hover a node', 'its layer, index and per-class importance; click pins it'],
  ['drop a file', 'drag an .nnvis file onto the window to open it'],
  ['?', 'show / hide this help'],
  ['Esc', 'close help and error'],
  ['VR: triggers', 'right grows, left shrinks the model'],
  ['VR: grip', 'hold the model in that hand; thumbstick rotates it while held'],
  ['VR: stick press', 'reset position, orientation and scale'],
  ['VR: A / X · B / Y', 'cycle render presets · class highlighting'],
];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, parent?: HTMLElement, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) e.textContent = text;
  parent?.appendChild(e);
  return e;
}

export function download(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

const pretty = (key: string): string => key.split('.').pop()!.replace(/_/g, ' ');

function formatBytes(n: number): string {
  return n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(2)} GiB` : n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

export function createUi(viewer: Viewer, actions: UiActions, processing: ProcessingPanel): Ui {
  const root = document.getElementById('app')!;
  let net: Network | null = null;

  // --- error banner -------------------------------------------------------------------
  const banner = el('div', 'nv-error', root);
  banner.setAttribute('role', 'alert');
  const bannerText = el('span', 'nv-error-text', banner);
  const bannerClose = el('button', 'nv-error-close', banner, '×');
  bannerClose.title = 'dismiss';
  const hideError = (): void => banner.classList.remove('nv-visible');
  bannerClose.onclick = hideError;
  const showError = (message: string): void => {
    bannerText.textContent = message;
    banner.classList.add('nv-visible');
  };

  // --- status notice (e.g. while the density grid is computed) ------------------------
  const notice = el('div', 'nv-notice', root);
  notice.setAttribute('role', 'status');
  const showNotice = (text: string | null): void => {
    notice.textContent = text ?? '';
    notice.classList.toggle('nv-visible', text !== null);
  };

  // --- welcome card (no file yet) -----------------------------------------------------
  const welcome = el('div', 'nv-welcome', root);
  el('h1', '', welcome, 'nnvis');
  el('p', '', welcome, 'Drop an .nnvis file here, open one, or generate a random network.');
  const welcomeButtons = el('div', 'nv-welcome-buttons', welcome);

  // --- file input and drag-and-drop ---------------------------------------------------
  const fileInput = el('input', 'nv-hidden', root);
  fileInput.type = 'file';
  fileInput.accept = '.nnvis';
  const openFile = async (file: File): Promise<void> => {
    await actions.load(await file.arrayBuffer(), file.name).catch(() => undefined);
  };
  fileInput.onchange = () => {
    const f = fileInput.files?.[0];
    if (f) void openFile(f);
    fileInput.value = '';
  };
  const compareInput = el('input', 'nv-hidden', root);
  compareInput.type = 'file';
  compareInput.accept = '.nnvis';
  compareInput.onchange = () => {
    const f = compareInput.files?.[0];
    if (f) void f.arrayBuffer().then((b) => actions.compareWith(b, f.name).catch(() => undefined));
    compareInput.value = '';
  };
  const dropZone = el('div', 'nv-drop', root, 'Drop an .nnvis file to open it');
  window.addEventListener('dragover', (e) => {
    e.preventDefault();
    dropZone.classList.add('nv-visible');
  });
  window.addEventListener('dragleave', (e) => {
    if (e.relatedTarget === null) dropZone.classList.remove('nv-visible');
  });
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    dropZone.classList.remove('nv-visible');
    const f = e.dataTransfer?.files[0];
    if (f) void openFile(f);
  });

  // --- screenshot ---------------------------------------------------------------------
  const screenshot = (): void => {
    viewer.fullPicture();
    viewer.canvas.toBlob((blob) => {
      if (blob) download(blob, `${(viewer.fileName ?? 'nnvis').replace(/\.nnvis$/, '')}.png`);
    }, 'image/png');
  };

  // --- control panel ------------------------------------------------------------------
  const gui = new GUI({ title: 'nnvis', width: 300 });
  gui.domElement.classList.add('nv-gui');
  const file = gui.addFolder('File');
  const fileActions = {
    open: () => fileInput.click(),
    saveRendering: () => {
      const json = `${JSON.stringify(nestConfig(viewer.rendering), null, 2)}\n`;
      download(new Blob([json], { type: 'application/json' }), 'rendering.json');
    },
    screenshot,
    help: () => toggleHelp(),
    compare: () => compareInput.click(),
    leaveCompare: () => actions.leaveSideBySide(),
  };
  file.add(fileActions, 'open').name('Open .nnvis file…');
  file.add(fileActions, 'compare').name('Compare with… (file)');
  const leaveController = file.add(fileActions, 'leaveCompare').name('Leave comparison').hide();
  file.add(fileActions, 'saveRendering').name('Save rendering.json');
  file.add(fileActions, 'screenshot').name('Screenshot (K)');
  file.add(fileActions, 'help').name('Keyboard help (?)');
  for (const [label, fn] of [
    ['Open file…', fileActions.open],
    ['Generate random network', () => generateNow()],
  ] as const) {
    el('button', 'nv-button', welcomeButtons, label).onclick = fn;
  }

  // Architecture editor for random networks.
  const arch = gui.addFolder('Generate network').close();
  const archState = { layers: [784, 81, 49, 10], seed: 1 };
  let layerControllers: Controller[] = [];
  const archButtons = {
    add: () => {
      archState.layers.splice(archState.layers.length - 1, 0, archState.layers[archState.layers.length - 2] ?? 16);
      rebuildLayers();
    },
    remove: () => {
      if (archState.layers.length > 2) archState.layers.splice(archState.layers.length - 2, 1);
      rebuildLayers();
    },
  };
  const rebuildLayers = (): void => {
    for (const c of layerControllers) c.destroy();
    layerControllers = archState.layers.map((_, i) =>
      arch
        .add(archState.layers as unknown as Record<string, number>, String(i), 1, 1024, 1)
        .name(i === 0 ? 'input layer' : i === archState.layers.length - 1 ? 'classes' : `hidden ${i}`)
        .onChange((v: number) => {
          if (i === archState.layers.length - 1) archState.layers[i] = Math.min(v, 64);
        }),
    );
    layerControllers.push(arch.add(archButtons, 'add').name('+ add hidden layer'), arch.add(archButtons, 'remove').name('− remove hidden layer'));
    layerControllers.push(arch.add(archState, 'seed', 0, 10_000, 1).name('seed'));
    layerControllers.push(arch.add({ generate: () => generateNow() }, 'generate').name('Generate'));
  };
  const generateNow = (): void => {
    try {
      actions.generate(
        archState.layers.map((n) => Math.max(1, Math.round(n))),
        archState.seed,
      );
    } catch (err) {
      showError(actions.oneLine(err));
    }
  };
  rebuildLayers();

  // Render settings, built from the rendering config table.
  const render = gui.addFolder('Render');
  const view = { classes: 'independent', camera: viewer.preset, autoRotate: false, lod: 'auto' as string, budget: viewer.frameBudgetMs, simplify: viewer.simplify };
  // Its own folder: lil-gui re-creates an option controller at the end of its folder.
  const classFolder = render.addFolder('Class visibility');
  const onClass = (v: string): void => viewer.setClassVisibility(v === 'independent' || v === 'all' ? v : Number(v));
  let classController = classFolder.add(view, 'classes', { independent: 'independent', all: 'all' }).name('show').onChange(onClass);
  const cameraController = render
    .add(view, 'camera', Object.fromEntries(CAMERA_PRESETS.map((p, i) => [`${i} ${p.name}`, i])))
    .name('camera preset')
    .onChange((v: number) => viewer.setCamera(v, true));
  const rotateController = render
    .add(view, 'autoRotate')
    .name('auto-rotate (H)')
    .onChange((v: boolean) => viewer.setAutoRotate(v));
  // Progressive drawing (docs/VIEWER.md#progressive): how much of the scene one animation frame draws.
  render
    .add(view, 'lod', { 'frame budget': 'auto', everything: '1', '1/2': '2', '1/4': '4', '1/8': '8', '1/16': '16' })
    .name('draw per frame')
    .onChange((v: string) => viewer.setDrawing(v === 'auto' ? 'auto' : Number(v)));
  render
    .add(view, 'budget', 10, 500, 10)
    .name('frame budget (ms)')
    .onChange((v: number) => viewer.setDrawing(viewer.lod, v));
  render
    .add(view, 'simplify')
    .name('simplify polylines')
    .onChange((v: boolean) => viewer.setSimplify(v));
  const settings: Record<string, string | number | boolean> = { ...viewer.rendering };
  const folders: Record<string, GUI> = {};
  const renderControllers: Controller[] = [];
  let gridController: Controller | null = null;
  for (const p of RENDERING_PARAMS) {
    if (p.key === 'class_visibility') continue;
    const group = p.key.split('.')[0];
    // Ungrouped keys (palette) sit with the class visibility.
    const f = p.key.includes('.') ? (folders[group] ??= render.addFolder(group[0].toUpperCase() + group.slice(1))) : classFolder;
    const c =
      p.type === 'enum'
        ? f.add(settings, p.key, p.values as string[])
        : p.type === 'boolean'
          ? f.add(settings, p.key)
          : f.add(settings, p.key, p.min, p.max, p.type === 'integer' ? 1 : (p.max - p.min) / 200);
    c.name(pretty(p.key)).onChange((v: string | number | boolean) => {
      try {
        viewer.setRendering({ [p.key]: v }, 'GUI');
      } catch (err) {
        showError(actions.oneLine(err));
      }
    });
    c.domElement.title = p.description;
    renderControllers.push(c);
    if (p.key === 'grid.render_mode') gridController = c;
  }
  // Folded so that Grid and Processing are in view without scrolling (the panel scrolls too).
  folders.nodes?.close();
  folders.grid?.close();
  processing.attach(gui.addFolder('Processing').close());
  gui.onOpenClose(() => layoutChanged());

  // --- statistics ---------------------------------------------------------------------
  const statsPanel = el('div', 'nv-panel nv-stats', root);
  el('div', 'nv-panel-title', statsPanel, 'Statistics');
  const statsBody = el('div', 'nv-stats-body', statsPanel);
  let lastStats = 0;
  /** Side by side: the statistics are those of the panel under the mouse. */
  let statsPanelIndex = 0;
  const updateStats = (): void => {
    const n = viewer.panelCount;
    if (statsPanelIndex >= n) statsPanelIndex = 0;
    const s = viewer.stats(statsPanelIndex);
    const rows: [string, string][] = [
      // (the panel under the mouse; short, so the box stays narrow beside the panels)
      ...(n > 1 ? ([['panel', `${statsPanelIndex + 1} of ${n}`]] as [string, string][]) : []),
      ['file', s.file ?? '—'],
      ['kind', s.kind],
      ...(() => {
        const net = viewer.panelScene(statsPanelIndex)?.net;
        // a conv network: what computes each layer ("conv 5×5 same, max-pool 2×2 · 6, …")
        return net && isConvNet(net) ? ([['layers', net.layers.slice(1).map((c, k) => (layerOp(net, k).kind === 'conv' ? `${opText(layerOp(net, k))} · ${c}` : `dense ${c}`)).join(' → ')]] as [string, string][]) : [];
      })(),
      ['edges', s.edges.toLocaleString('en')],
      ['pruned edges', s.prunedEdges.toLocaleString('en')],
      ['samples', s.samples.toLocaleString('en')],
      ['drawn instances', s.drawnInstances.toLocaleString('en')],
      ['grid cells', s.gridCells ? s.gridCells.toLocaleString('en') : '—'],
      ['FPS', s.fps.toFixed(0)],
      ['antialiasing', s.antialias],
      ['GPU memory', formatBytes(s.gpuMemoryBytes)],
    ];
    if (s.xrMode !== 'off') rows.push(['VR', s.xrMode]);
    statsBody.replaceChildren(
      ...rows.flatMap(([k, v]) => {
        const key = el('span', 'nv-k', undefined, k);
        const val = el('span', 'nv-v', undefined, v);
        val.title = v;
        return [key, val];
      }),
    );
  };

  // --- legend -------------------------------------------------------------------------
  const legend = el('div', 'nv-panel nv-legend', root);
  const updateLegend = (): void => {
    legend.replaceChildren(el('div', 'nv-panel-title', undefined, 'Classes'));
    const vis = viewer.visibility;
    const entry = (label: string, color: string | null, target: ClassVisibility, active: boolean): void => {
      const row = el('button', `nv-legend-row${active ? ' nv-active' : ''}`, legend);
      row.dataset.class = String(target);
      const sw = el('span', 'nv-swatch', row);
      if (color) sw.style.background = color;
      else sw.classList.add(target === 'independent' ? 'nv-swatch-grey' : 'nv-swatch-all');
      el('span', '', row, label);
      row.onclick = () => {
        // Clicking the class shown alone returns to all classes.
        viewer.setClassVisibility(typeof target === 'number' && vis === target ? 'all' : target);
      };
    };
    entry('independent', null, 'independent', vis === 'independent');
    entry('all classes', null, 'all', vis === 'all');
    const palette = viewer.rendering.palette as string;
    (net?.classNames ?? []).forEach((name, c) => entry(name, classColor(c, palette), c, vis === c));
    const all = legend.querySelector<HTMLElement>('.nv-swatch-all');
    const colors = paletteColors(palette).slice(0, Math.max(1, Math.min(net?.classNames.length ?? 10, 12)));
    if (all) all.style.background = `conic-gradient(${[...colors, colors[0]].join(', ')})`;
  };

  // --- node tooltip -------------------------------------------------------------------
  const tooltip = el('div', 'nv-tooltip', root);
  let pinned = -1;
  let pointer: { x: number; y: number } | null = null;
  const pickNode = (x: number, y: number): number => {
    const screen = viewer.projectNodes(viewer.panelAt(x));
    if (!screen) return -1;
    let best = -1;
    let bestD = 10 * 10;
    for (let i = 0; i < screen.length / 2; i++) {
      const d = (screen[i * 2] - x) ** 2 + (screen[i * 2 + 1] - y) ** 2;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    return best;
  };
  const showTooltip = (node: number, x: number, y: number, panel = 0): void => {
    const net = viewer.panelScene(panel)?.net ?? null;
    if (!net || node < 0) {
      tooltip.classList.remove('nv-visible');
      return;
    }
    let layer = 0;
    let index = node;
    while (index >= net.layers[layer]) index -= net.layers[layer++];
    const C = net.classNames.length;
    tooltip.replaceChildren();
    el('div', 'nv-tooltip-title', tooltip, `layer ${layer}${layer === 0 ? ' (input)' : layer === net.layers.length - 1 ? ' (output)' : ''} · node ${index}`);
    if (net.nodeImportance) {
      const row = net.nodeImportance.subarray(node * C, node * C + C);
      const max = Math.max(1e-9, ...row);
      const chart = el('div', 'nv-bars', tooltip);
      row.forEach((v, c) => {
        const bar = el('div', 'nv-bar', chart);
        const fill = el('div', 'nv-bar-fill', bar);
        fill.style.height = `${(v / max) * 100}%`;
        fill.style.background = classColor(c, viewer.rendering.palette as string);
        bar.title = `${net.classNames[c]}: ${v.toFixed(3)}`;
        el('div', 'nv-bar-label', bar, net.classNames[c].slice(0, 3));
      });
      el('div', 'nv-tooltip-note', tooltip, `importance length ${Math.hypot(...row).toFixed(3)}`);
    } else {
      el('div', 'nv-tooltip-note', tooltip, 'no importance in this file');
    }
    const [ih, iw, ic] = net.inputShape ?? (net.layers[0] === 784 ? [28, 28, 1] : [0, 0, 0]);
    if (layer === 0 && ih > 0) {
      const pixel = Math.floor(index / ic);
      const thumb = el('canvas', 'nv-thumb', tooltip);
      thumb.width = iw;
      thumb.height = ih;
      const ctx = thumb.getContext('2d')!;
      ctx.fillStyle = '#eee';
      ctx.fillRect(0, 0, iw, ih);
      ctx.fillStyle = '#d62728';
      ctx.fillRect(pixel % iw, Math.floor(pixel / iw), 1, 1);
      el('div', 'nv-tooltip-note', tooltip, `pixel (row ${Math.floor(pixel / iw)}, column ${pixel % iw}) of ${ih}×${iw}${ic > 1 ? `, channel ${index % ic}` : ''}`);
    }
    if (layer > 0 && layerOp(net, layer - 1).kind === 'conv') {
      const op = layerOp(net, layer - 1);
      const [h, w] = mapShapes(net)[layer];
      el('div', 'nv-tooltip-note', tooltip, `channel ${index} of ${net.layers[layer]} · ${opText(op)} · ${h}×${w} map`);
      if (layer === 1 && net.weights && op.kind === 'conv') filterThumb(el('canvas', 'nv-thumb', tooltip), kernelView(net, 0), op.kernel, ic, net.layers[1], index);
    }
    tooltip.style.left = `${Math.min(x + 16, window.innerWidth - 240)}px`;
    tooltip.style.top = `${Math.min(y + 16, window.innerHeight - 200)}px`;
    tooltip.classList.add('nv-visible');
  };
  let pinnedPanel = 0;
  viewer.canvas.addEventListener('pointermove', (e) => {
    pointer = { x: e.offsetX, y: e.offsetY };
    const panel = viewer.panelAt(e.offsetX);
    if (panel !== statsPanelIndex) {
      statsPanelIndex = panel;
      updateStats();
    }
  });
  viewer.canvas.addEventListener('pointerleave', () => (pointer = null));
  viewer.canvas.addEventListener('click', (e) => {
    const panel = viewer.panelAt(e.offsetX);
    const node = pickNode(e.offsetX, e.offsetY);
    pinned = node === pinned && panel === pinnedPanel ? -1 : node;
    pinnedPanel = panel;
    showTooltip(pinned, e.clientX, e.clientY, panel);
  });

  // --- help overlay and keys ----------------------------------------------------------
  const help = el('div', 'nv-help', root);
  const helpCard = el('div', 'nv-help-card', help);
  el('h2', '', helpCard, 'Keyboard, mouse and VR controllers');
  const table = el('table', '', helpCard);
  for (const [k, v] of KEYS) {
    const tr = el('tr', '', table);
    el('td', '', tr).appendChild(el('kbd', '', undefined, k));
    el('td', '', tr, v);
  }
  help.onclick = () => toggleHelp(false);
  const toggleHelp = (show = !help.classList.contains('nv-visible')): void => {
    help.classList.toggle('nv-visible', show);
  };

  const cycleClass = (): void => {
    const C = viewer.classCount();
    const v = viewer.visibility;
    viewer.setClassVisibility(v === 'independent' ? 'all' : v === 'all' ? (C > 0 ? 0 : 'independent') : v + 1 < C ? v + 1 : 'independent');
  };

  window.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key;
    if (k === 'h' || k === 'H') {
      view.autoRotate = !view.autoRotate;
      viewer.setAutoRotate(view.autoRotate);
      rotateController.updateDisplay();
    } else if (k === 'k' || k === 'K') screenshot();
    else if (k === 'c' || k === 'C') cycleClass();
    else if (k === '?') toggleHelp();
    else if (k === 'Escape') {
      toggleHelp(false);
      hideError();
    } else if (/^[0-9]$/.test(k)) {
      viewer.setCamera(Number(k), true); // the dropdown follows (sync)
    } else return;
    e.preventDefault();
  });

  // --- the area the panels leave free (the camera frames the network there) ----------
  const measureInsets = (): Insets => {
    const W = window.innerWidth;
    let left = 0;
    let right = 0;
    for (const panel of [statsPanel, legend]) {
      const r = panel.getBoundingClientRect();
      if (r.width > 0 && r.left < W / 2) left = Math.max(left, r.right + 8);
    }
    const g = gui.domElement.getBoundingClientRect();
    if (g.width > 0) right = Math.max(right, W - g.left + 8);
    return { left, right, top: 0, bottom: 0 };
  };
  const layoutChanged = (): void => viewer.setInsets(measureInsets());
  viewer.measureInsets = measureInsets;

  // --- keeping panels in sync ---------------------------------------------------------
  const sync = (): void => {
    Object.assign(settings, viewer.rendering);
    for (const c of renderControllers) c.updateDisplay();
    view.classes = typeof viewer.visibility === 'number' ? String(viewer.visibility) : viewer.visibility;
    classController.updateDisplay();
    view.camera = viewer.preset;
    cameraController.updateDisplay();
    updateLegend();
    updateStats();
  };
  viewer.onChange = sync;
  sync();
  layoutChanged();

  return {
    showError,
    networkLoaded(loaded) {
      net = loaded;
      hideError();
      welcome.classList.add('nv-gone');
      pinned = -1;
      tooltip.classList.remove('nv-visible');
      const options: Record<string, string> = { independent: 'independent', all: 'all' };
      loaded.classNames.forEach((name, c) => (options[`class ${c}${name !== String(c) ? ` (${name})` : ''}`] = String(c)));
      classController = classController.options(options).name('show').onChange(onClass);
      gridController?.name('render mode (computed from the edges)');
      leaveController.show(viewer.panelCount > 1);
      sync();
      layoutChanged();
    },
    panelsChanged() {
      pinned = -1;
      tooltip.classList.remove('nv-visible');
      hideError();
      leaveController.show(viewer.panelCount > 1);
      sync();
      layoutChanged();
    },
    layoutChanged,
    showNotice,
    frame() {
      const now = performance.now();
      if (now - lastStats > 500) {
        lastStats = now;
        updateStats();
        layoutChanged(); // panels that changed size since (fonts, folders): the free area follows
      }
      if (pinned < 0 && pointer) {
        const node = pickNode(pointer.x, pointer.y);
        const rect = viewer.canvas.getBoundingClientRect();
        showTooltip(node, pointer.x + rect.left, pointer.y + rect.top, viewer.panelAt(pointer.x));
        pointer = null;
      }
    },
  };
}

/**
 * What a first-layer channel responds to: its filter w[:, :, 0, j] (the first input channel),
 * red for positive weights, blue for negative, scaled by the largest |w| of the filter.
 */
function filterThumb(canvas: HTMLCanvasElement, kernel: Float32Array, [kh, kw]: [number, number], cin: number, cout: number, j: number): void {
  canvas.width = kw;
  canvas.height = kh;
  const ctx = canvas.getContext('2d')!;
  const at = (t: number): number => kernel[t * cin * cout + j];
  let max = 1e-9;
  for (let t = 0; t < kh * kw; t++) max = Math.max(max, Math.abs(at(t)));
  const image = ctx.createImageData(kw, kh);
  for (let t = 0; t < kh * kw; t++) {
    const v = at(t) / max;
    const fade = Math.round(255 * (1 - Math.abs(v)));
    image.data.set(v >= 0 ? [255, fade, fade, 255] : [fade, fade, 255, 255], t * 4);
  }
  ctx.putImageData(image, 0, 0);
  canvas.title = `filter ${j}: ${kh}×${kw}, red positive, blue negative`;
}

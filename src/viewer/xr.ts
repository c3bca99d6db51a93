// WebXR (docs/METHOD.md §5.5): an immersive-vr session that shows the network at arm's length and
// maps the controllers with xr-controls.ts. The mapping is pure; this file wires it to
// three.js.
//
// The edge and node shaders place instances in network coordinates and ignore the model
// matrix, so the model is never transformed itself. Instead a logical copy of the XR room
// (`space`: the hands and an `anchor` for the model, in reference-space metres) is kept
// up to date each frame, the anchor is re-parented to a hand on grip (preserving its world
// transform), and the camera rig (XR camera and controllers) gets the inverse of the
// model's transform: the eyes see exactly what they would see of a moved and scaled model.

import * as THREE from 'three';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { XRControllerModelFactory } from 'three/examples/jsm/webxr/XRControllerModelFactory.js';
import { chooseXrBudget, DEFAULT_XR_STATE, readGamepad, stepControls, XR_CHEAP_INSTANCE_BUDGET, XR_INSTANCE_BUDGET, XR_RENDER_PRESETS, type Hand, type ModelParent, type XrInputs, type XrModelState } from './xr-controls.ts';
import type { Viewer } from './viewer.ts';

export interface XrState {
  presenting: boolean;
  /** User scale relative to the arm's-length default (1). */
  scale: number;
  parent: ModelParent;
  /** Euler XYZ (radians) of the model relative to its parent. */
  rotation: [number, number, number];
  /** Centre of the model in the room (reference space, metres; y up from the floor). */
  position: [number, number, number];
  /** The render preset of the current edge mode (ellipsoid, sphere, line, point), else the edge mode. */
  renderMode: string;
  /** 'independent', 'all' or 'class_N'. */
  classVisibility: string;
  /** Per controller slot: its hand, and whether it shows the profile's model (else the box) with how many meshes. */
  controllers: { hand: Hand | null; model: boolean; meshes: number }[];
}

export interface XrEnterOptions {
  /** Drawn instances above which VR picks a cheaper mode (default 300,000; lines and points get 4×). */
  instanceBudget?: number;
}

export interface XrApi {
  enter(options?: XrEnterOptions): Promise<void>;
  exit(): Promise<void>;
  state(): XrState;
}

/** Width of the network in VR, metres, and its distance in front of the viewer. */
const MODEL_WIDTH = 0.5;
const MODEL_DISTANCE = 0.6;
/** Chest height: this far below the eyes (never below MIN_HEIGHT above the floor). */
const CHEST_DROP = 0.35;
const MIN_HEIGHT = 0.6;
const DEFAULT_POSITION = new THREE.Vector3(0, 1.2, -MODEL_DISTANCE);
const HAND_COLORS: Record<Hand, number> = { left: 0x1f77b4, right: 0xff7f0e };
const HELD_COLOR = 0x2ca02c;
/**
 * Controller models: the @webxr-input-profiles/assets profiles that vite.config.ts copies into
 * the bundle (relative to the page, so they come from wherever the viewer is served; never a
 * CDN). A controller without a shipped profile, or whose model fails to load, keeps the box.
 */
export const XR_PROFILES_PATH = './webxr-profiles';

/** A GLTFLoader whose error callback may throw (the factory's does) without an uncaught error: the box stays. */
class QuietGLTFLoader extends GLTFLoader {
  override load(...[url, onLoad, onProgress, onError]: Parameters<GLTFLoader['load']>): void {
    super.load(url, onLoad, onProgress, (err) => {
      try {
        onError?.(err);
      } catch (e) {
        console.warn(e instanceof Error ? e.message : e);
      }
    });
  }
}

export class ViewerXr implements XrApi {
  private session: XRSession | null = null;
  private entering: Promise<void> | null = null;
  /** The camera rig: XR camera and controllers, with the inverse of the model's transform. */
  private readonly rig = new THREE.Group();
  private readonly camera = new THREE.PerspectiveCamera(70, 1, 0.05, 50);
  /** Logical room in reference-space metres: hands and the model anchor. */
  private readonly space = new THREE.Object3D();
  private readonly anchor = new THREE.Object3D();
  private readonly hands: Record<Hand, THREE.Object3D> = { left: new THREE.Object3D(), right: new THREE.Object3D() };
  private readonly grips: THREE.Group[] = [];
  private readonly handOf: (Hand | null)[] = [null, null];
  /** Per hand: box and ray material, in the hand's colour (green while it holds the model). */
  private readonly handMaterials: Record<Hand, [THREE.MeshBasicMaterial, THREE.LineBasicMaterial]> = {
    left: [new THREE.MeshBasicMaterial({ color: HAND_COLORS.left }), new THREE.LineBasicMaterial({ color: HAND_COLORS.left })],
    right: [new THREE.MeshBasicMaterial({ color: HAND_COLORS.right }), new THREE.LineBasicMaterial({ color: HAND_COLORS.right })],
  };
  /** Per controller: the profile model (XRControllerModelFactory) and the fallback box, both on the grip. */
  private readonly controllerModels: THREE.Object3D[] = [];
  private readonly boxes: THREE.Object3D[] = [];
  /** Lights the controller models (the network's shaders are unlit); on only in VR. */
  private readonly light = new THREE.HemisphereLight(0xffffff, 0x606060, 3);
  private model: XrModelState = { ...DEFAULT_XR_STATE };
  private prevInputs: XrInputs = { left: null, right: null };
  private lastTime = 0;
  private pendingReset = true;
  /** Desktop render modes to restore when the frame budget switched them. */
  private saved: { edges: string; nodes: string; auto: string | null } | null = null;
  private budget = { instances: XR_INSTANCE_BUDGET, cheap: XR_CHEAP_INSTANCE_BUDGET };

  constructor(private readonly viewer: Viewer) {
    this.rig.matrixAutoUpdate = false;
    this.rig.visible = false;
    this.rig.add(this.camera);
    viewer.sceneRoot.add(this.rig);
    this.space.add(this.hands.left, this.hands.right, this.anchor);
    for (const h of Object.values(this.hands)) h.matrixAutoUpdate = false;
    this.light.visible = false;
    viewer.sceneRoot.add(this.light);
    const xr = viewer.renderer.xr;
    const factory = new XRControllerModelFactory(new QuietGLTFLoader(), (scene) => this.modelLoaded(scene)).setPath(XR_PROFILES_PATH);
    for (let i = 0; i < 2; i++) {
      const ray = xr.getController(i);
      const grip = xr.getControllerGrip(i);
      this.grips.push(grip);
      this.rig.add(ray, grip);
      // The factory listens on the grip itself: it loads the model on connect, drops it on disconnect.
      const model = factory.createControllerModel(grip);
      this.controllerModels.push(model);
      this.boxes.push(new THREE.Object3D());
      grip.add(model);
      ray.addEventListener('connected', (e) => {
        const hand = (e.data as XRInputSource).handedness;
        this.handOf[i] = hand === 'left' || hand === 'right' ? hand : null;
        ray.clear();
        grip.remove(this.boxes[i]);
        if (this.handOf[i]) {
          const [box, line] = this.handMaterials[this.handOf[i]!];
          ray.add(rayLine(line));
          this.boxes[i] = controllerBox(box);
          // Shown until the profile's model has loaded (it may already have, from the cache).
          this.boxes[i].visible = !model.children.length;
          grip.add(this.boxes[i]);
        }
      });
      ray.addEventListener('disconnected', () => {
        this.handOf[i] = null;
        ray.clear();
        grip.remove(this.boxes[i]);
      });
    }
  }

  /** A profile model was added to one of the controllers: its box goes. */
  private modelLoaded(scene: THREE.Object3D): void {
    const i = this.controllerModels.findIndex((m) => m === scene.parent);
    if (i >= 0) this.boxes[i].visible = false;
  }

  private controllerState(): XrState['controllers'] {
    return this.controllerModels.map((m, i) => {
      let meshes = 0;
      m.traverse((o) => void ((o as THREE.Mesh).isMesh && meshes++));
      return { hand: this.handOf[i], model: meshes > 0 && !this.boxes[i].visible, meshes };
    });
  }

  /** Whether the browser offers immersive-vr (WebXR needs HTTPS or localhost). */
  async supported(): Promise<boolean> {
    try {
      return !!navigator.xr && (await navigator.xr.isSessionSupported('immersive-vr'));
    } catch {
      return false;
    }
  }

  enter(options: XrEnterOptions = {}): Promise<void> {
    if (this.session) return Promise.resolve();
    const n = options.instanceBudget;
    this.budget = n !== undefined && n > 0 ? { instances: n, cheap: 4 * n } : { instances: XR_INSTANCE_BUDGET, cheap: XR_CHEAP_INSTANCE_BUDGET };
    this.entering ??= this.start().finally(() => (this.entering = null));
    return this.entering;
  }

  private async start(): Promise<void> {
    if (!navigator.xr) throw new Error('WebXR is not available in this browser (it needs HTTPS or localhost)');
    const session = await navigator.xr.requestSession('immersive-vr', { optionalFeatures: ['local-floor', 'bounded-floor'] });
    const renderer = this.viewer.renderer;
    renderer.xr.enabled = true;
    renderer.xr.setReferenceSpaceType('local-floor');
    try {
      await renderer.xr.setSession(session);
    } catch (err) {
      renderer.xr.enabled = false;
      await session.end().catch(() => undefined);
      throw err;
    }
    this.session = session;
    session.addEventListener('end', () => this.ended());
    this.viewer.xrPresenting = true;
    this.rig.visible = true;
    this.light.visible = true;
    const rendering = this.viewer.rendering;
    const edges = rendering['edges.render_mode'] as string;
    this.saved = { edges, nodes: rendering['nodes.render_mode'] as string, auto: null };
    this.model = { ...DEFAULT_XR_STATE, renderMode: XR_RENDER_PRESETS.findIndex((p) => p.edges === edges), classVisibility: this.viewer.visibility };
    this.applyBudget(true);
    this.prevInputs = { left: null, right: null };
    this.lastTime = 0;
    this.pendingReset = true;
    renderer.setAnimationLoop((time, frame) => this.onFrame(time, frame));
    this.onSessionChange();
  }

  async exit(): Promise<void> {
    if (this.entering) await this.entering.catch(() => undefined);
    const session = this.session;
    if (!session) return;
    const ended = new Promise<void>((ok) => session.addEventListener('end', () => ok(), { once: true }));
    await session.end().catch(() => undefined);
    await Promise.race([ended, new Promise((ok) => setTimeout(ok, 2000))]);
    this.ended();
  }

  private ended(): void {
    if (!this.session) return;
    this.session = null;
    const renderer = this.viewer.renderer;
    renderer.setAnimationLoop(null);
    renderer.xr.enabled = false;
    this.rig.visible = false;
    this.light.visible = false;
    this.viewer.xrPresenting = false;
    this.viewer.xrLod = 1;
    this.viewer.xrMode = 'off';
    // Undo the frame budget's automatic switch unless a face button picked a mode since.
    const saved = this.saved;
    this.saved = null;
    if (saved?.auto && this.viewer.rendering['edges.render_mode'] === saved.auto) {
      this.viewer.setRendering({ 'edges.render_mode': saved.edges, 'nodes.render_mode': saved.nodes }, 'VR');
    }
    this.viewer.invalidate();
    this.onSessionChange();
  }

  state(): XrState {
    const r = this.anchor.rotation;
    this.space.updateMatrixWorld(true);
    const p = new THREE.Vector3().setFromMatrixPosition(this.anchor.matrixWorld);
    const edges = this.viewer.rendering['edges.render_mode'] as string;
    const v = this.viewer.visibility;
    return {
      presenting: this.session !== null,
      scale: this.model.scale,
      parent: this.anchor.parent === this.hands.left ? 'left' : this.anchor.parent === this.hands.right ? 'right' : 'scene',
      rotation: [r.x, r.y, r.z],
      position: [p.x, p.y, p.z],
      renderMode: XR_RENDER_PRESETS.find((p) => p.edges === edges)?.name ?? edges,
      classVisibility: typeof v === 'number' ? `class_${v}` : v,
      controllers: this.controllerState(),
    };
  }

  /** Frame budget for the current scene and mode; `auto` may switch ray-cast edges to lines. */
  private applyBudget(auto: boolean): void {
    const edges = this.viewer.rendering['edges.render_mode'] as string;
    const budget = chooseXrBudget(this.viewer.stats().drawnInstances, edges, auto, this.budget.instances, this.budget.cheap);
    if (budget.edges !== edges) {
      this.viewer.setRendering({ 'edges.render_mode': budget.edges }, 'VR');
      if (this.saved) this.saved.auto = budget.edges;
      this.model = { ...this.model, renderMode: XR_RENDER_PRESETS.findIndex((p) => p.edges === budget.edges) };
    }
    this.viewer.xrLod = budget.lod;
    this.viewer.xrMode = budget.label;
  }

  private onFrame(time: number, frame?: XRFrame): void {
    const session = this.session;
    if (!session || !frame) return;
    const dt = this.lastTime > 0 ? (time - this.lastTime) / 1000 : 0;
    this.lastTime = time;
    const xrCamera = this.viewer.renderer.xr.getCamera();
    // Head pose in reference space (three.js set the eyes from this frame's viewer pose).
    const eyes = xrCamera.cameras;
    const head = eyes.length === 2 ? eyes[0].position.clone().lerp(eyes[1].position, 0.5) : xrCamera.position.clone();
    const headQ = xrCamera.quaternion;

    const inputs: XrInputs = { left: null, right: null };
    for (const source of session.inputSources) {
      if (source.handedness === 'left' || source.handedness === 'right') inputs[source.handedness] = readGamepad(source.gamepad);
    }
    for (let i = 0; i < this.grips.length; i++) {
      const hand = this.handOf[i];
      if (hand && this.grips[i].visible) this.hands[hand].matrix.copy(this.grips[i].matrix);
    }
    this.space.updateMatrixWorld(true);

    this.model.classVisibility = this.viewer.visibility;
    const step = stepControls(this.prevInputs, inputs, this.model, dt, this.viewer.classCount());
    this.prevInputs = inputs;
    const before = this.model;
    this.model = step.state;
    if (step.reset || this.pendingReset) {
      this.resetPose(head, headQ);
      this.pendingReset = false;
    } else {
      if (step.state.parent !== before.parent) {
        (step.state.parent === 'scene' ? this.space : this.hands[step.state.parent]).attach(this.anchor);
      }
      this.anchor.scale.setScalar(step.state.scale);
      if (step.yaw !== 0 || step.pitch !== 0) this.rotateHeld(step.yaw, step.pitch, headQ);
    }
    if (step.state.renderMode !== before.renderMode && XR_RENDER_PRESETS[step.state.renderMode]) {
      const p = XR_RENDER_PRESETS[step.state.renderMode];
      this.viewer.setRendering({ 'edges.render_mode': p.edges, 'nodes.render_mode': p.nodes }, 'VR');
      this.applyBudget(false);
    }
    if (step.state.classVisibility !== before.classVisibility) {
      this.viewer.setClassVisibility(step.state.classVisibility);
      this.applyBudget(false);
    }
    for (const hand of ['left', 'right'] as const) {
      for (const m of this.handMaterials[hand]) m.color.setHex(this.model.parent === hand ? HELD_COLOR : HAND_COLORS[hand]);
    }

    // The model's transform in the room; the rig gets its inverse.
    this.space.updateMatrixWorld(true);
    const model = this.anchor.matrixWorld.clone().multiply(this.innerTransform());
    this.rig.matrix.copy(model).invert();
    this.rig.matrixWorldNeedsUpdate = true;
    // Sky light from the room's up, which the rig turns with the model.
    this.light.position.set(0, 1, 0).transformDirection(this.rig.matrix);

    const eye = head.clone().applyMatrix4(this.rig.matrix);
    const view = xrCamera.cameras[0];
    const pointScale = view ? (view.viewport.w / 2) * view.projectionMatrix.elements[5] : 500;
    this.viewer.renderXR(this.camera, eye, pointScale);
  }

  /**
   * Network coordinates → anchor space: centred, `MODEL_WIDTH` metres across its largest
   * extent, the layer axis (z) turned to run left to right (input on the left).
   */
  private innerTransform(): THREE.Matrix4 {
    const { min, max, center } = this.viewer.networkBounds;
    const extent = Math.max(max[0] - min[0], max[1] - min[1], max[2] - min[2], 1e-6);
    return new THREE.Matrix4()
      .makeScale(MODEL_WIDTH / extent, MODEL_WIDTH / extent, MODEL_WIDTH / extent)
      .multiply(new THREE.Matrix4().makeRotationY(Math.PI / 2))
      .multiply(new THREE.Matrix4().makeTranslation(-center[0], -center[1], -center[2]));
  }

  /** The model back in the room, MODEL_DISTANCE in front of the viewer at chest height, facing them. */
  private resetPose(head: THREE.Vector3, headQ: THREE.Quaternion): void {
    this.space.add(this.anchor);
    const forward = new THREE.Vector3(0, 0, -1).applyQuaternion(headQ).setY(0);
    if (head.y <= 0 || forward.lengthSq() < 1e-6) {
      // No viewer pose yet: a standing viewer at the origin.
      this.anchor.position.copy(DEFAULT_POSITION);
      this.anchor.quaternion.identity();
    } else {
      forward.normalize();
      this.anchor.position.set(head.x + forward.x * MODEL_DISTANCE, Math.max(MIN_HEIGHT, head.y - CHEST_DROP), head.z + forward.z * MODEL_DISTANCE);
      this.anchor.quaternion.setFromAxisAngle(new THREE.Vector3(0, 1, 0), Math.atan2(-forward.x, -forward.z));
    }
    this.anchor.scale.setScalar(1);
    this.model = { ...this.model, scale: 1, parent: 'scene' };
  }

  /** Turns a held model about the vertical (yaw) and the viewer's horizontal axis (pitch), through its centre. */
  private rotateHeld(yaw: number, pitch: number, headQ: THREE.Quaternion): void {
    const parent = this.anchor.parent ?? this.space;
    const toParent = parent.getWorldQuaternion(new THREE.Quaternion()).invert();
    const up = new THREE.Vector3(0, 1, 0).applyQuaternion(toParent);
    const right = new THREE.Vector3(1, 0, 0).applyQuaternion(headQ).setY(0);
    if (right.lengthSq() < 1e-6) right.set(1, 0, 0);
    right.normalize().applyQuaternion(toParent);
    this.anchor.quaternion.premultiply(new THREE.Quaternion().setFromAxisAngle(up, yaw));
    this.anchor.quaternion.premultiply(new THREE.Quaternion().setFromAxisAngle(right, pitch));
  }

  /** An "Enter VR" button in the style of the panels; disabled with a reason without immersive-vr. */
  createButton(parent: HTMLElement): HTMLButtonElement {
    const button = document.createElement('button');
    button.className = 'nv-button nv-vr-button';
    button.textContent = 'Enter VR';
    button.disabled = true;
    button.title = 'checking for WebXR…';
    parent.appendChild(button);
    const label = (): void => {
      button.textContent = this.session ? 'Exit VR' : 'Enter VR';
    };
    button.onclick = () => {
      const action = this.session ? this.exit() : this.enter();
      button.disabled = true;
      void action
        .catch((err: unknown) => {
          button.title = `VR failed: ${err instanceof Error ? err.message : String(err)}`;
        })
        .finally(() => {
          button.disabled = false;
          label();
        });
    };
    void this.supported().then((ok) => {
      button.disabled = !ok;
      button.classList.toggle('nv-unavailable', !ok);
      button.title = ok
        ? 'Show the network at arm\u2019s length in a VR headset'
        : navigator.xr
          ? 'No VR headset: this browser offers no immersive-vr session'
          : 'WebXR is not available (it needs a WebXR browser, over HTTPS or on localhost)';
    });
    this.onSessionChange = label;
    return button;
  }

  private onSessionChange: () => void = () => {};
}

/** The fallback controller: a small box where the hand grips. */
function controllerBox(material: THREE.Material): THREE.Object3D {
  const body = new THREE.Mesh(new THREE.BoxGeometry(0.035, 0.03, 0.11), material);
  body.position.set(0, -0.01, 0.03);
  const outline = new THREE.LineSegments(new THREE.EdgesGeometry(body.geometry), new THREE.LineBasicMaterial({ color: 0x1f2328 }));
  body.add(outline);
  return body;
}

/** The pointing ray, 30 cm along the target ray. */
function rayLine(material: THREE.Material): THREE.Object3D {
  const geometry = new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(0, 0, 0), new THREE.Vector3(0, 0, -0.3)]);
  return new THREE.Line(geometry, material);
}

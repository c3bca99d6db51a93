// FXAA for a context without multisampling (core/antialias.ts says when), and the renderer
// name 'auto' chooses by.

import * as THREE from 'three';
import { FXAAShader } from 'three/addons/shaders/FXAAShader.js';

/** The WebGL renderer's name ('' when the browser hides it), read from a throwaway context. */
export function rendererName(): string {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return '';
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return name;
}

/**
 * Edge blending only: FXAA's subpixel blending also smears features a few pixels wide (small
 * nodes, thin strands) that multisampling keeps, so it is turned off.
 */
function withoutSubpixelBlending(shader: string): string {
  const out = shader.replace(/_SubpixelBlending = [0-9.]+;/, '_SubpixelBlending = 0.0;');
  if (out === shader) throw new Error('FXAA shader: no _SubpixelBlending constant to set');
  return out;
}

/** One FXAA pass over what the canvas holds, written back onto the canvas. */
export class FxaaPass {
  private readonly material = new THREE.ShaderMaterial({
    name: 'fxaa',
    uniforms: THREE.UniformsUtils.clone(FXAAShader.uniforms),
    vertexShader: FXAAShader.vertexShader,
    fragmentShader: withoutSubpixelBlending(FXAAShader.fragmentShader),
    depthTest: false,
    depthWrite: false,
    blending: THREE.NoBlending,
  });
  private readonly scene = new THREE.Scene();
  private readonly camera = new THREE.OrthographicCamera(-1, 1, 1, -1, 0, 1);
  private texture: THREE.FramebufferTexture | null = null;

  constructor() {
    this.scene.add(new THREE.Mesh(new THREE.PlaneGeometry(2, 2), this.material));
  }

  apply(renderer: THREE.WebGLRenderer): void {
    const size = renderer.getDrawingBufferSize(new THREE.Vector2());
    if (!this.texture || this.texture.image.width !== size.x || this.texture.image.height !== size.y) {
      this.texture?.dispose();
      this.texture = new THREE.FramebufferTexture(size.x, size.y);
      // FXAA blends by reading between texels.
      this.texture.minFilter = THREE.LinearFilter;
      this.texture.magFilter = THREE.LinearFilter;
    }
    renderer.setScissorTest(false);
    renderer.setViewport(0, 0, size.x / renderer.getPixelRatio(), size.y / renderer.getPixelRatio());
    renderer.copyFramebufferToTexture(this.texture);
    this.material.uniforms.tDiffuse.value = this.texture;
    this.material.uniforms.resolution.value.set(1 / size.x, 1 / size.y);
    renderer.render(this.scene, this.camera);
  }
}

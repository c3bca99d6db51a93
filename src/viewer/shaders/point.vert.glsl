// One round point sprite per instance (VERTICES = 1), sized like the sphere it stands for.
uniform float uPointScale; // pixels per world unit at distance 1

flat out vec3 vColor;
flat out float vImp;
flat out float vRel;

void main() {
  int next; // (points span nothing)
  int id = instanceOf(gl_VertexID, next);
  float imp = -1.0;
  vec3 color;
  vec3 pos;
  if (!skipped(id)) pos = fetchInstance(id, false, imp, color);
  if (imp < uThreshold) {
    gl_Position = CULLED;
    gl_PointSize = 0.0;
    return;
  }
  imp = drawnImportance(imp);
  vec4 view = viewMatrix * vec4(pos, 1.0);
  gl_PointSize = clamp(uSize * imp * uPointScale / max(1e-4, -view.z), 1.5, 64.0); // diameter in pixels
  vColor = color;
  vImp = imp;
  vRel = relativeDepth(pos);
  gl_Position = projectionMatrix * view;
}

// One line segment per draw-list entry (VERTICES = 2), from a sample to the next one of the
// same edge, or to the end of a straight run of samples (fillDrawList).
flat out vec3 vColor;
flat out float vImp;
out float vRel;

void main() {
  int next;
  int id = instanceOf(gl_VertexID >> 1, next);
  if (skipped(id)) {
    gl_Position = CULLED;
    return;
  }
  float imp;
  vec3 color;
  vec3 pos = fetchInstance(id, true, imp, color);
  if (imp < uThreshold) {
    gl_Position = CULLED;
    return;
  }
  vec3 world = (gl_VertexID & 1) == 0 ? pos : texelFetch(uTexels, texelOf(next), 0).xyz;
  vColor = color;
  vImp = drawnImportance(imp);
  vRel = relativeDepth(world);
  gl_Position = projectionMatrix * viewMatrix * vec4(world, 1.0);
}

// One line segment per sample, from the sample to the next one of the same edge.
in vec3 iNext;
in float iEnd;

flat out vec3 vColor;
flat out float vImp;
out float vRel;

void main() {
  vec3 color;
  float imp = instanceImportance(color);
  if (iEnd > 0.5 || culled(imp)) {
    gl_Position = CULLED;
    return;
  }
  vec3 world = mix(iPos, iNext, position.x);
  vColor = color;
  vImp = imp;
  vRel = relativeDepth(world);
  gl_Position = projectionMatrix * viewMatrix * vec4(world, 1.0);
}

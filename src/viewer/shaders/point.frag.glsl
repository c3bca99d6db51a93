flat in vec3 vColor;
flat in float vImp;
flat in float vRel;

void main() {
  vec2 q = gl_PointCoord * 2.0 - 1.0;
  float r2 = dot(q, q);
  if (r2 > 1.0) discard;
  fragColor = preblend(vColor, opacity(vImp, vRel, sqrt(1.0 - r2)));
}

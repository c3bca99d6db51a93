flat in vec3 vColor;
flat in float vImp;
in float vRel;

void main() {
  fragColor = preblend(vColor, opacity(vImp, vRel, 1.0));
}

// CRC-32 (IEEE 802.3, as in zlib, PNG and gzip: reflected polynomial 0xEDB88320, initial
// value and final XOR 0xFFFFFFFF). Pure and platform-neutral: the .nnvis container
// (docs/FORMAT.md) checksums every chunk with it, in Node and in the viewer.
//
// Table-driven, four bytes per step ("slicing-by-4", 4 KiB of tables): about twice the
// speed of the one-table loop, which matters for processed files of many megabytes.

const TABLE = new Int32Array(4 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}
// TABLE[k * 256 + n]: the CRC of byte n followed by k zero bytes.
for (let k = 1; k < 4; k++) {
  for (let n = 0; n < 256; n++) {
    const prev = TABLE[(k - 1) * 256 + n];
    TABLE[k * 256 + n] = TABLE[prev & 0xff] ^ (prev >>> 8);
  }
}

/**
 * CRC-32 of `bytes`, as an unsigned 32-bit integer (`crc32("123456789")` = 0xCBF43926).
 * Pass a previous result as `crc` to continue over data that arrives in pieces:
 * `crc32(b, crc32(a))` equals the CRC of `a` followed by `b`.
 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc;
  const n = bytes.length;
  const whole = n - (n & 3);
  let i = 0;
  for (; i < whole; i += 4) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = TABLE[768 + (c & 0xff)] ^ TABLE[512 + ((c >>> 8) & 0xff)] ^ TABLE[256 + ((c >>> 16) & 0xff)] ^ TABLE[c >>> 24];
  }
  for (; i < n; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

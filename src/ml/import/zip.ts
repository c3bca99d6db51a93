// Minimal zip reader for .keras files: the central directory, stored and deflate entries,
// ZIP64 sizes and offsets. A .keras file is untrusted input, so every field is checked
// against the buffer before it is used (end record, central directory, each entry's name and
// extra fields, local headers, data ranges), an entry's declared size is capped before
// inflating, inflate output is limited to that size, and the result must match the declared
// size and CRC. Anything off is an InputError naming the file and what is wrong.

import { crc32, inflateRawSync } from 'node:zlib';
import { quoted } from '../../core/text.ts';
import { fail } from './common.ts';

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** More entries than any .keras file has; bounds the work a crafted directory can cause. */
const MAX_ENTRIES = 10_000;

class Reader {
  constructor(
    private readonly file: string,
    readonly buf: Buffer,
  ) {}

  bad(why: string): never {
    return fail(this.file, `is not a readable zip archive (${why}); a .keras file is a zip`);
  }

  /** Checks [at, at + len) lies inside the buffer (and below `end` when given). */
  need(at: number, len: number, what: string, end = this.buf.length): void {
    if (!Number.isSafeInteger(at) || at < 0 || len < 0 || at + len > end) this.bad(`${what} lies outside the archive; truncated?`);
  }

  u16(at: number, what: string, end?: number): number {
    this.need(at, 2, what, end);
    return this.buf.readUInt16LE(at);
  }

  u32(at: number, what: string, end?: number): number {
    this.need(at, 4, what, end);
    return this.buf.readUInt32LE(at);
  }

  u64(at: number, what: string, end?: number): number {
    this.need(at, 8, what, end);
    const v = this.buf.readBigUInt64LE(at);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.bad(`${what} is ${v}, beyond any file size`);
    return Number(v);
  }
}

/** Lists the archive's entries from its central directory. */
export function readZipEntries(file: string, buf: Buffer): ZipEntry[] {
  const r = new Reader(file, buf);
  if (buf.length < 22) r.bad(`only ${buf.length} bytes`);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD && i + 22 + buf.readUInt16LE(i + 20) <= buf.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) r.bad('no end of central directory record; truncated?');
  const disk = buf.readUInt16LE(eocd + 4);
  const cdDisk = buf.readUInt16LE(eocd + 6);
  let count = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  let cdLimit = eocd;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== ZIP64_LOCATOR) r.bad('ZIP64 locator missing');
    const rec = r.u64(loc + 8, 'ZIP64 end record offset');
    if (rec + 56 > loc || r.u32(rec, 'ZIP64 end record') !== ZIP64_EOCD) r.bad('ZIP64 end record missing');
    count = r.u64(rec + 32, 'ZIP64 entry count');
    cdSize = r.u64(rec + 40, 'ZIP64 central directory size');
    cdOffset = r.u64(rec + 48, 'ZIP64 central directory offset');
    cdLimit = rec;
  } else if (disk !== 0 || cdDisk !== 0) {
    r.bad('split over several disks');
  }
  r.need(cdOffset, cdSize, `central directory (offset ${cdOffset}, ${cdSize} bytes)`, cdLimit);
  if (count > MAX_ENTRIES) r.bad(`${count} entries; at most ${MAX_ENTRIES} are read`);
  if (count * 46 > cdSize) r.bad(`${count} entries cannot fit in a ${cdSize}-byte central directory`);
  const cdEnd = cdOffset + cdSize;

  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    const at = `central directory entry ${i}`;
    if (r.u32(p, at, cdEnd) !== CENTRAL) r.bad(`${at} has a bad signature`);
    r.need(p, 46, at, cdEnd);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    let compressedSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let localOffset = buf.readUInt32LE(p + 42);
    r.need(p + 46, nameLen + extraLen + commentLen, `${at} name and extra fields`, cdEnd);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    // ZIP64 extended information: only the fields that are 0xffffffff above, in this order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = buf.readUInt16LE(x);
      const len = buf.readUInt16LE(x + 2);
      const fieldEnd = x + 4 + len;
      if (fieldEnd > xEnd) r.bad(`${at} has an extra field running past its end`);
      if (id === 0x0001) {
        let q = x + 4;
        const next = (what: string): number => {
          const v = r.u64(q, `${at} ZIP64 ${what}`, fieldEnd);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next('size');
        if (compressedSize === 0xffffffff) compressedSize = next('compressed size');
        if (localOffset === 0xffffffff) localOffset = next('local header offset');
      }
      x = fieldEnd;
    }
    entries.push({ name, method, flags, crc, compressedSize, size, localOffset });
    p = xEnd + commentLen;
  }
  return entries;
}

/** An entry's bytes, after checking method, sizes (at most `maxSize`), ranges and CRC. */
export function extractZipEntry(file: string, buf: Buffer, e: ZipEntry, maxSize: number): Buffer {
  const r = new Reader(file, buf);
  const entry = `zip entry ${quoted(e.name)}`;
  if (e.flags & 0x0001) fail(file, `${entry} is encrypted; nnvis reads unencrypted .keras files only`);
  if (e.method !== 0 && e.method !== 8) fail(file, `${entry} uses compression method ${e.method}; only stored (0) and deflate (8) are supported`);
  if (e.size > maxSize) fail(file, `${entry} is ${e.size} bytes uncompressed; nnvis reads entries of at most ${maxSize} bytes`);
  const h = e.localOffset;
  if (h + 30 > buf.length || buf.readUInt32LE(h) !== LOCAL) fail(file, `${entry} has no local header at offset ${h}; truncated or corrupt?`);
  const start = h + 30 + r.u16(h + 26, `${entry} local header`) + r.u16(h + 28, `${entry} local header`);
  if (start + e.compressedSize > buf.length) fail(file, `${entry} runs past the end of the file; truncated?`);
  const raw = buf.subarray(start, start + e.compressedSize);
  let data: Buffer;
  if (e.method === 0) {
    if (e.compressedSize !== e.size) fail(file, `${entry} is stored with ${e.compressedSize} bytes but declares ${e.size}; corrupt?`);
    data = raw;
  } else {
    try {
      // One byte more than declared, so an entry inflating past its size is caught, not buffered.
      data = inflateRawSync(raw, { maxOutputLength: e.size + 1 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') fail(file, `${entry} inflates to more than its declared ${e.size} bytes; corrupt?`);
      return fail(file, `${entry} cannot be inflated (${code ?? 'error'}); corrupt?`);
    }
  }
  if (data.length !== e.size) fail(file, `${entry} has ${data.length} bytes, expected ${e.size}; corrupt?`);
  if (crc32(data) !== e.crc) fail(file, `${entry} fails its CRC check; the file is corrupt`);
  return data;
}

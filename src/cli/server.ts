import { createReadStream, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, isAbsolute, relative, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';

// A deliberately tiny static server: the viewer directory plus the files the user named on
// the command line, nothing else. It may be bound to a LAN address (--host), so every path
// is checked against the root after decoding and after resolving symlinks.

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.glsl': 'text/plain; charset=utf-8',
  '.wgsl': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.glb': 'model/gltf-binary',
  '.nnvis': 'application/octet-stream',
};

export interface ServeOptions {
  /** Directory served at `/` (the built viewer). */
  root: string;
  /** Files served at `/files/<i>/<basename>`, in this order. */
  files?: readonly string[];
  host?: string;
  /** 0 picks a free port. */
  port?: number;
}

export interface Served {
  /** Base URL with a trailing slash, e.g. http://127.0.0.1:41234/ */
  url: string;
  /** Server-absolute path of each given file, e.g. /files/0/net.nnvis */
  filePaths: string[];
  close(): Promise<void>;
}

export function filePath(index: number, file: string): string {
  return `/files/${index}/${encodeURIComponent(basename(file))}`;
}

export async function serveStatic(opts: ServeOptions): Promise<Served> {
  const root = realpathSync(opts.root);
  const files = (opts.files ?? []).map((f) => resolve(f));
  const filePaths = files.map((f, i) => filePath(i, f));
  const host = opts.host ?? '127.0.0.1';

  const server = createServer((req, res) => {
    const target = route(req, root, files);
    if (typeof target === 'number') {
      res.writeHead(target, { 'content-type': 'text/plain; charset=utf-8' }).end(`${target}\n`);
      return;
    }
    send(req, res, target);
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') fail(new InputError(`--port ${opts.port}: address ${host}:${opts.port} is already in use; choose another port, or 0 for any free one`));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') fail(new InputError(`--host ${host}: not an address of this machine`));
      else if (err.code === 'EACCES') fail(new InputError(`--port ${opts.port}: permission denied; use a port above 1023`));
      else fail(err);
    });
    server.listen(opts.port ?? 0, host, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  // A wildcard bind is reachable locally through loopback; that is the URL to show.
  const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const shownHost = local.includes(':') ? `[${local}]` : local;
  return {
    url: `http://${shownHost}:${port}/`,
    filePaths,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

/** The file to send for a request, or an HTTP status. */
function route(req: IncomingMessage, root: string, files: readonly string[]): string | number {
  if (req.method !== 'GET' && req.method !== 'HEAD') return 405;
  const raw = (req.url ?? '').split('?')[0];
  if (!raw.startsWith('/')) return 400; // absolute-form "http://host/..." or garbage
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return 400;
  }
  const segments = path.split('/').slice(1);
  // Refuse rather than normalise: a legitimate client never sends these.
  if (path.includes('\0') || path.includes('\\') || segments.some((s) => s === '..' || s === '.')) return 403;

  if (segments[0] === 'files') {
    const [, index, name, ...rest] = segments;
    const file = /^\d+$/.test(index ?? '') ? files[Number(index)] : undefined;
    if (!file || rest.length > 0 || name !== basename(file)) return 404;
    return file;
  }

  const full = resolve(root, `.${path}`);
  let real: string;
  try {
    real = realpathSync(full);
  } catch {
    return 404;
  }
  const rel = relative(root, real);
  if (rel.startsWith('..') || isAbsolute(rel)) return 403; // a symlink pointing out of the root
  try {
    if (statSync(real).isDirectory()) {
      // No listings: a directory means its index.html, or nothing.
      const index = resolve(real, 'index.html');
      return statSync(index).isFile() ? index : 404;
    }
  } catch {
    return 404;
  }
  return real;
}

function send(req: IncomingMessage, res: ServerResponse, file: string): void {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404\n');
    return;
  }
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': size,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

import { spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { readNetworkFile } from '../network-file.ts';
import { parseIntIn } from '../options.ts';

const DEFAULT_PORT = 8765;
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Opens `url` in the desktop's browser; not having one is worth a warning, not a failure. */
function openInBrowser(url: string): void {
  const warn = (why: string) => console.error(`warning: could not open a browser (${why}); open ${url} yourself`);
  const child = spawn('xdg-open', [url], { detached: true, stdio: 'ignore' });
  child.on('error', (err) => warn(err.message));
  child.on('exit', (code) => {
    if (code) warn(`xdg-open exited with ${code}`);
  });
  child.unref();
}

export function registerView(program: Command): void {
  program
    .command('view')
    .description('serve the 3D viewer (and the given .nnvis files) on a local web server; runs until Ctrl-C')
    .argument('[files...]', '.nnvis files to offer; without any, the viewer opens empty (drop a file on it)')
    .option('--port <n>', `port, 0 for any free one (default ${DEFAULT_PORT}, or a free one if that is taken)`, parseIntIn('--port', 0, 65535))
    .option('--host <address>', 'address to listen on; anything but loopback shares your files with the network', '127.0.0.1')
    .option('--open', 'open the viewer in the system browser (xdg-open)')
    .option('--side-by-side', 'one URL that shows all the files side by side with a linked camera')
    .addHelpText('after', '\nExamples:\n  nnvis view processed.nnvis --open\n  nnvis view untrained.nnvis trained.nnvis --side-by-side')
    .action(async (files: string[], opts: { port?: number; host: string; open?: boolean; sideBySide?: boolean }) => {
      // Decoding up front: a bad file is reported here in one line, not in the browser.
      for (const f of files) readNetworkFile(f);

      const { ensureViewerBuilt } = await import('../viewer-build.ts');
      const { serveStatic } = await import('../server.ts');
      const root = await ensureViewerBuilt();
      const serve = (port: number) => serveStatic({ root, files, host: opts.host, port });
      let served;
      try {
        served = await serve(opts.port ?? DEFAULT_PORT);
      } catch (err) {
        if (opts.port !== undefined) throw err;
        served = await serve(0); // the default port is busy (another nnvis view?): take any
      }

      if (!LOOPBACK.test(opts.host)) {
        const lan = opts.host === '0.0.0.0' || opts.host === '::' ? Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address : opts.host;
        const where = lan ? ` (e.g. at http://${lan}:${new URL(served.url).port}/)` : '';
        console.error(`warning: listening on ${opts.host}: anyone who can reach this machine can load the viewer and these files${where}`);
      }
      const urls = served.filePaths.map((p) => `${served.url}?file=${p}`);
      let first = urls[0] ?? served.url;
      if (opts.sideBySide && files.length > 1) {
        first = `${served.url}?${served.filePaths.map((p) => `file=${p}`).join('&')}`;
        console.log(`nnvis viewer: ${first}`);
      } else {
        console.log(`nnvis viewer: ${files.length === 0 ? served.url : urls[0]}`);
        files.slice(1).forEach((f, i) => console.log(`  ${basename(f)}: ${urls[i + 1]}`));
      }
      console.log('press Ctrl-C to stop');
      if (opts.open) openInBrowser(first);

      await new Promise<void>((done) => {
        const stop = () => void served.close().then(done);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

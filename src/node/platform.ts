import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Platform, TextFiles } from '../core/platform.js';
import { terminalBar } from './live-bar.js';

const textFiles: TextFiles = {
  writeText: (path, text) => writeFile(path, text),
  appendText: (path, text) => appendFile(path, text),
  readText: (path) =>
    readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    }),
};

/** Node's services (Note [Platforms]): the process's stdout, the machine's cores, a terminal bar, text files. */
export const nodePlatform: Platform = {
  name: 'node',
  cores: () => availableParallelism(),
  stdout: () => process.stdout,
  liveBar: terminalBar,
  files: textFiles,
};

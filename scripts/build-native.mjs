// The package's install step: builds the native backend (C++ addon linking Debian's oneDNN)
// with the node-gyp that npm bundles, against Node's own headers, so nothing is downloaded.
// A failed build never fails the install: Strata then runs on the reference backend, and
// build/native-status.json keeps the reason that st.backends() reports.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const statusFile = path.join(root, 'build', 'native-status.json');

function findNodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const candidates = [
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package: fall back to npm's bundled copy
  }
  return candidates.find((c) => existsSync(c));
}

// Node's headers ship with the runtime here (/usr/include/node); pointing node-gyp at them
// avoids its default of downloading a header tarball.
function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node.h')) ? prefix : undefined;
}

function record(status) {
  mkdirSync(path.dirname(statusFile), { recursive: true });
  writeFileSync(statusFile, JSON.stringify(status, null, 2) + '\n');
}

const nodeGyp = findNodeGyp();
const nodeDir = findNodeDir();
if (!nodeGyp) {
  record({ built: false, reason: 'node-gyp was not found' });
  console.warn('strata: native backend not built (node-gyp was not found); using the reference backend');
  process.exit(0);
}
const args = [nodeGyp, 'rebuild', ...(nodeDir ? [`--nodedir=${nodeDir}`] : [])];
const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
if (result.status === 0) {
  record({ built: true });
  console.log('strata: native backend built');
} else {
  const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
  // The compiler's own message (a missing dnnl.hpp, say) says more than make's summary line.
  const lines = output.split('\n');
  const firstError = lines.find((l) => /fatal error|No such file|not found/i.test(l)) ?? lines.find((l) => /error/i.test(l)) ?? `node-gyp exited with ${result.status}`;
  record({ built: false, reason: firstError.trim().slice(0, 300) });
  console.warn(`strata: native backend not built (${firstError.trim()}); using the reference backend`);
}

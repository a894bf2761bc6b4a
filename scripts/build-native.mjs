// The package's install step: builds the native backend (C++ addon linking Debian's oneDNN)
// with the node-gyp that npm bundles, against Node's own headers, so nothing is downloaded.
// A failed build never fails the install: Strata then runs on the reference backend, and
// build/native-status.json keeps the reason that st.backends() reports. In a checkout, the
// calling convention's generated files are refreshed from native/calls.mjs first (a published
// package ships them generated).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
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

// Note [One table for the native calling convention] in native/calls.mjs.
const generator = path.join(root, 'scripts', 'native-calls.mjs');
if (existsSync(generator)) {
  const gen = spawnSync(process.execPath, [generator], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  if (gen.status !== 0) {
    const reason = `native/calls.mjs: ${
      (gen.stderr ?? '')
        .trim()
        .split('\n')
        .find((l) => l.includes('Error')) ?? `the generator exited with ${gen.status}`
    }`;
    record({ built: false, reason });
    console.warn(`strata: native backend not built (${reason}); using the reference backend`);
    process.exit(0);
  }
}

// A kernel that the table lists but no source file defines would only fail when first called
// (Node loads addons with lazy binding), so the build checks that none is left undefined.
function undefinedKernels(binary) {
  const nm = spawnSync('nm', ['--undefined-only', '--demangle', binary], { encoding: 'utf8' });
  if (nm.status !== 0) return [];
  return nm.stdout
    .split('\n')
    .map((l) => l.trim().replace(/^U\s+/, ''))
    .filter((l) => l.startsWith('strata::'));
}

const nodeGyp = findNodeGyp();
const nodeDir = findNodeDir();
if (!nodeGyp) {
  record({ built: false, reason: 'node-gyp was not found' });
  console.warn('strata: native backend not built (node-gyp was not found); using the reference backend');
  process.exit(0);
}
const args = [nodeGyp, 'rebuild', ...(nodeDir ? [`--nodedir=${nodeDir}`] : [])];
// The compile is silent and long; say what it is and how long it takes, so an install that sits
// for a minute does not look hung (npm shows this with --foreground-scripts, set in .npmrc here).
console.log('strata: building the native backend (a C++ addon on oneDNN; 20-60 s on 2 cores)...');
const started = Date.now();
const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
const seconds = ((Date.now() - started) / 1000).toFixed(0);
const missing = result.status === 0 ? undefinedKernels(path.join(root, 'build', 'Release', 'strata_native.node')) : [];
if (result.status === 0 && missing.length === 0) {
  record({ built: true });
  console.log(`strata: native backend built in ${seconds} s`);
} else if (result.status === 0) {
  const reason = `kernels declared by native/calls.mjs but defined nowhere: ${missing.join(', ')}`;
  rmSync(path.join(root, 'build', 'Release', 'strata_native.node'), { force: true });
  record({ built: false, reason: reason.slice(0, 300) });
  console.warn(`strata: native backend not built (${reason}); using the reference backend`);
} else {
  const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
  // The compiler's own message (a missing dnnl.hpp, say) says more than make's summary line.
  const lines = output.split('\n');
  const firstError =
    lines.find((l) => /fatal error|No such file|not found/i.test(l)) ??
    lines.find((l) => /error/i.test(l)) ??
    `node-gyp exited with ${result.status}`;
  record({ built: false, reason: firstError.trim().slice(0, 300) });
  console.warn(`strata: native backend not built (${firstError.trim()}); using the reference backend`);
}

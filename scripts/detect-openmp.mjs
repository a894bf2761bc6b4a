// Which OpenMP runtime the native addon links (Note [Two OpenMP runtimes, one in use] in
// native/src/addon.cc); binding.gyp runs this while node-gyp configures:
//   node scripts/detect-openmp.mjs --libs      -l:libomp.so.5 when LLVM's runtime is installed
//                                              (Debian's libomp5), else -lgomp
//   node scripts/detect-openmp.mjs --defines   STRATA_LLVM_OPENMP when it links LLVM's
// STRATA_OPENMP=gomp builds against GNU's libgomp even where libomp is installed (to compare).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function hasLibomp() {
  if (process.env.STRATA_OPENMP === 'gomp') return false;
  const cache = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
  if (cache.status === 0) return /\slibomp\.so\.5\s/.test(cache.stdout);
  return ['/usr/lib/x86_64-linux-gnu/libomp.so.5', '/usr/lib/aarch64-linux-gnu/libomp.so.5', '/usr/lib/libomp.so.5'].some((p) => existsSync(p));
}

const llvm = hasLibomp();
const flag = process.argv[2];
if (flag === '--libs') console.log(llvm ? '-l:libomp.so.5' : '-lgomp');
else if (flag === '--defines') console.log(llvm ? 'STRATA_LLVM_OPENMP' : '');
else {
  console.error('usage: node scripts/detect-openmp.mjs --libs | --defines');
  process.exit(2);
}

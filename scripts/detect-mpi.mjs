// Whether the native addon is built with MPI (native/src/mpi.cc) or without (mpi_absent.cc), and
// the flags for it; binding.gyp runs this while node-gyp configures:
//   node scripts/detect-mpi.mjs --found     1 when OpenMPI's mpicc answers, else 0
//   node scripts/detect-mpi.mjs --cflags    its include flags (empty when not found)
//   node scripts/detect-mpi.mjs --libs      its link flags (empty when not found)
// STRATA_WITHOUT_MPI=1 builds without MPI even where it is installed (to test that build).
import { spawnSync } from 'node:child_process';

function showme(what) {
  if (process.env.STRATA_WITHOUT_MPI === '1') return undefined;
  const r = spawnSync('mpicc', [`--showme:${what}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const compile = showme('compile');
const link = compile === undefined ? undefined : showme('link');
const found = compile !== undefined && link !== undefined;
const flag = process.argv[2];
if (flag === '--found') console.log(found ? '1' : '0');
else if (flag === '--cflags') console.log(found ? compile : '');
else if (flag === '--libs') console.log(found ? link : '');
else {
  console.error('usage: node scripts/detect-mpi.mjs --found | --cflags | --libs');
  process.exit(2);
}

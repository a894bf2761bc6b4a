// Fault injection for the hostile tests' child processes: counts the file-system steps a save
// takes (opening, writing, fsyncing, renaming, removing) once armed, and at the `at`-th one
//   mode 'kill'   : SIGKILLs the process (a write is cut in the middle first), as a crash, an
//                   OOM kill or a power cut would stop it;
//   mode 'enospc' : fails the step with ENOSPC, as a full disk would (steps that cannot fail
//                   that way, such as a rename, go through).
// The patched functions are fs.promises' and FileHandle's; syncBuiltinESMExports makes modules
// that imported them by name (`import { open } from 'node:fs/promises'`) see the patched ones.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

export async function installFaults({ mode, at }) {
  const state = { armed: false, step: 0 };
  const reached = (kind) => {
    if (!state.armed) return false;
    state.step++;
    if (state.step !== at) return false;
    process.stderr.write(`fault at step ${state.step}: ${kind}\n`);
    return true;
  };
  const die = () => process.kill(process.pid, 'SIGKILL');
  const enospc = (syscall) => Object.assign(new Error(`ENOSPC: no space left on device, ${syscall}`), { code: 'ENOSPC', errno: -28, syscall });

  const p = fs.promises;
  const wrap = (name, canFail) => {
    const original = p[name];
    p[name] = async function (...args) {
      if (reached(name)) {
        if (mode === 'kill') die();
        if (canFail(args)) throw enospc(name);
      }
      return original.apply(this, args);
    };
  };
  // Opening for writing can fail on a full disk (a new directory entry); rename and unlink cannot.
  wrap('open', (args) => typeof args[1] === 'string' && /[wa]/.test(args[1]));
  wrap('rename', () => false);
  wrap('unlink', () => false);
  wrap('rm', () => false);
  wrap('mkdir', () => true);
  syncBuiltinESMExports();

  // A write is where a full disk shows, and where a kill leaves a partial file.
  const probe = await p.open(new URL(import.meta.url).pathname, 'r');
  const FileHandle = Object.getPrototypeOf(probe);
  await probe.close();
  const { writeFile, sync } = FileHandle;
  FileHandle.writeFile = async function (data, ...rest) {
    if (reached('write')) {
      if (mode === 'kill') {
        await writeFile.call(this, data.subarray(0, data.length >> 1), ...rest);
        die();
      }
      throw enospc('write');
    }
    return writeFile.call(this, data, ...rest);
  };
  FileHandle.sync = async function () {
    if (reached('fsync')) {
      if (mode === 'kill') die();
      throw enospc('fsync');
    }
    return sync.call(this);
  };
  return state;
}

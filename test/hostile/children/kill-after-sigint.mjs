// Preloaded (node --import) into a `strata train` for test/hostile/checkpoints.test.ts: from the
// first Ctrl-C on, counts the file-system steps of the checkpoint save and SIGKILLs the process
// at step STRATA_TEST_KILL_AT, as a second Ctrl-C, an OOM kill or a power cut might.
import { installFaults } from './fs-faults.mjs';

const faults = await installFaults({ mode: 'kill', at: Number(process.env.STRATA_TEST_KILL_AT) });
process.on('SIGINT', () => {
  faults.armed = true;
});

#!/usr/bin/env node
// The `strata` command line. For now it reports the version and the backends; the training
// commands (train, evaluate, predict, bench) arrive with the command-line issue.
import { Command } from 'commander';
import * as st from '../index.js';

const program = new Command();
program.name('strata').description('Strata: deep learning for TypeScript').version(st.version, '-v, --version');

program
  .command('info')
  .description('print the version, the Node.js runtime and each backend with its availability')
  .action(() => {
    console.log(`strata ${st.version} on Node.js ${process.version} (${process.platform}-${process.arch})`);
    for (const b of st.backends()) {
      const state = b.available ? (b.active ? 'available, default' : 'available') : `unavailable: ${b.reason}`;
      console.log(`  backend ${b.name.padEnd(10)} ${state}`);
    }
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});

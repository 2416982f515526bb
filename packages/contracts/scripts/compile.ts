// `node packages/contracts/scripts/compile.ts`: recompiles the contracts and rewrites
// src/generated/abis.ts (committed, so tests and the app need no compiler at run time).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  compile,
  generatedPath,
  inputsHash,
  packageRoot,
  renderGenerated,
} from '../src/compile.ts';

const started = performance.now();
writeFileSync(generatedPath, renderGenerated(compile(), inputsHash()));
execFileSync(
  process.execPath,
  [
    join(packageRoot, '../../node_modules/prettier/bin/prettier.cjs'),
    '--write',
    '--log-level',
    'warn',
    generatedPath,
  ],
  { stdio: 'inherit' },
);
console.log(`wrote ${generatedPath} in ${Math.round(performance.now() - started)} ms`);

#!/usr/bin/env node
/**
 * `npm run simulate`: the churn simulation's command line (see run.ts for the options). Docs are
 * written to docs/ at the repository root.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './run.ts';

const docsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs');

process.exitCode = runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  writeDoc: (name, content) => {
    mkdirSync(docsDir, { recursive: true });
    writeFileSync(join(docsDir, name), content);
  },
  now: () => performance.now(),
});

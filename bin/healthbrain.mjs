#!/usr/bin/env node
// The CLI is TypeScript run by Node 24's type stripping; this shim only checks the runtime first.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`healthbrain needs Node.js 24 or newer (this is ${process.version}). Run it through npm/npx in the checkout, which uses the pinned node@24.`);
  process.exit(1);
}
await import('../src/cli/main.ts');

#!/usr/bin/env node
// The `workflow-archiver` command. Committed, unlike dist/, so that npm links it at install and
// `npx workflow-archiver` always runs this checkout's code (scripts/lib/ensure-built.mjs says more).
const { runCommand } = await import(new URL('../../../scripts/lib/ensure-built.mjs', import.meta.url).href);
await runCommand('packages/workflow-archiver', 'workflow-archiver');

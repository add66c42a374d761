#!/usr/bin/env node
// The statusctl command as installed by package.json "bin": checks the Node version, registers tsx so node can run the TypeScript, then runs it.
import { exitOnOldNode } from './check-node.mjs';

// Before tsx is loaded: on too old a Node it may fail first, with a message that names nothing useful.
exitOnOldNode();
const { register } = await import('tsx/esm/api');
register();
await import('./statusctl.ts');

#!/usr/bin/env node
// The statusctl command as installed by package.json "bin": registers tsx so node can run the TypeScript, then runs it.
import { register } from 'tsx/esm/api';

register();
await import('./statusctl.ts');

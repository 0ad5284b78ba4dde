#!/usr/bin/env node
// The CLI is TypeScript: register tsx, then load it.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');

#!/usr/bin/env node
import { buildProgram } from './program.js';

/** `appliance`: the server and the operator console in one binary (see program.ts). */
await (await buildProgram(process.argv.slice(2))).parseAsync(process.argv);

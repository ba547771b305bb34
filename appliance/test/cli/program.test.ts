import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../src/config/version.js';
import { buildProgram, commandName, COMMAND_MODULES } from '../../src/cli/program.js';

// The console loads only the module of the command asked for. These tests keep the
// table of command names honest: a module registering a command the table does not
// name would be unreachable by that name.

t.test('each table entry registers exactly the top-level commands it names', async (t) => {
  for (const m of COMMAND_MODULES) {
    const program = await buildProgram([m.names[0]!]);
    t.same(program.commands.map((c) => c.name()).sort(), [...m.names].sort(), `${m.names.join(', ')}`);
  }
});

t.test('help and unknown words load every module', async (t) => {
  const all = COMMAND_MODULES.flatMap((m) => m.names).sort();
  for (const argv of [[], ['--help'], ['help', 'backup'], ['nosuchcommand']]) {
    const program = await buildProgram(argv);
    t.same(program.commands.map((c) => c.name()).sort(), all, `argv ${JSON.stringify(argv)}`);
  }
});

t.test('command name skips options and the --env-file value', async (t) => {
  t.equal(commandName(['--env-file', 'backup', 'status']), 'status');
  t.equal(commandName(['--env-file=/x', 'backup', 'run']), 'backup');
  t.equal(commandName(['-h']), undefined);
});

t.test('the binary: top-level help lists every command; a sub-command help works', async (t) => {
  const cli = join(projectRoot(), 'dist/appliance/src/cli/main.js');
  const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
  t.equal(help.status, 0);
  for (const name of COMMAND_MODULES.flatMap((m) => m.names)) t.match(help.stdout, new RegExp(`\\n\\s+${name}\\b`), `help lists ${name}`);
  const sub = spawnSync(process.execPath, [cli, 'backup', '--help'], { encoding: 'utf8' });
  t.equal(sub.status, 0);
  t.match(sub.stdout, /run.*\n[\s\S]*list/, 'backup sub-commands listed');
  const bad = spawnSync(process.execPath, [cli, 'nosuchcommand'], { encoding: 'utf8' });
  t.not(bad.status, 0, 'unknown command fails');
  t.match(bad.stderr, /unknown command/);
});

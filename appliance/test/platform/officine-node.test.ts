// provisioning/officine-node, the launcher every appliance process starts Node through:
// it runs the runtime its own release ships (runtime/bin/node), through the `current`
// link and through a symlinked launcher, and only in a release without a runtime (a
// development checkout) falls back to the host's node, refusing one older than 20.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, linkSync, mkdirSync, realpathSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../src/config/version.js';
import { tempDir } from '../helpers/app.js';

const LAUNCHER = join(projectRoot(), 'provisioning', 'officine-node');

/** Runs a program without tap's NODE_OPTIONS (it would follow into the node started). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const clean = { ...env };
  delete clean.NODE_OPTIONS;
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: clean, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** An installed release (releases/<version>/provisioning/officine-node) and `current` pointing at it. */
function installedRelease(installDir: string, version: string, withRuntime: boolean): string {
  const rel = join(installDir, 'releases', version);
  mkdirSync(join(rel, 'provisioning'), { recursive: true });
  copyFileSync(LAUNCHER, join(rel, 'provisioning/officine-node'));
  chmodSync(join(rel, 'provisioning/officine-node'), 0o755);
  if (withRuntime) {
    mkdirSync(join(rel, 'runtime/bin'), { recursive: true });
    // a real file, not a symlink (process.execPath would name the link's target): a hard
    // link where the file system allows it, else a copy
    try {
      linkSync(process.execPath, join(rel, 'runtime/bin/node'));
    } catch {
      copyFileSync(process.execPath, join(rel, 'runtime/bin/node'));
      chmodSync(join(rel, 'runtime/bin/node'), 0o755);
    }
  }
  symlinkSync(join('releases', version), join(installDir, 'current'));
  return rel;
}

/** A folder holding a fake `node` that prints `version` for any arguments and leaves a mark when run. */
function fakeNodeDir(dir: string, version: string): { bin: string; mark: string } {
  const bin = join(dir, `fake-node-${version}`);
  const mark = join(dir, `ran-${version}`);
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'node'), `#!/bin/sh\necho "$*" >> '${mark}'\necho ${version}\n`, { mode: 0o755 });
  return { bin, mark };
}

t.test('the launcher is executable, POSIX sh, and parses', async (t) => {
  t.equal(run('sh', ['-n', LAUNCHER]).code, 0, 'sh -n');
  t.match(run('head', ['-1', LAUNCHER]).stdout, /^#!\/bin\/sh$/m, 'POSIX sh shebang');
  t.equal(run('test', ['-x', LAUNCHER]).code, 0, 'executable in the checkout (shipped 0755 in the bundle)');
});

t.test('runs the runtime of its own release, through the current link and through a symlinked launcher', async (t) => {
  const dir = tempDir(t, 'officine-launcher-');
  const installDir = join(dir, 'opt');
  const rel = installedRelease(installDir, '0.2.0', true);
  const runtime = realpathSync(join(rel, 'runtime/bin/node'));
  // An old Node on PATH must not matter when the release ships its runtime.
  const old = fakeNodeDir(dir, 'v18.19.0');
  const env = { ...process.env, PATH: `${old.bin}:${process.env.PATH}` };

  const viaCurrent = run(join(installDir, 'current/provisioning/officine-node'), ['-p', 'process.execPath'], env);
  t.equal(viaCurrent.code, 0, `runs${viaCurrent.code ? `: ${viaCurrent.stderr}` : ''}`);
  t.equal(viaCurrent.stdout.trim(), runtime, 'process.execPath is the release’s runtime/bin/node');

  const linked = join(dir, 'bin', 'officine-node');
  mkdirSync(join(dir, 'bin'));
  symlinkSync(join(installDir, 'current/provisioning/officine-node'), linked);
  const viaLink = run(linked, ['-p', 'process.execPath'], env);
  t.equal(viaLink.stdout.trim(), runtime, 'also when the launcher is called through a symlink');

  const relative = run('sh', ['-c', 'cd "$1" && exec sh opt/current/provisioning/officine-node -p process.execPath', 'sh', dir], env);
  t.equal(relative.stdout.trim(), runtime, 'and by a relative path (sh opt/current/provisioning/officine-node)');

  const args = run(join(installDir, 'current/provisioning/officine-node'), ['-e', 'console.log(JSON.stringify(process.argv.slice(1))); process.exit(7)', 'a b', ''], env);
  t.equal(args.code, 7, 'the exit code passes through');
  t.same(JSON.parse(args.stdout), ['a b', ''], 'arguments pass through unchanged');
  t.notOk(existsSync(old.mark), 'the host’s node was never run');
});

t.test('a release without runtime (development checkout) uses the host’s node ≥ 20 and refuses an older one', async (t) => {
  const dir = tempDir(t, 'officine-launcher-dev-');
  const installDir = join(dir, 'opt');
  installedRelease(installDir, '0.1.0', false);
  const launcher = join(installDir, 'current/provisioning/officine-node');

  const old = fakeNodeDir(dir, 'v18.19.0');
  const refused = run(launcher, ['-e', 'console.log("ran")'], { ...process.env, PATH: `${old.bin}:${process.env.PATH}` });
  t.equal(refused.code, 1, 'exit 1 with Node 18 on PATH');
  t.match(refused.stderr, /^officine-node : Node\.js v18\.19\.0 trouvé \(.*fake-node-v18\.19\.0\/node\), 20 ou plus requis/, 'French reason naming the version found');
  t.match(refused.stderr, /installez Node\.js 20, ou installez l'appliance depuis un paquet de version/, 'and what to do');
  t.notMatch(refused.stdout, /ran/, 'the script was not run');
  t.equal(run('cat', [old.mark]).stdout.trim(), '--version', 'the old node was only asked its version');

  // the host's real Node 20, alone on PATH
  const hostBin = join(dir, 'host-bin');
  mkdirSync(hostBin);
  symlinkSync(process.execPath, join(hostBin, 'node'));
  const ok = run(launcher, ['-p', 'process.versions.node.split(".")[0] + " " + process.execPath'], { ...process.env, PATH: `${hostBin}:${process.env.PATH}` });
  t.equal(ok.code, 0, `runs with Node 20 on PATH${ok.code ? `: ${ok.stderr}` : ''}`);
  t.equal(ok.stdout.trim(), `20 ${realpathSync(process.execPath)}`, 'the host’s node runs it');

  const none = run('/bin/sh', [launcher, '-v'], { ...process.env, PATH: join(dir, 'empty') });
  t.equal(none.code, 1, 'no node at all: exit 1');
  t.match(none.stderr, /^officine-node : Node\.js introuvable\. .*runtime\/bin\/node absent/, 'French reason');
});

import { spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../src/config/version.js';
import { tempDir } from '../helpers/app.js';
import { freePort } from '../helpers/caddy.js';

// No Docker engine on these machines: the image is checked through the script path it
// runs (install.sh --docker-build, then the entrypoint's install.sh arguments) and by
// reading the Dockerfile for what the product card requires.
const ROOT = projectRoot();
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const sh = (args: string[]) => spawnSync('env', ['-u', 'NODE_OPTIONS', 'bash', ...args], { encoding: 'utf8', timeout: 120_000 });

t.test('Dockerfile: multi-stage, built by install.sh, volumes, healthcheck on /readyz, supervisor', async (t) => {
  t.equal(dockerfile.match(/^FROM /gm)?.length, 2, 'two stages');
  t.match(dockerfile, /^RUN \/src\/provisioning\/install\.sh --docker-build/m, 'runtime stage built by install.sh');
  t.match(dockerfile, /^VOLUME \[.*"\/etc\/officine".*"\/var\/lib\/officine".*\]/m, 'config and data volumes');
  t.match(dockerfile, /^VOLUME \[.*"\/var\/lib\/officine-wal-spool".*\]/m, 'the WAL spool survives the container (spooled = archived for PostgreSQL)');
  t.match(dockerfile, /^HEALTHCHECK [\s\S]*\/readyz/m, 'healthcheck on /readyz');
  t.match(dockerfile, /^HEALTHCHECK [^\n]*\\\n\s+CMD \/opt\/officine\/current\/provisioning\/officine-node -e /m, 'healthcheck runs Node through the release launcher');
  t.match(dockerfile, /^ENTRYPOINT \["\/opt\/officine\/current\/provisioning\/docker-entrypoint\.sh"\]/m);
  for (const f of ['install.sh', 'docker-entrypoint.sh', 'officine-services.sh', 'officine-node']) {
    const p = join(ROOT, 'provisioning', f);
    t.doesNotThrow(() => accessSync(p, constants.X_OK), `${f} executable`);
  }
  const entry = readFileSync(join(ROOT, 'provisioning/docker-entrypoint.sh'), 'utf8');
  t.match(entry, /exec \/opt\/officine\/current\/provisioning\/officine-services\.sh run/, 'entrypoint hands over to the supervisor');
});

t.test('every provisioning script parses', async (t) => {
  for (const f of readdirSync(join(ROOT, 'provisioning')).filter((f) => f.endsWith('.sh'))) {
    const r = sh(['-n', join(ROOT, 'provisioning', f)]);
    t.equal(r.status, 0, `${f}: ${r.stderr.trim() || 'ok'}`);
  }
});

t.test('the image build step and the first-start step run as install.sh dry runs', async (t) => {
  const build = tempDir(t, 'officine-docker-build-');
  const b = sh([join(ROOT, 'provisioning/install.sh'), '--root', build, '--docker-build', '--dry-run', '--min-ram-mb', '0', '--min-disk-mb', '0']);
  t.equal(b.status, 0, `--docker-build dry run${b.status ? `: ${b.stderr}` : ''}`);
  t.match(b.stdout, /Image : paquets, utilisateurs et version en place/);
  t.notMatch(b.stdout, /Secrets|PostgreSQL \(grappe/, 'no secret nor database at image build: they are per container');
  t.same(readdirSync(build), [], 'dry run writes nothing');
  const start = tempDir(t, 'officine-docker-start-');
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()].map(String);
  const s = sh([
    join(ROOT, 'provisioning/install.sh'), '--root', start, '--dry-run', '--site', 'officine.groupement.test', '--tls', 'acme:dsi@groupement.test',
    '--no-start', '--min-ram-mb', '0', '--min-disk-mb', '0', '--http-port', ports[0]!, '--https-port', ports[1]!, '--app-port', ports[2]!, '--pg-port', ports[3]!,
  ]);
  t.equal(s.status, 0, `first-start dry run${s.status ? `: ${s.stderr}` : ''}`);
  t.match(s.stdout, /Adresse : https:\/\/officine\.groupement\.test:\d+\//);
  t.match(s.stdout, /--no-start : services non démarrés/);
});

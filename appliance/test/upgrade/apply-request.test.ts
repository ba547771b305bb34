import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { applyRequestFile, incomingDir, takeApplyRequest, writeApplyRequest } from '../../src/upgrade/apply-request.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/app.js';

// The hand-over from the web process to the root unit: only a staged bundle in the
// incoming folder is taken, the request is consumed once, anything else is refused.
t.test('apply request: taken once, only for a staged bundle', async (t) => {
  const data = tempDir(t, 'officine-upg-');
  mkdirSync(incomingDir(data), { recursive: true });
  t.equal(takeApplyRequest(data), null, 'nothing pending');

  const staged = join(incomingDir(data), `${'a'.repeat(24)}.bundle`);
  writeFileSync(staged, 'bundle bytes');
  writeApplyRequest(data, { bundle: staged, requestedBy: 'u1', requestedAt: '2026-11-21T10:00:00.000Z' });
  t.same(takeApplyRequest(data), { bundle: staged, requestedBy: 'u1', requestedAt: '2026-11-21T10:00:00.000Z' }, 'the staged bundle is taken');
  t.notOk(existsSync(applyRequestFile(data)), 'the request is consumed: the path unit will not fire again');
  t.equal(takeApplyRequest(data), null, 'taken once');

  const outside = join(data, `${'b'.repeat(24)}.bundle`);
  writeFileSync(outside, 'elsewhere');
  const link = join(incomingDir(data), `${'c'.repeat(24)}.bundle`);
  symlinkSync(outside, link);
  const cases: [string, string][] = [
    [outside, 'a bundle outside the incoming folder'],
    [link, 'a symlink in the incoming folder'],
    [join(incomingDir(data), '..', 'incoming', '..', `${'b'.repeat(24)}.bundle`), 'a path climbing out of it'],
    ['/etc/passwd', 'any other file'],
    [join(incomingDir(data), `${'d'.repeat(24)}.bundle`), 'a bundle that is gone'],
  ];
  for (const [bundle, what] of cases) {
    writeApplyRequest(data, { bundle, requestedBy: null, requestedAt: '' });
    t.throws(() => takeApplyRequest(data), /refusée/, `refused: ${what}`);
    t.notOk(existsSync(applyRequestFile(data)), `and consumed: ${what}`);
  }
  writeFileSync(applyRequestFile(data), '{ not json');
  t.throws(() => takeApplyRequest(data), /illisible/, 'an unreadable request is refused');
});

t.test('`appliance upgrade apply-requested`: nothing to do, or a clear refusal', async (t) => {
  const data = tempDir(t, 'officine-upg-');
  const env = { DATA_DIR: data, OFFICINE_ENV_FILE: '/dev/null' };
  const idle = await runCli(['upgrade', 'apply-requested'], env);
  t.equal(idle.code, 0, 'no request: exit 0');
  t.match(idle.stdout, /Aucune mise à jour demandée/);
  mkdirSync(incomingDir(data), { recursive: true });
  writeApplyRequest(data, { bundle: '/etc/passwd', requestedBy: null, requestedAt: '' });
  const refused = await runCli(['upgrade', 'apply-requested'], env);
  t.equal(refused.code, 1, 'a request for a file that is not a staged bundle fails');
  t.match(refused.stderr, /refusée : elle ne désigne pas une archive téléversée/);
  t.notOk(existsSync(applyRequestFile(data)), 'and is consumed');
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../appliance/src/config/version.js';
import { collectLogLines } from '../../appliance/test/helpers/log-scan.js';
import { writeReferenceSqlite } from '../src/reference/reference-lgo.js';

const AGENT = join(projectRoot(), 'dist/agent/src/cli/main.js');

t.test('officine-agent configure, preview and status from the command line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'officine-agent-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [AGENT, '--dir', join(dir, 'agent'), ...args], { encoding: 'utf8' });
    collectLogLines(`${r.stdout}\n${r.stderr}`); // the agent's log lines join the minimisation scan
    return r;
  };
  const help = cli('--help');
  t.equal(help.status, 0);
  for (const c of ['configure', 'preview', 'enroll', 'run', 'status']) t.match(help.stdout, c, `--help lists ${c}`);

  await writeReferenceSqlite(join(dir, 'lgo', 'lgo.db'), { saleLines: 300 });
  const evil = join(dir, 'evil.json');
  writeFileSync(evil, JSON.stringify({ profile: 'evil', entities: { sale_line: { table: 'ventes_lignes', key: 'id', watermark: 'maj', fields: { source_id: 'id', ticket_id: 'patient_id', sold_at: 'date_vente', product_code: 'cip13', quantity: 'quantite', unit_price_ttc_cents: 'prix_unitaire_ttc' } } } }));
  const refused = cli('configure', '--profile', evil, '--sqlite', join(dir, 'lgo', 'lgo.db'));
  t.equal(refused.status, 2, 'a profile mapping a patient column is refused');
  t.match(refused.stderr, /patient_id.*refusé/);

  t.equal(cli('configure', '--profile', 'reference', '--sqlite', join(dir, 'lgo', 'lgo.db')).status, 0);
  t.equal(statSync(join(dir, 'agent', 'agent.json')).mode & 0o777, 0o600, 'agent.json 0600');
  const out = join(dir, 'preview.jsonl');
  const p = cli('preview', '--out', out);
  t.equal(p.status, 0, p.stderr);
  t.match(p.stdout, /rien n’a été envoyé/);
  t.match(p.stdout, /sale_line[\s\S]*lignes lues : 300\s+envoyées : 300\s+retenues : 0/);
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { entity: string; record: Record<string, unknown> });
  t.equal(lines.filter((l) => l.entity === 'sale_line').length, 300, 'every sale line previewed');
  t.same(Object.keys(lines.find((l) => l.entity === 'sale_line')!.record).sort(), ['discount_cents', 'dispensing_fee_cents', 'is_credit_note', 'product_code', 'quantity', 'sale_type', 'sold_at', 'source_id', 'ticket_id', 'unit_cost_ht_cents', 'unit_price_ttc_cents', 'vat_rate']);
  const summary = JSON.parse(readFileSync(`${out}.summary.json`, 'utf8')) as { tables: { entity: string; sent: number }[] };
  t.equal(summary.tables.find((x) => x.entity === 'sale_line')?.sent, 300, 'summary file written');

  const s = cli('status');
  t.equal(s.status, 0);
  t.match(s.stdout, /non enrôlé/);
  t.match(s.stdout, /File d’attente :\s+0 lot/);
  const run = cli('run', '--once');
  t.equal(run.status, 2, 'run refuses before enrolment');
  t.match(run.stderr, /non enrôlé/);
  const bad = cli('enroll', '--server', 'http://appliance.example.org', '--code', 'AAAAA-BBBBB');
  t.equal(bad.status, 2, 'plain HTTP to a remote host refused');
  t.match(bad.stderr, /HTTPS obligatoire/);
  const down = cli('enroll', '--server', 'http://127.0.0.1:9', '--code', 'AAAAA-BBBBB');
  t.equal(down.status, 2, 'unreachable server');
  t.match(down.stderr, /injoignable/);
  t.notOk(existsSync(join(dir, 'agent', 'agent-key.pem')), 'no key left behind by a failed enrolment: retrying works');
});

import t from 'tap';
import { runCli } from '../helpers/cli.js';

/**
 * Operator commands keep stdout for their answer (`--json` must stay parseable by a
 * script) and send their log lines to stderr. Driven through a failure, the one path
 * every command logs on: the database is unreachable (or the input file is missing).
 */
const COMMANDS = [
  ['migrate'],
  ['migrate', '--status'],
  ['users', 'list', '--json'],
  ['agents', 'list', '--json'],
  ['audit', 'verify', '--json'],
  ['ingest', '/nonexistent/batch.json', '--pharmacy', '3f1c2a9e-8d7b-4c55-9a61-0c9e5f7d1b2a'],
  ['catalogue', 'import', '/nonexistent/bdpm'],
  ['upgrade', 'verify', '/nonexistent/bundle.tar.gz'],
];

for (const args of COMMANDS) {
  t.test(`appliance ${args.join(' ')}: logs on stderr, nothing on stdout when it fails`, async (t) => {
    const r = await runCli(args, { DATABASE_URL: 'postgres://officine@127.0.0.1:1/none', LOG_LEVEL: 'info' });
    t.not(r.code, 0, 'fails: the database is unreachable');
    t.equal(r.stdout, '', 'stdout carries no log line');
    t.match(r.stderr, /Erreur : /, 'the French error is on stderr');
    const logs = r.stderr.split('\n').filter((l) => l.startsWith('{'));
    t.ok(logs.some((l) => (JSON.parse(l) as { level?: string }).level === 'error'), 'the JSON error log line is on stderr');
    const forPeople = r.stderr.split('\n').filter((l) => !l.startsWith('{')).join('\n');
    t.notMatch(forPeople, /at .*\.js:\d+/, 'no stack trace in what is printed for people');
  });
}

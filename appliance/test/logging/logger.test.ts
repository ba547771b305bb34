import { Writable } from 'node:stream';
import t from 'tap';
import { createLogger, hashEmail } from '../../src/logging/logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, logger: createLogger('debug', stream) };
}

t.test('secrets are redacted and emails hashed', async (t) => {
  const { lines, logger } = capture();
  logger.info(
    {
      password: 'hunter2-hunter2',
      user: { email: 'Marie.Curie@pharmacie.fr', token: 'tok-123' },
      req: { headers: { cookie: '__Host-session=abc', authorization: 'Bearer xyz' } },
    },
    'login by marie.curie@pharmacie.fr',
  );
  t.equal(lines.length, 1);
  const line = lines[0]!;
  for (const secret of ['hunter2', 'tok-123', '__Host-session=abc', 'Bearer xyz', 'Marie.Curie@', 'marie.curie@']) {
    t.notMatch(line, secret, `${secret} not in the log`);
  }
  const rec = JSON.parse(line);
  t.equal(rec.password, '[redacted]');
  t.equal(rec.user.email, hashEmail('marie.curie@pharmacie.fr'), 'email replaced by a stable hash (case-insensitive)');
  t.match(rec.msg, hashEmail('marie.curie@pharmacie.fr'));
  t.match(rec.time, /Z$/, 'UTC timestamps');
});

import t from 'tap';
import { normaliseIp, resolveClientIp } from '../../src/http/request-context.middleware.js';

const trusted = ['127.0.0.1', '::1'];

t.test('forwarding header honoured only from the trusted proxy', async (t) => {
  t.equal(resolveClientIp('127.0.0.1', '192.0.2.7', trusted), '192.0.2.7', 'from Caddy on loopback');
  t.equal(resolveClientIp('::ffff:127.0.0.1', '192.0.2.7', trusted), '192.0.2.7', 'IPv4-mapped peer');
  t.equal(resolveClientIp('198.51.100.9', '192.0.2.7', trusted), '198.51.100.9', 'forged header from elsewhere ignored');
  t.equal(resolveClientIp('127.0.0.1', '6.6.6.6, 192.0.2.7', trusted), '192.0.2.7', 'last hop (the one Caddy appended)');
  t.equal(resolveClientIp('127.0.0.1', 'garbage', trusted), '127.0.0.1', 'unparsable header ignored');
  t.equal(resolveClientIp('127.0.0.1', undefined, trusted), '127.0.0.1');
  t.equal(normaliseIp('::ffff:10.1.2.3'), '10.1.2.3');
});

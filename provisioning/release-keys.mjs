#!/usr/bin/env node
// Vendor-side tools for release signing keys (run on the offline signing machine):
//   node provisioning/release-keys.mjs keygen --out DIR
//       → DIR/release-signing.key (private, 0600: keep offline) and DIR/release-keys.json
//         (serial 1, the key list to pin on appliances: install.sh --release-keys FILE)
//   node provisioning/release-keys.mjs rotate --key CURRENT.key --serial N --out NEW.json PUB.json...
//       → NEW.json (key list of the given public keys) and NEW.json.sig, signed by a
//         currently pinned key; appliances accept it with `appliance upgrade trust-keys`.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const signing = await import(join(root, 'dist/appliance/src/upgrade/release-signing.js'));
const [cmd, ...rest] = process.argv.slice(2);
const { values, positionals } = parseArgs({
  args: rest,
  allowPositionals: true,
  options: { out: { type: 'string' }, key: { type: 'string' }, serial: { type: 'string' } },
});

if (cmd === 'keygen' && values.out) {
  mkdirSync(values.out, { recursive: true, mode: 0o700 });
  const k = signing.generateReleaseKey();
  writeFileSync(join(values.out, 'release-signing.key'), k.privatePem, { mode: 0o600, flag: 'wx' });
  const list = signing.buildKeyList([k.publicKey], 1);
  writeFileSync(join(values.out, 'release-keys.json'), JSON.stringify(list, null, 1) + '\n', { mode: 0o644 });
  process.stdout.write(`key ${k.id}: ${join(values.out, 'release-signing.key')} (keep offline), ${join(values.out, 'release-keys.json')}\n`);
} else if (cmd === 'rotate' && values.key && values.out && values.serial && positionals.length) {
  // each positional: a key list file (e.g. another keygen's release-keys.json) whose keys to include
  const keys = positionals.flatMap((f) => signing.parseKeyList(readFileSync(f)).keys.map((k) => signing.publicKeyFromRaw(k.public_key)));
  const text = Buffer.from(JSON.stringify(signing.buildKeyList(keys, Number(values.serial)), null, 1) + '\n');
  writeFileSync(values.out, text, { mode: 0o644 });
  writeFileSync(`${values.out}.sig`, JSON.stringify(signing.signDetached(text, readFileSync(values.key, 'utf8'))) + '\n', { mode: 0o644 });
  const signer = signing.keyId(createPublicKey(createPrivateKey(readFileSync(values.key, 'utf8'))));
  process.stdout.write(`${values.out} (+ .sig by ${signer}): ${keys.length} key(s), serial ${values.serial}\n`);
} else {
  process.stderr.write('usage: release-keys.mjs keygen --out DIR | rotate --key CURRENT.key --serial N --out NEW.json KEYLIST.json...\n');
  process.exit(2);
}

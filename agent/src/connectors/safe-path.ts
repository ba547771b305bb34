import { constants, lstatSync, realpathSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * The agent reads files only under the LGO folders its configuration names. A path
 * is refused when it leaves them (`..`, absolute elsewhere) or when any component
 * below the root is a symbolic link — whatever the link points to.
 */
export class PathRefusedError extends Error {
  constructor(
    readonly reason: 'outside_roots' | 'symlink' | 'not_a_file',
    readonly path: string,
  ) {
    super(`${reason}: ${path}`);
    this.name = 'PathRefusedError';
  }
}

function within(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('..'));
}

/** Resolves `path` under one of `roots`, refusing escapes and symlinks; returns the real path. */
export function resolveUnderRoots(path: string, roots: readonly string[]): string {
  const abs = resolve(path);
  for (const r of roots) {
    let root: string;
    try {
      root = realpathSync(resolve(r));
    } catch {
      continue; // a configured folder that does not exist grants nothing
    }
    const lexical = resolve(r);
    const base = within(lexical, abs) ? lexical : within(root, abs) ? root : undefined;
    if (!base) continue;
    let cur = base;
    for (const part of relative(base, abs).split(sep).filter(Boolean)) {
      cur = resolve(cur, part);
      let st;
      try {
        st = lstatSync(cur);
      } catch {
        return cur; // does not exist (yet): the open will fail cleanly
      }
      if (st.isSymbolicLink()) throw new PathRefusedError('symlink', abs);
    }
    const real = realpathSync(abs);
    if (!within(root, real)) throw new PathRefusedError('outside_roots', abs);
    return real;
  }
  throw new PathRefusedError('outside_roots', abs);
}

/** Opens a regular file read-only under the roots, never following a final symlink (O_NOFOLLOW). */
export async function openUnderRoots(path: string, roots: readonly string[]): Promise<FileHandle> {
  const real = resolveUnderRoots(path, roots);
  const fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new PathRefusedError('not_a_file', path);
  }
  return fh;
}

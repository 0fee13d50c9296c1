import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

/**
 * Staged publish: a write goes to a hidden sibling of its target (same folder, so the same
 * filesystem) and appears by rename, so a reader sees the old data or the new, never a part.
 * Readers skip hidden entries (src/lake/zones.ts), so a crash leaves only ignorable leftovers.
 */

/** `{dir}/.{name}.__{tag}-{uuid}`: a fresh hidden sibling of `target`. */
export function hiddenSibling(target: string, tag = 'staging'): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.__${tag}-${randomUUID()}`);
}

/** Replaces `target` (a file or a folder) by `staged` with renames; the old copy is removed after. */
export function swapIn(staged: string, target: string): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (fs.existsSync(target)) {
    const old = hiddenSibling(target, 'old');
    fs.renameSync(target, old);
    fs.renameSync(staged, target);
    fs.rmSync(old, { recursive: true, force: true });
  } else {
    fs.renameSync(staged, target);
  }
}

/** Flushes a file or a folder (its entries) to disk. */
export function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export interface MoveOptions {
  /** Which files to move, by name (default: all). */
  keep?: (name: string) => boolean;
  /** fsync each file before its rename, and the folders after, so the move survives a crash. */
  durable?: boolean;
}

/**
 * Moves every file below `staged` (that `keep` accepts) to the same relative place under
 * `target`, next to what is there. Returns the moved files, relative, sorted.
 */
export function moveFilesInto(staged: string, target: string, options: MoveOptions = {}): string[] {
  if (!fs.existsSync(staged)) return [];
  const keep = options.keep ?? (() => true);
  const files = fs
    .readdirSync(staged, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && keep(e.name))
    .map((e) => path.relative(staged, path.join(e.parentPath, e.name)))
    .sort();
  const dirs = new Set<string>();
  for (const rel of files) {
    const dest = path.join(target, rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (options.durable) fsyncPath(path.join(staged, rel));
    fs.renameSync(path.join(staged, rel), dest);
    dirs.add(path.dirname(dest));
  }
  if (options.durable) {
    for (const dir of dirs) fsyncPath(dir);
    if (dirs.size) fsyncPath(target);
  }
  return files;
}

/** Renames one staged file to `target` (creating its folder); `durable` fsyncs file and folder. */
export function renameInto(staged: string, target: string, options: { durable?: boolean } = {}): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (options.durable) fsyncPath(staged);
  fs.renameSync(staged, target);
  if (options.durable) fsyncPath(path.dirname(target));
}

/**
 * Stages a write beside `target` and publishes it: `write` fills the hidden sibling `staged`
 * (a file or a folder), then `publish` (default: swap the whole target) moves it into place.
 * The staging copy is removed whatever happens.
 */
export async function stagedPublish<T>(
  target: string,
  write: (staged: string) => Promise<T> | T,
  publish: (staged: string, target: string, written: T) => void = (staged) => swapIn(staged, target),
): Promise<T> {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const staged = hiddenSibling(target);
  try {
    const written = await write(staged);
    publish(staged, target, written);
    return written;
  } finally {
    fs.rmSync(staged, { recursive: true, force: true });
  }
}

/** Writes a whole file at `target` by staged publish (synchronous, for small files); `durable` fsyncs it. */
export function writeFileStaged(target: string, data: string | Uint8Array, options: { durable?: boolean } = {}): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const staged = hiddenSibling(target);
  try {
    const fd = fs.openSync(staged, 'w');
    try {
      fs.writeFileSync(fd, data);
      if (options.durable) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    renameInto(staged, target, options);
  } finally {
    fs.rmSync(staged, { force: true });
  }
}

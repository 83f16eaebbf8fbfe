// Paths, users and executables looked up inside a container's rootfs from the host side, with
// symlinks resolved against the rootfs (an absolute link in the image must not escape to the host).
import { lstatSync, readlinkSync, readFileSync, statSync } from 'node:fs';

/** Host path of `path` inside `root`, following symlinks within root (the last one too if followLast). */
export function resolveInRoot(root: string, path: string, followLast = true): string {
  const todo = path.split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = `${root}/${[...done, part].join('/')}`;
    let link: string | undefined;
    try {
      if ((todo.length > 0 || followLast) && lstatSync(host).isSymbolicLink()) link = readlinkSync(host);
    } catch {
      link = undefined;
    }
    if (link === undefined) {
      done.push(part);
      continue;
    }
    if (++hops > 255) throw new Error(`too many levels of symbolic links in ${path}`);
    if (link.startsWith('/')) done.length = 0;
    todo.unshift(...link.split('/').filter(Boolean));
  }
  return done.length ? `${root}/${done.join('/')}` : root;
}

export class ExecutableNotFoundError extends Error {
  readonly code = 'ExecutableNotFound';
}

/** runc's wording: exec: "x": executable file not found in $PATH. */
export function lookPath(root: string, file: string, env: string[]): string {
  if (file.includes('/')) {
    try {
      statSync(resolveInRoot(root, file));
    } catch {
      throw new ExecutableNotFoundError(`exec: "${file}": stat ${file}: no such file or directory`);
    }
    return file;
  }
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  for (const dir of pathVar.split(':')) {
    const candidate = `${dir || '.'}/${file}`;
    try {
      const st = statSync(resolveInRoot(root, candidate));
      if (st.isFile() && (st.mode & 0o111) !== 0) return candidate.startsWith('/') ? candidate : `/${candidate}`;
    } catch {
      // not in this directory
    }
  }
  throw new ExecutableNotFoundError(`exec: "${file}": executable file not found in $PATH`);
}

export class UserNotFoundError extends Error {
  readonly code = 'UserNotFound';
}

function readDb(root: string, file: string): string[][] {
  try {
    return readFileSync(resolveInRoot(root, file), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

/** "uid", "uid:gid", "name", "name:group" (and mixes), as runc resolves them with the image's files. */
export function resolveUser(root: string, user: string): ResolvedUser {
  const [u = '0', g] = (user || '0').split(':');
  const passwd = readDb(root, '/etc/passwd');
  const groups = readDb(root, '/etc/group');
  let uid: number;
  let gid = 0;
  let home = '/';
  let name: string | undefined;
  const entry = /^\d+$/.test(u) ? passwd.find((p) => p[2] === u) : passwd.find((p) => p[0] === u);
  if (/^\d+$/.test(u)) uid = Number(u);
  else if (!entry) throw new UserNotFoundError(`unable to find user ${u}: no matching entries in passwd file`);
  else uid = Number(entry[2]);
  if (entry) {
    gid = Number(entry[3]);
    home = entry[5] || '/';
    name = entry[0];
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const ge = groups.find((x) => x[0] === g);
      if (!ge) throw new UserNotFoundError(`unable to find group ${g}: no matching entries in group file`);
      gid = Number(ge[2]);
    }
  }
  const additionalGids = name ? groups.filter((x) => (x[3] ?? '').split(',').includes(name!)).map((x) => Number(x[2])) : [];
  return { uid, gid, additionalGids: [...new Set(additionalGids)].filter((x) => x !== gid), home };
}

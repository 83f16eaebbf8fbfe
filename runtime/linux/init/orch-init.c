/*
 * orch-init: the tiny static program that becomes a container's first process (and every exec'd
 * process) between the shim's spawn() and the workload's execve().
 *
 * Why it exists: Node cannot run code between fork and exec, a PID namespace's procfs can only be
 * mounted by a process inside that namespace, and setns() into a mount namespace fails in a
 * multithreaded process. This single-threaded program does exactly those steps and then execs the
 * workload, so the workload keeps the PID (PID 1 of the container) and the shim stays its parent.
 *
 * Built freestanding (no libc) for x86_64 by build-init.sh; the bytes are embedded in
 * ../init-binary.ts. Protocol with the shim over fd 3 (a socketpair), all integers little endian:
 *
 *   shim -> init   config:  struct config header, then `strbytes` bytes of NUL-terminated strings:
 *                           rootfs, cwd, nmasked masked paths, nreadonly read-only paths, then the
 *                           mnt, net, ipc and uts namespace files to join, a tty to take as stdio (each
 *                           may be ""), the program, argc args and envc env entries (argc = 0: the
 *                           program and args are argv[2], argv[3..] and the env is envp)
 *   init -> shim   ready:   struct report { kind = 1, err = 0 }   (mounts done, waiting for start)
 *   shim -> init   start:   one byte (any value); EOF instead means "abort"
 *   init -> shim   failure: struct report { kind = 2 (execve) | 3 (setup), err = step << 16 | errno }
 *   success is EOF on fd 3 (it is close-on-exec) once execve has replaced this program.
 *
 * A warm shim spawns "init" before it knows its container (config says what to run), so that
 * fork and exec are off the container's critical path.
 * Modes (argv[1]): "init"  = container PID 1: join namespaces, new mount namespace, mount /proc, pivot_root into
 *                            rootfs, mask paths, make paths read-only;
 *                  "exec"  = a process in a running container: setns(fd 4, CLONE_NEWNS), no mounts;
 *                  "pause" = hold a shared PID namespace: reap children forever.
 * argv[2] = absolute path of the program (inside the container), argv[3..] = its argv.
 */
typedef unsigned long u64;
typedef unsigned int u32;
typedef long i64;

#define SYS_read 0
#define SYS_open 2
#define SYS_dup2 33
#define SYS_write 1
#define SYS_close 3
#define SYS_ioctl 16
#define SYS_nanosleep 35
#define SYS_execve 59
#define SYS_exit 60
#define SYS_wait4 61
#define SYS_fcntl 72
#define SYS_chdir 80
#define SYS_setuid 105
#define SYS_setgid 106
#define SYS_setgroups 116
#define SYS_prctl 157
#define SYS_pivot_root 155
#define SYS_mount 165
#define SYS_umount2 166
#define SYS_unshare 272
#define SYS_setns 308

#define CLONE_NEWNS 0x00020000
#define MS_RDONLY 1
#define MS_NOSUID 2
#define MS_NODEV 4
#define MS_NOEXEC 8
#define MS_REMOUNT 32
#define MS_BIND 4096
#define MS_REC 16384
#define MS_PRIVATE (1 << 18)
#define MNT_DETACH 2
#define PR_CAPBSET_DROP 24
#define PR_SET_NO_NEW_PRIVS 38
#define TIOCSCTTY 0x540E
#define F_SETFD 2
#define FD_CLOEXEC 1
#define ENOENT 2
#define EINTR 4
#define ENOTDIR 20
#define EINVAL 22

#define FLAG_NO_NEW_PRIVS 1
#define FLAG_SETCTTY 2
#define FLAG_READONLY_ROOT 4
#define MAGIC 0x74696e6fu /* "onit" */

struct __attribute__((packed)) config {
  u32 magic, flags, uid, gid, ngroups;
  u32 groups[32];
  u64 capmask;
  u32 nmasked, nreadonly, strbytes, argc, envc;
};

static i64 sc6(i64 n, i64 a, i64 b, i64 c, i64 d, i64 e) {
  i64 ret;
  register i64 r10 __asm__("r10") = d;
  register i64 r8 __asm__("r8") = e;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
  return ret;
}
#define sc(n, a, b, c) sc6(n, (i64)(a), (i64)(b), (i64)(c), 0, 0)

static void report(u32 kind, u32 err) {
  u32 msg[2] = {kind, err};
  sc(SYS_write, 3, msg, 8);
}

static __attribute__((noreturn)) void die(u32 kind, u32 step, i64 ret) {
  report(kind, (step << 16) | (u32)(-ret));
  for (;;) sc(SYS_exit, kind == 2 ? 127 : 126, 0, 0);
}

static void check(u32 step, i64 ret) {
  if (ret < 0) die(3, step, ret);
}

static int read_full(char *buf, u64 len) {
  u64 got = 0;
  while (got < len) {
    i64 r = sc(SYS_read, 3, buf + got, len - got);
    if (r == -EINTR) continue;
    if (r <= 0) return -1;
    got += (u64)r;
  }
  return 0;
}

static const char *next_str(const char *s) {
  while (*s) s++;
  return s + 1;
}

static char strings[65536];
static char *args[1024];
static char *envs[1024];

static void pause_forever(void) {
  struct { i64 sec, nsec; } ts = {3600, 0};
  for (;;) {
    if (sc6(SYS_wait4, -1, 0, 0, 0, 0) < 0) sc(SYS_nanosleep, &ts, 0, 0);
  }
}

static int streq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

int orch_main(int argc, char **argv, char **envp) {
  struct config cfg;
  if (argc >= 2 && streq(argv[1], "pause")) pause_forever();
  if (argc < 2) die(3, 1, -EINVAL);
  int init = streq(argv[1], "init");
  if (read_full((char *)&cfg, sizeof cfg) < 0 || cfg.magic != MAGIC || cfg.strbytes > sizeof strings)
    die(3, 2, -EINVAL);
  if (read_full(strings, cfg.strbytes) < 0) die(3, 3, -EINVAL);
  const char *rootfs = strings;
  const char *cwd = next_str(rootfs);
  const char *p = next_str(cwd);
  const char *q = p;
  for (u32 i = 0; i < cfg.nmasked + cfg.nreadonly; i++) q = next_str(q);
  const char *nsfiles[4];
  for (int i = 0; i < 4; i++, q = next_str(q)) nsfiles[i] = q;
  const char *ttypath = q;
  q = next_str(q);
  const char *exe = q;
  q = next_str(q);
  if (cfg.argc > 1023 || cfg.envc > 1023) die(3, 4, -EINVAL);
  for (u32 i = 0; i < cfg.argc; i++, q = next_str(q)) args[i] = (char *)q;
  for (u32 i = 0; i < cfg.envc; i++, q = next_str(q)) envs[i] = (char *)q;
  if (cfg.argc == 0) {
    if (argc < 4) die(3, 1, -EINVAL);
    exe = argv[2];
  }

  for (int i = 0; i < 4; i++) {
    if (!*nsfiles[i]) continue;
    i64 fd = sc(SYS_open, nsfiles[i], 0x80000 /* O_RDONLY|O_CLOEXEC */, 0);
    check(5, fd);
    check(6, sc(SYS_setns, fd, 0, 0));
    sc(SYS_close, fd, 0, 0);
  }
  if (*ttypath) {
    i64 fd = sc(SYS_open, ttypath, 2 /* O_RDWR */, 0);
    check(7, fd);
    for (int i = 0; i < 3; i++) check(8, sc(SYS_dup2, fd, i, 0));
    sc(SYS_close, fd, 0, 0);
  }

  if (init) {
    check(10, sc(SYS_unshare, CLONE_NEWNS, 0, 0));
    check(11, sc6(SYS_mount, 0, (i64)"/", 0, MS_REC | MS_PRIVATE, 0));
    check(12, sc(SYS_chdir, rootfs, 0, 0));
    check(13, sc6(SYS_mount, (i64)"proc", (i64)"proc", (i64)"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, 0));
    check(14, sc(SYS_pivot_root, ".", ".", 0));
    check(15, sc(SYS_umount2, ".", MNT_DETACH, 0));
    check(16, sc(SYS_chdir, "/", 0, 0));
    for (u32 i = 0; i < cfg.nmasked; i++, p = next_str(p)) {
      i64 r = sc6(SYS_mount, (i64)"/dev/null", (i64)p, 0, MS_BIND, 0);
      if (r == -ENOTDIR || r == -EINVAL)
        r = sc6(SYS_mount, (i64)"tmpfs", (i64)p, (i64)"tmpfs", MS_RDONLY, 0);
      if (r < 0 && r != -ENOENT) die(3, 17, r);
    }
    for (u32 i = 0; i < cfg.nreadonly; i++, p = next_str(p)) {
      i64 r = sc6(SYS_mount, (i64)p, (i64)p, 0, MS_BIND | MS_REC, 0);
      if (r == -ENOENT) continue;
      check(18, r);
      check(19, sc6(SYS_mount, (i64)p, (i64)p, 0, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0));
    }
    if (cfg.flags & FLAG_READONLY_ROOT)
      check(20, sc6(SYS_mount, (i64)"/", (i64)"/", 0, MS_BIND | MS_REMOUNT | MS_RDONLY, 0));
  } else {
    check(30, sc(SYS_setns, 4, CLONE_NEWNS, 0));
    sc(SYS_close, 4, 0, 0);
  }

  report(1, 0);
  char go;
  if (read_full(&go, 1) < 0) for (;;) sc(SYS_exit, 125, 0, 0);

  check(40, sc(SYS_chdir, cwd, 0, 0));
  if (cfg.flags & FLAG_SETCTTY) check(41, sc(SYS_ioctl, 0, TIOCSCTTY, 0));
  for (u32 cap = 0; cap < 64; cap++) {
    if (cfg.capmask & (1ul << cap)) continue;
    i64 r = sc(SYS_prctl, PR_CAPBSET_DROP, cap, 0);
    if (r < 0 && r != -EINVAL) die(3, 42, r);
  }
  check(43, sc(SYS_setgroups, cfg.ngroups > 32 ? 32 : cfg.ngroups, cfg.groups, 0));
  check(44, sc(SYS_setgid, cfg.gid, 0, 0));
  check(45, sc(SYS_setuid, cfg.uid, 0, 0));
  if (cfg.flags & FLAG_NO_NEW_PRIVS) check(46, sc6(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
  check(47, sc(SYS_fcntl, 3, F_SETFD, FD_CLOEXEC));
  i64 r = cfg.argc ? sc(SYS_execve, exe, args, envs) : sc(SYS_execve, exe, argv + 3, envp);
  die(2, 0, r);
}

/* Entry point: the kernel leaves argc, argv and envp on the stack. */
__asm__(
  ".globl _start\n"
  "_start:\n"
  "  xor %rbp, %rbp\n"
  "  mov (%rsp), %rdi\n"
  "  lea 8(%rsp), %rsi\n"
  "  lea 16(%rsp,%rdi,8), %rdx\n"
  "  and $-16, %rsp\n"
  "  call orch_main\n"
  "  mov $60, %eax\n"
  "  xor %edi, %edi\n"
  "  syscall\n");

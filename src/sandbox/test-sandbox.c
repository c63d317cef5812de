/* test-sandbox.c: the kernel must refuse, not our code.
 *
 * Each case forks a child that applies a policy, then tries things and
 * records each call's outcome (0 or errno) in a report it writes back
 * through a pipe; the parent checks the report and how the child ended.
 * Children leave with _exit(): LeakSanitizer's exit-time check needs
 * ptrace, which the filter refuses, and a confined child has nothing to
 * flush anyway. Core dumps are switched off in children because the
 * execve cases end in SIGSYS on purpose. */
#include "sandbox/sandbox.h"
#include "lib/test.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_RESULTS 40

struct report {
	int applied;            /* sandbox_apply() returned 0 */
	char error[128];        /* its error_r otherwise */
	int n;
	int v[MAX_RESULTS];     /* per call: 0 = succeeded, else errno */
	long aux[8];            /* case-specific values */
};

struct fixture {
	char root[64];          /* temp dir: stores/alice, stores/bob, file.txt */
};

typedef void child_fn(const struct fixture *fx, struct report *r);

/* Paths are built into caller buffers: a confined child cannot allocate
 * through anything that opens files, and needs none of that. */
static const char *path_in(char *buf, size_t len, const struct fixture *fx,
			   const char *rel)
{
	snprintf(buf, len, "%s/%s", fx->root, rel);
	return buf;
}
#define PATH(buf, rel) path_in((buf), sizeof(buf), fx, (rel))

static void rec(struct report *r, int failed)
{
	if (r->n < MAX_RESULTS)
		r->v[r->n++] = failed ? errno : 0;
}

/* Record an fd-returning call and close what it opened. */
static void rec_fd(struct report *r, int fd)
{
	rec(r, fd < 0);
	if (fd >= 0)
		close(fd);
}

static void write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w <= 0)
			return;
		p += w;
		len -= (size_t)w;
	}
}

/* Runs fn in a confined child. Returns 1 if a full report came back;
 * *status is the child's wait status either way. */
static int run_child(const struct sandbox_policy *pol, child_fn *fn,
		     const struct fixture *fx, struct report *out, int *status)
{
	int fds[2];
	memset(out, 0, sizeof(*out));
	if (pipe(fds) < 0)
		return 0;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		struct report r;
		const char *error = NULL;
		struct rlimit no_core = { 0, 0 };
		memset(&r, 0, sizeof(r));
		close(fds[0]);
		(void)setrlimit(RLIMIT_CORE, &no_core);
		if (sandbox_apply(pol, &error) == 0) {
			r.applied = 1;
			fn(fx, &r);
		} else {
			snprintf(r.error, sizeof(r.error), "%s",
				 error ? error : "(null)");
		}
		write_all(fds[1], &r, sizeof(r));
		_exit(0);
	}
	close(fds[1]);
	size_t got = 0;
	while (got < sizeof(*out)) {
		ssize_t n = read(fds[0], (char *)out + got, sizeof(*out) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return got == sizeof(*out);
}

static int exited_cleanly(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int killed_by(int status, int sig)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

#define EXPECT(r, i, want, what) \
	CHECK((r).n > (i) && (r).v[i] == (want), "%s: %s (got %s)", \
	      case_name, what, (r).n > (i) ? strerror((r).v[i]) : "nothing")

/* Runs a case and checks the child was confined and finished. */
static int start_case(const char *case_name, const struct sandbox_policy *pol,
		      child_fn *fn, const struct fixture *fx, struct report *r)
{
	int status = 0;
	int full = run_child(pol, fn, fx, r, &status);
	CHECK(full && r->applied && exited_cleanly(status),
	      "%s: sandbox applied, child reported back%s%s", case_name,
	      r->applied ? "" : ": ", r->applied ? "" : r->error);
	return full && r->applied;
}

/* ---- fixture ---- */

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	write_all(fd, text, strlen(text));
	return close(fd);
}

static int fixture_setup(struct fixture *fx)
{
	char b[256];
	snprintf(fx->root, sizeof(fx->root), "/tmp/test-sandbox-XXXXXX");
	if (mkdtemp(fx->root) == NULL)
		return -1;
	static const char *const dirs[] = {
		"stores", "stores/alice", "stores/alice/blobs",
		"stores/alice/blobs/tmp", "stores/alice/blobs/ab", "stores/bob",
	};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mkdir(PATH(b, dirs[i]), 0700) < 0)
			return -1;
	char t[256];
	if (write_file(PATH(b, "stores/alice/index.db"), "alice-db") < 0 ||
	    write_file(PATH(b, "stores/bob/index.db"), "bob-secret") < 0 ||
	    write_file(PATH(b, "file.txt"), "plain") < 0 ||
	    symlink(PATH(t, "stores/bob/index.db"),
		    PATH(b, "stores/alice/link-to-bob")) < 0)
		return -1;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void fixture_cleanup(const struct fixture *fx)
{
	(void)nftw(fx->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- 1. pre-auth: no filesystem at all ---- */

static void child_preauth(const struct fixture *fx, struct report *r)
{
	char b[256];
	int p[2] = { -1, -1 };
	int pipe_ok = pipe(p) == 0; /* made after confinement: pipes are not paths */

	rec_fd(r, open("/etc/hostname", O_RDONLY | O_CLOEXEC));        /* 0 */
	rec_fd(r, open(PATH(b, "file.txt"), O_RDONLY | O_CLOEXEC));    /* 1 */
	rec(r, mkdir(PATH(b, "newdir"), 0700) < 0);                    /* 2 */
	FILE *f = fopen(PATH(b, "file.txt"), "r");                     /* 3 */
	rec(r, f == NULL);
	if (f != NULL)
		fclose(f);
	static const char line[] = "# pre-auth child: stdout still writable\n";
	rec(r, write(STDOUT_FILENO, line, sizeof(line) - 1) < 0);      /* 4 */
	rec(r, !pipe_ok || write(p[1], "x", 1) != 1);                  /* 5 */
	char c = 0;
	rec(r, !pipe_ok || read(p[0], &c, 1) != 1 || c != 'x');        /* 6 */
	int sp[2];
	int sp_rc = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp);
	rec(r, sp_rc < 0);                                             /* 7 */
	if (sp_rc == 0) {
		close(sp[0]);
		close(sp[1]);
	}
	rec(r, unlink(PATH(b, "file.txt")) < 0);                       /* 8 */
	rec_fd(r, open(PATH(b, "created"), O_WRONLY | O_CREAT | O_CLOEXEC,
		       0600));                                         /* 9 */
	rec_fd(r, (int)syscall(SYS_openat, AT_FDCWD, "/etc/passwd",
			       O_RDONLY));                             /* 10 */
}

static void case_preauth(const struct fixture *fx)
{
	const char *case_name = "pre-auth";
	struct sandbox_policy pol = { .role = "test-preauth",
				      .fs = SANDBOX_FS_NONE };
	struct report r;
	if (!start_case(case_name, &pol, child_preauth, fx, &r))
		return;
	EXPECT(r, 0, EACCES, "open /etc/hostname refused");
	EXPECT(r, 1, EACCES, "open of a file in the temp dir refused");
	EXPECT(r, 2, EACCES, "mkdir refused");
	EXPECT(r, 3, EACCES, "fopen refused");
	EXPECT(r, 4, 0, "write to stdout still works");
	EXPECT(r, 5, 0, "write to a pipe still works");
	EXPECT(r, 6, 0, "read from a pipe still works");
	EXPECT(r, 7, 0, "socketpair(AF_UNIX) still works");
	EXPECT(r, 8, EACCES, "unlink refused");
	EXPECT(r, 9, EACCES, "open(O_CREAT) refused");
	EXPECT(r, 10, EACCES, "raw openat of /etc/passwd refused");
}

/* ---- 2. worker for alice: her store and nothing else ---- */

static int read_all_fd(int fd, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	return n < 0 ? -1 : 0;
}

static void child_alice(const struct fixture *fx, struct report *r)
{
	char a[256], b[256], buf[64];

	int fd = open(PATH(a, "stores/alice/index.db"), O_RDWR | O_CLOEXEC);
	rec(r, fd < 0);                                                 /* 0 */
	rec(r, fd < 0 || read_all_fd(fd, buf, sizeof(buf)) < 0 ||
	       strcmp(buf, "alice-db") != 0);                           /* 1 */
	rec(r, fd < 0 || pwrite(fd, "ALICE", 5, 0) != 5);               /* 2 */
	rec(r, fd < 0 || fchmod(fd, 0600) < 0);                         /* 3 */
	if (fd >= 0)
		close(fd);
	/* SQLite-like: journal, write, fsync, rename over, fsync dir */
	fd = open(PATH(a, "stores/alice/index.db-new"),
		  O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	rec(r, fd < 0 || write(fd, "v2", 2) != 2 || fsync(fd) < 0 ||
	       ftruncate(fd, 1) < 0);                                   /* 4 */
	if (fd >= 0)
		close(fd);
	rec(r, rename(PATH(a, "stores/alice/index.db-new"),
		      PATH(b, "stores/alice/index.db")) < 0);           /* 5 */
	int dfd = open(PATH(a, "stores/alice"),
		       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rec(r, dfd < 0 || fsync(dfd) < 0);                              /* 6 */
	/* blob: tmp file renamed into another directory (needs REFER) */
	rec_fd(r, open(PATH(a, "stores/alice/blobs/tmp/x"),
		       O_WRONLY | O_CREAT | O_CLOEXEC, 0600));          /* 7 */
	rec(r, rename(PATH(a, "stores/alice/blobs/tmp/x"),
		      PATH(b, "stores/alice/blobs/ab/x")) < 0);         /* 8 */
	rec(r, mkdir(PATH(a, "stores/alice/sub"), 0700) < 0 ||
	       rmdir(PATH(b, "stores/alice/sub")) < 0);                 /* 9 */

	/* bob's store, every way round */
	rec_fd(r, open(PATH(a, "stores/bob/index.db"),
		       O_RDONLY | O_CLOEXEC));                          /* 10 */
	rec_fd(r, open(PATH(a, "stores/alice/link-to-bob"),
		       O_RDONLY | O_CLOEXEC));                          /* 11 */
	rec_fd(r, dfd < 0 ? -1 : openat(dfd, "../bob/index.db",
					O_RDONLY | O_CLOEXEC));         /* 12 */
	rec(r, rename(PATH(a, "stores/alice/blobs/ab/x"),
		      PATH(b, "stores/bob/x")) < 0);                    /* 13 */
	rec(r, link(PATH(a, "stores/alice/index.db"),
		    PATH(b, "stores/bob/stolen")) < 0);                 /* 14 */
	rec_fd(r, open(PATH(a, "stores/bob"),
		       O_RDONLY | O_DIRECTORY | O_CLOEXEC));            /* 15 */
	rec(r, chmod(PATH(a, "stores/bob/index.db"), 0666) < 0);        /* 16 */
	rec(r, utimensat(AT_FDCWD, PATH(a, "stores/bob/index.db"), NULL,
			 0) < 0);                                       /* 17 */
	rec(r, symlink("/etc/passwd",
		       PATH(a, "stores/alice/planted")) < 0);           /* 18 */
	rec_fd(r, open("/etc/hostname", O_RDONLY | O_CLOEXEC));         /* 19 */
	if (dfd >= 0)
		close(dfd);
}

static void case_worker(const struct fixture *fx)
{
	const char *case_name = "worker alice";
	char alice[256];
	snprintf(alice, sizeof(alice), "%s/stores/alice", fx->root);
	const char *const rw[] = { alice, NULL };
	struct sandbox_policy pol = { .role = "test-worker",
				      .fs = SANDBOX_FS_PATHS, .rw_dirs = rw };
	struct report r;
	if (!start_case(case_name, &pol, child_alice, fx, &r))
		return;
	EXPECT(r, 0, 0, "open her index.db read-write");
	EXPECT(r, 1, 0, "read it");
	EXPECT(r, 2, 0, "write it");
	EXPECT(r, 3, 0, "fchmod an open file (SQLite does)");
	EXPECT(r, 4, 0, "create, write, fsync, ftruncate a new file");
	EXPECT(r, 5, 0, "rename it over index.db");
	EXPECT(r, 6, 0, "open and fsync her directory");
	EXPECT(r, 7, 0, "create a blob in blobs/tmp");
	EXPECT(r, 8, 0, "rename it into blobs/ab");
	EXPECT(r, 9, 0, "mkdir and rmdir inside");
	EXPECT(r, 10, EACCES, "open bob's index.db refused");
	EXPECT(r, 11, EACCES, "open bob's index.db through a symlink refused");
	EXPECT(r, 12, EACCES, "openat(her dir, ../bob/index.db) refused");
	CHECK(r.n > 13 && (r.v[13] == EACCES || r.v[13] == EXDEV),
	      "%s: rename into bob's dir refused (got %s)", case_name,
	      strerror(r.v[13]));
	CHECK(r.n > 14 && (r.v[14] == EACCES || r.v[14] == EXDEV),
	      "%s: hard link into bob's dir refused (got %s)", case_name,
	      strerror(r.v[14]));
	EXPECT(r, 15, EACCES, "listing bob's dir refused");
	EXPECT(r, 16, EACCES, "chmod of bob's file refused");
	EXPECT(r, 17, EACCES, "utimensat on bob's file refused");
	EXPECT(r, 18, EACCES, "creating a symlink in her dir refused");
	EXPECT(r, 19, EACCES, "open /etc/hostname refused");

	char b[256];
	struct stat st;
	CHECK(stat(PATH(b, "stores/bob/x"), &st) < 0 &&
	      stat(PATH(b, "stores/bob/stolen"), &st) < 0,
	      "%s: nothing appeared in bob's dir", case_name);
	CHECK(stat(PATH(b, "stores/bob/index.db"), &st) == 0 &&
	      (st.st_mode & 07777) == 0600,
	      "%s: bob's file mode unchanged", case_name);
}

/* ---- 3. execve and foreign syscall ABIs die by SIGSYS ---- */

static void child_execve(const struct fixture *fx, struct report *r)
{
	(void)fx;
	char *const argv[] = { (char *)"true", NULL };
	char *const envp[] = { NULL };
	execve("/bin/true", argv, envp);
	rec(r, 1); /* only reached if execve returned */
}

static void child_execveat(const struct fixture *fx, struct report *r)
{
	(void)fx;
	char *const argv[] = { (char *)"true", NULL };
	char *const envp[] = { NULL };
	syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, envp, 0);
	rec(r, 1);
}

#if defined(__x86_64__)
static void child_x32(const struct fixture *fx, struct report *r)
{
	(void)fx;
	/* getpid through the x32 ABI: bit 30 set on the syscall number */
	syscall(0x40000000L | SYS_getpid);
	rec(r, 1);
}

static void child_i386(const struct fixture *fx, struct report *r)
{
	(void)fx;
	long ret;
	/* getpid (20) through the i386 entry point */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	(void)ret;
	rec(r, 1);
}
#endif

static void expect_sigsys(const char *what, child_fn *fn,
			  const struct fixture *fx)
{
	struct sandbox_policy pol = { .role = "test-exec",
				      .fs = SANDBOX_FS_NONE };
	struct report r;
	int status = 0;
	(void)run_child(&pol, fn, fx, &r, &status);
	CHECK(killed_by(status, SIGSYS), "%s: child killed by SIGSYS "
	      "(status 0x%x)", what, (unsigned int)status);
}

static void case_exec(const struct fixture *fx)
{
	expect_sigsys("execve(/bin/true)", child_execve, fx);
	expect_sigsys("execveat(/bin/true)", child_execveat, fx);
#if defined(__x86_64__)
	expect_sigsys("x32 syscall ABI", child_x32, fx);
	expect_sigsys("i386 syscall ABI (int 0x80)", child_i386, fx);
#endif
}

/* ---- 4. processes, namespaces, sockets ---- */

static void *thread_main(void *arg)
{
	return arg;
}

static void child_syscalls(const struct fixture *fx, struct report *r)
{
	(void)fx;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	rec(r, s < 0);                                                   /* 0 */
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	/* abstract name: no filesystem involved, so the filter refuses */
	memcpy(un.sun_path, "\0redoubt-test", 13);
	socklen_t unlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 13);
	rec(r, bind(s, (struct sockaddr *)&un, unlen) < 0);             /* 1 */
	rec(r, listen(s, 5) < 0);                                       /* 2 */
	rec(r, connect(s, (struct sockaddr *)&un, unlen) < 0);          /* 3 */
	if (s >= 0)
		close(s);
	rec_fd(r, socket(AF_INET, SOCK_STREAM, 0));                     /* 4 */
	rec_fd(r, socket(AF_INET6, SOCK_DGRAM, 0));                     /* 5 */
	rec_fd(r, socket(AF_NETLINK, SOCK_RAW, 0));                     /* 6 */
	rec_fd(r, socket(AF_PACKET, SOCK_RAW, 0));                      /* 7 */
	/* AF_INET hidden behind garbage in the upper half of the register */
	rec_fd(r, (int)syscall(SYS_socket, (1L << 32) | AF_INET,
			       SOCK_STREAM, 0));                        /* 8 */
	/* clone before unshare: were unshare to succeed, the new namespace
	 * (with no uid map) would make clone fail for the wrong reason */
	long pid = syscall(SYS_clone, (long)(CLONE_NEWUSER | SIGCHLD),
			   0L, 0L, 0L, 0L);
	if (pid == 0)
		_exit(0);
	rec(r, pid < 0);                                                /* 9 */
	rec(r, unshare(CLONE_NEWUSER) < 0);                             /* 10 */
	rec(r, syscall(SYS_io_uring_setup, 1, NULL) < 0);               /* 11 */
	rec(r, syscall(SYS_bpf, 0, NULL, 0) < 0);                       /* 12 */
	/* threads still work: clone3 says ENOSYS, glibc falls back */
	pthread_t t;
	int trc = pthread_create(&t, NULL, thread_main, NULL);
	errno = trc;
	rec(r, trc != 0 || pthread_join(t, NULL) != 0);                 /* 13 */
	/* Landlock signal scoping (ABI >= 6): the parent is outside us */
	rec(r, kill(getppid(), 0) < 0);                                 /* 14 */
	/* last: were it to succeed, any later signal would stop this child
	 * for a tracer that never comes, and the case would hang */
	rec(r, ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0);              /* 15 */
	r->aux[0] = sandbox_landlock_abi();
}

static void case_syscalls(const struct fixture *fx)
{
	const char *case_name = "syscalls";
	struct sandbox_policy pol = { .role = "test-syscalls",
				      .fs = SANDBOX_FS_NONE };
	struct report r;
	if (!start_case(case_name, &pol, child_syscalls, fx, &r))
		return;
	EXPECT(r, 0, 0, "socket(AF_UNIX) allowed");
	EXPECT(r, 1, EPERM, "bind refused");
	EXPECT(r, 2, EPERM, "listen on a new socket refused");
	EXPECT(r, 3, EPERM, "connect refused");
	EXPECT(r, 4, EPERM, "socket(AF_INET) refused");
	EXPECT(r, 5, EPERM, "socket(AF_INET6) refused");
	EXPECT(r, 6, EPERM, "socket(AF_NETLINK) refused");
	EXPECT(r, 7, EPERM, "socket(AF_PACKET) refused");
	EXPECT(r, 8, EPERM, "socket(AF_INET | 1<<32) refused");
	EXPECT(r, 9, EPERM, "clone(CLONE_NEWUSER) refused");
	EXPECT(r, 10, EPERM, "unshare(CLONE_NEWUSER) refused");
	EXPECT(r, 11, EPERM, "io_uring_setup refused");
	EXPECT(r, 12, EPERM, "bpf refused");
	EXPECT(r, 13, 0, "pthread_create still works");
	EXPECT(r, 15, EPERM, "ptrace(PTRACE_TRACEME) refused");
	if (r.aux[0] >= 6)
		EXPECT(r, 14, EPERM, "signalling the parent refused (scope)");
	else
		CHECK(1, "%s: signal scoping # SKIP Landlock ABI %ld < 6",
		      case_name, r.aux[0]);
}

/* ---- the relay: may connect out, still not bind ---- */

static void child_relay(const struct fixture *fx, struct report *r)
{
	(void)fx;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	rec(r, s < 0);                                                  /* 0 */
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(1),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	rec(r, s < 0 || connect(s, (struct sockaddr *)&sin,
				sizeof(sin)) < 0);                      /* 1 */
	if (s >= 0)
		close(s);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sin.sin_port = 0;
	rec(r, s < 0 || bind(s, (struct sockaddr *)&sin,
			     sizeof(sin)) < 0);                         /* 2 */
	if (s >= 0)
		close(s);
	rec_fd(r, socket(AF_PACKET, SOCK_RAW, 0));                      /* 3 */
}

static void case_relay(const struct fixture *fx)
{
	const char *case_name = "relay";
	struct sandbox_policy pol = { .role = "test-relay",
				      .fs = SANDBOX_FS_NONE,
				      .allow_connect = 1 };
	struct report r;
	if (!start_case(case_name, &pol, child_relay, fx, &r))
		return;
	EXPECT(r, 0, 0, "socket(AF_INET) allowed");
	/* refused by the peer, not by us: the kernel let the SYN out */
	EXPECT(r, 1, ECONNREFUSED, "connect to 127.0.0.1:1 reaches the stack");
	EXPECT(r, 2, EPERM, "bind still refused");
	EXPECT(r, 3, EPERM, "socket(AF_PACKET) still refused");
}

/* ---- 6. dropping root ---- */

static void child_drop(const struct fixture *fx, struct report *r)
{
	(void)fx;
	gid_t groups[4];
	r->aux[0] = (long)getuid();
	r->aux[1] = (long)geteuid();
	r->aux[2] = (long)getgid();
	r->aux[3] = getgroups(4, groups);
	r->aux[4] = r->aux[3] == 1 ? (long)groups[0] : -1;
	rec(r, setuid(0) < 0);                                          /* 0 */
	rec(r, setgid(0) < 0);                                          /* 1 */
}

static void case_drop(const struct fixture *fx)
{
	const char *case_name = "drop to nobody";
	if (geteuid() != 0) {
		CHECK(1, "%s # SKIP not running as root", case_name);
		return;
	}
	const struct passwd *pw = getpwnam("nobody");
	if (pw == NULL) {
		CHECK(1, "%s # SKIP no user nobody", case_name);
		return;
	}
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	struct sandbox_policy pol = { .role = "test-drop",
				      .fs = SANDBOX_FS_NONE,
				      .run_as_user = "nobody" };
	struct report r;
	if (!start_case(case_name, &pol, child_drop, fx, &r))
		return;
	CHECK(r.aux[0] != 0 && r.aux[0] == (long)uid && r.aux[1] == (long)uid,
	      "%s: uid and euid are nobody's (%ld)", case_name, r.aux[0]);
	CHECK(r.aux[2] == (long)gid && r.aux[3] == 1 && r.aux[4] == (long)gid,
	      "%s: gid and the only group are nobody's", case_name);
	EXPECT(r, 0, EPERM, "setuid(0) fails");
	EXPECT(r, 1, EPERM, "setgid(0) fails");
}

/* ---- the master may still signal a confined child ---- */

static void child_wait(const struct fixture *fx, struct report *r)
{
	(void)fx; (void)r;
	for (;;)
		pause();
}

static void case_parent_signals(const struct fixture *fx)
{
	struct sandbox_policy pol = { .role = "test-signal",
				      .fs = SANDBOX_FS_NONE };
	int fds[2];
	if (pipe(fds) < 0) {
		CHECK(0, "parent signals child: pipe");
		return;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		const char *error = NULL;
		close(fds[0]);
		char ok = sandbox_apply(&pol, &error) == 0 ? 'y' : 'n';
		write_all(fds[1], &ok, 1);
		child_wait(fx, NULL);
	}
	close(fds[1]);
	char ok = 0;
	ssize_t n = read(fds[0], &ok, 1);
	close(fds[0]);
	int kill_rc = pid > 0 ? kill(pid, SIGTERM) : -1;
	int status = 0;
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	CHECK(n == 1 && ok == 'y' && kill_rc == 0 && killed_by(status, SIGTERM),
	      "parent (outside the domain) can still signal a confined child");
}

/* ---- refusals of sandbox_apply itself ---- */

static void child_nothing(const struct fixture *fx, struct report *r)
{
	(void)fx; (void)r;
}

static void expect_refused(const char *what, const struct sandbox_policy *pol,
			   const struct fixture *fx, const char *want)
{
	struct report r;
	int status = 0;
	int full = run_child(pol, child_nothing, fx, &r, &status);
	CHECK(full && !r.applied && strstr(r.error, want) != NULL,
	      "refused: %s (\"%s\")", what, r.error);
}

static void *thread_block(void *arg)
{
	char c;
	ssize_t n = read(*(const int *)arg, &c, 1);
	(void)n;
	return NULL;
}

static void case_threaded(void)
{
	/* The second thread must exist in the child, so this child makes it
	 * before applying: run_child cannot, so do it by hand. */
	int fds[2], blk[2];
	if (pipe(fds) < 0 || pipe(blk) < 0) {
		CHECK(0, "refused: multi-threaded: pipe");
		return;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t t;
		const char *error = "";
		struct sandbox_policy pol = { .role = "test-threads",
					      .fs = SANDBOX_FS_NONE };
		char ok = 'c';
		if (pthread_create(&t, NULL, thread_block, &blk[0]) == 0)
			ok = sandbox_apply(&pol, &error) == 0 ? 'y' :
			     strstr(error, "multi-threaded") ? 'n' : 'e';
		write_all(fds[1], &ok, 1);
		_exit(0);
	}
	close(fds[1]);
	char ok = 0;
	ssize_t n = read(fds[0], &ok, 1);
	close(fds[0]);
	close(blk[0]);
	close(blk[1]);
	int status = 0;
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	CHECK(n == 1 && ok == 'n', "refused: a multi-threaded process (%c)", ok);
}

static void case_refusals(const struct fixture *fx)
{
	char missing[256], file[256];
	snprintf(missing, sizeof(missing), "%s/no-such-dir", fx->root);
	snprintf(file, sizeof(file), "%s/file.txt", fx->root);
	const char *const rw_missing[] = { missing, NULL };
	const char *const rw_file[] = { file, NULL };

	struct sandbox_policy pol = { .role = "t", .fs = SANDBOX_FS_NONE,
				      .rw_dirs = rw_file };
	expect_refused("no-filesystem policy with paths", &pol, fx,
		       "lists paths");
	pol = (struct sandbox_policy){ .role = "t", .fs = SANDBOX_FS_PATHS,
				       .rw_dirs = rw_missing };
	expect_refused("missing read-write dir", &pol, fx,
		       "cannot open an allowed path");
	pol = (struct sandbox_policy){ .role = "t", .fs = SANDBOX_FS_PATHS,
				       .rw_dirs = rw_file };
	expect_refused("read-write path that is a file", &pol, fx,
		       "not a directory");
	if (geteuid() == 0) {
		pol = (struct sandbox_policy){ .role = "t",
			.fs = SANDBOX_FS_NONE,
			.run_as_user = "no-such-user-redoubt" };
		expect_refused("unknown run_as_user", &pol, fx,
			       "run_as_user");
		pol.run_as_user = "root";
		expect_refused("run_as_user root", &pol, fx, "uid 0");
	} else {
		CHECK(1, "refused: unknown run_as_user # SKIP not root");
		CHECK(1, "refused: run_as_user root # SKIP not root");
	}
	case_threaded();
}

/* ---- read-only paths ---- */

static void child_readonly(const struct fixture *fx, struct report *r)
{
	char b[256];
	rec_fd(r, open(PATH(b, "file.txt"), O_RDONLY | O_CLOEXEC));     /* 0 */
	rec_fd(r, open(PATH(b, "file.txt"), O_WRONLY | O_CLOEXEC));     /* 1 */
	rec_fd(r, open(PATH(b, "stores/alice/index.db"),
		       O_RDONLY | O_CLOEXEC));                          /* 2 */
	rec_fd(r, open(PATH(b, "stores/bob"),
		       O_RDONLY | O_DIRECTORY | O_CLOEXEC));            /* 3 */
}

static void case_readonly(const struct fixture *fx)
{
	const char *case_name = "read-only paths";
	char file[256], bob[256];
	snprintf(file, sizeof(file), "%s/file.txt", fx->root);
	snprintf(bob, sizeof(bob), "%s/stores/bob", fx->root);
	const char *const ro[] = { file, bob, NULL };
	struct sandbox_policy pol = { .role = "test-ro",
				      .fs = SANDBOX_FS_PATHS, .ro_paths = ro };
	struct report r;
	if (!start_case(case_name, &pol, child_readonly, fx, &r))
		return;
	EXPECT(r, 0, 0, "read a read-only file");
	EXPECT(r, 1, EACCES, "write it refused");
	EXPECT(r, 2, EACCES, "a file not listed refused");
	EXPECT(r, 3, 0, "list a read-only dir");
}

int main(void)
{
	const char *why = NULL;
	int probe = sandbox_probe(&why);
	printf("# Landlock ABI %d, euid %d\n", sandbox_landlock_abi(),
	       (int)geteuid());
	if (probe != 0) {
		/* A kernel without Landlock: nothing here can be tested. */
		CHECK(1, "sandbox_probe # SKIP %s", why);
		return TEST_DONE();
	}
	CHECK(probe == 0, "sandbox_probe: Landlock and seccomp usable");
	struct fixture fx;
	if (fixture_setup(&fx) < 0) {
		CHECK(0, "fixture setup: %s", strerror(errno));
		return TEST_DONE();
	}
	case_preauth(&fx);
	case_worker(&fx);
	case_exec(&fx);
	case_syscalls(&fx);
	case_relay(&fx);
	case_drop(&fx);
	case_parent_signals(&fx);
	case_readonly(&fx);
	case_refusals(&fx);
	fixture_cleanup(&fx);
	return TEST_DONE();
}

"""bench/benchlib.py - what the benchmarks in bench/ share: running
commands and daemons, free loopback ports, installing Debian peers without
starting their services, CPU accounting through cgroup v2 (or /proc),
PSS memory, machine facts, and the generated sections of
docs/performance.md. Imported by bench/smtp and bench/imap (which put
this directory on sys.path); nothing here starts a benchmark itself.

Errors: sh() and start_daemon() raise RuntimeError with the command's
output; the rest return None/0 where a process has gone away."""
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")

def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def sh(cmd, **kw):
    """Run a command list; raise with its output if it fails."""
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r.stdout


def start_daemon(cmd, logpath, preexec):
    """Run a command that daemonizes. Its output goes to a file, not a
    pipe: the daemon inherits the descriptors and would hold a pipe open."""
    with open(logpath, "ab") as out:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                           preexec_fn=preexec)
    if r.returncode != 0:
        with open(logpath, errors="replace") as f:
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{f.read()[-2000:]}")


def free_ports(n):
    """n distinct free ports on 127.0.0.1: all bound at once, so they differ."""
    with contextlib.ExitStack() as held:
        socks = [held.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


def wait_port(port, timeout=30):
    """Until something accepts on 127.0.0.1:port; OSError after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                return
        except OSError:
            if time.monotonic() >= deadline:
                raise
        time.sleep(0.05)




def apt_install(pkgs, tag, preseed=None):
    """Install the Debian packages of pkgs that are missing. Service
    start-up during the install is refused through policy-rc.d (only if
    none exists, and ours is removed afterwards); preseed is fed to
    debconf-set-selections first. tag names the caller in policy-rc.d."""
    need = []
    for pkg in pkgs:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
        if "install ok installed" not in r.stdout:
            need.append(pkg)
    if not need:
        return
    log(f"installing {' '.join(need)} from Debian")
    if preseed:
        sh(["debconf-set-selections"], input=preseed)
    policy = "/usr/sbin/policy-rc.d"
    ours = not os.path.exists(policy)
    if ours:
        with open(policy, "w") as f:
            f.write(f"#!/bin/sh\n# {tag}: no service starts during its install\nexit 101\n")
        os.chmod(policy, 0o755)
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        r = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *need],
                           env=env, capture_output=True, text=True)
        if r.returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True)
            sh(["apt-get", "install", "-y", "--no-install-recommends", *need], env=env)
    finally:
        if ours:
            os.unlink(policy)


def need_tools(tools):
    for tool in tools:
        if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin"):
            sys.exit(f"{tool} not found after install")

class Cgroups:
    """One cgroup v2 directory per server (and per part of it), used only
    to count CPU (cpu.stat exists in every v2 cgroup, no controller
    needed) and to list the server's processes."""

    def __init__(self):
        self.root = None
        for cand in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
            if os.path.exists(os.path.join(cand, "cgroup.procs")) and \
               os.path.exists(os.path.join(cand, "cgroup.subtree_control")):
                try:
                    d = os.path.join(cand, f"redoubt-bench-{os.getpid()}")
                    os.mkdir(d)
                    with open(os.path.join(d, "cpu.stat")) as f:
                        f.read()
                    self.root = d
                    break
                except OSError:
                    continue
        self.method = ("cgroup v2 cpu.stat usage_usec (" + self.root + ")") if self.root else \
            "/proc utime+stime of each process tree, reaped children via cutime+cstime"

    def make(self, *parts):
        d = os.path.join(self.root, *parts)
        os.makedirs(d, exist_ok=True)
        return d

    @staticmethod
    def join(cg, pid=0):
        with open(os.path.join(cg, "cgroup.procs"), "w") as f:
            f.write(str(pid or os.getpid()))

    @staticmethod
    def cpu(cg):
        """(usage, user, system) microseconds, this cgroup and below."""
        vals = {}
        with open(os.path.join(cg, "cpu.stat")) as f:
            for line in f:
                k, v = line.split()
                vals[k] = int(v)
        return vals["usage_usec"], vals["user_usec"], vals["system_usec"]

    @staticmethod
    def pids(cg):
        out = []
        for dirpath, _, files in os.walk(cg):
            if "cgroup.procs" in files:
                try:
                    with open(os.path.join(dirpath, "cgroup.procs")) as f:
                        out += [int(x) for x in f.read().split()]
                except OSError:
                    pass
        return out

    def remove(self):
        if not self.root:
            return
        deadline = time.monotonic() + 10   # stopped servers' last processes leave
        while self.pids(self.root) and time.monotonic() < deadline:
            time.sleep(0.2)
        for dirpath, dirs, _ in sorted(os.walk(self.root), key=lambda t: -t[0].count("/")):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


def proc_stat(pid):
    """(ppid, utime+stime, cutime+cstime) in seconds, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    f = s[s.rindex(")") + 2:].split()
    return int(f[1]), (int(f[11]) + int(f[12])) / TICK, (int(f[13]) + int(f[14])) / TICK


def proc_tree(roots):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st:
                kids.setdefault(st[0], []).append(int(d))
    out, todo = [], list(roots)
    while todo:
        p = todo.pop()
        if p not in out:
            out.append(p)
            todo += kids.get(p, [])
    return out


def tree_cpu(roots):
    """Seconds: every live process's own time plus the time of the
    children it reaped (cutime/cstime), which live ones do not include."""
    total = 0.0
    for p in proc_tree(roots):
        st = proc_stat(p)
        if st:
            total += st[1] + st[2]
    return total


def rss(pid):
    """Proportional set size in octets: a page shared by n processes
    counts 1/n in each, so sums over processes are real memory."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def first_line(cmd):
    """Output of a shell command, stripped ("" if it fails)."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, shell=True).stdout.strip()
    except OSError:
        return "?"


def machine_facts(tmp, extra=None):
    """CPUs, kernel, the disk under tmp and its synchronous write rate, the
    load average, redoubt's commit; extra maps more keys to shell commands
    (peer versions)."""
    model = first_line("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-")
    dev = first_line(f"df --output=source,fstype,size {tmp} | tail -1")
    src = dev.split()[0] if dev else ""
    rot = first_line(f"lsblk -dno ROTA,MODEL {src} 2>/dev/null") or "?"
    # synchronous 4 KiB writes per second on the data directories' disk
    path = os.path.join(tmp, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    n, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < 1.0:
        os.pwrite(fd, b"x" * 4096, (n % 64) * 4096)
        os.fdatasync(fd)
        n += 1
    os.close(fd)
    os.unlink(path)
    facts = {"nproc": str(os.cpu_count()), "cpu": model, "kernel": first_line("uname -srm"),
             "disk": f"{dev} (rotational={rot})", "fsync": f"{n / (time.monotonic() - t0):.0f}",
             "load": first_line("cat /proc/loadavg"),
             "redoubt": first_line(f"cd {REPO} && git rev-parse --short HEAD")}
    for k, cmd in (extra or {}).items():
        facts[k] = first_line(cmd)
    return facts


def write_doc(begin, end, heading, section):
    """Replace the text between the markers begin and end in
    docs/performance.md with section; without the markers, append
    heading and the marked section at the end of the file."""
    path = os.path.join(REPO, "docs", "performance.md")
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    else:
        text = "# Performance\n\n" + heading + "\n\n" + begin + "\n" + end + "\n"
    if begin in text and end in text:
        text = text[:text.index(begin)] + begin + "\n" + section + "\n" + text[text.index(end):]
    else:
        text += "\n" + heading + "\n\n" + begin + "\n" + section + "\n" + end + "\n"
    with open(path, "w") as f:
        f.write(text)
    log(f"wrote {path}")

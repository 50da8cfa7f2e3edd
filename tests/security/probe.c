/* Escape probes run inside a container. Each probe prints one line:
 *   BLOCKED <name> <how>      the attempt failed (what we want)
 *   ESCAPED <name> <what>     the attempt worked: isolation is broken
 * argv[1] is a marker path that exists only on the host; argv[2] the host's hostname.
 * Built statically by the test suite (gcc -static), so it needs nothing from the image.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>

static const char *marker;
static int escaped;

static void result(const char *name, int ok_for_attacker, const char *how) {
    printf("%s %s %s\n", ok_for_attacker ? "ESCAPED" : "BLOCKED", name, how);
    if (ok_for_attacker) escaped++;
}

static void expect_fail(const char *name, long rc) {
    char how[96];
    if (rc < 0)
        snprintf(how, sizeof how, "errno=%d(%s)", errno, strerror(errno));
    else
        snprintf(how, sizeof how, "rc=%ld", rc);
    result(name, rc >= 0, how);
}

static void probe_mount(void) {
    mkdir("/tmp/m", 0700);
    expect_fail("mount-tmpfs", mount("none", "/tmp/m", "tmpfs", 0, NULL));
    expect_fail("mount-proc", mount("proc", "/tmp/m", "proc", 0, NULL));
    expect_fail("remount-root-rw-bind", mount("/", "/tmp/m", NULL, MS_BIND, NULL));
}

static void probe_modules(void) {
    int fd = open("/dev/null", O_RDONLY);
    expect_fail("finit_module", syscall(SYS_finit_module, fd, "", 0));
    close(fd);
    expect_fail("init_module", syscall(SYS_init_module, "x", 1, ""));
    expect_fail("delete_module", syscall(SYS_delete_module, "ext4", O_NONBLOCK));
}

static void probe_host_files(void) {
    char p[512];
    struct stat st;
    expect_fail("stat-host-marker", stat(marker, &st));
    snprintf(p, sizeof p, "/proc/1/root%s", marker);
    expect_fail("proc1-root-marker", stat(p, &st));
    snprintf(p, sizeof p, "/proc/self/root/../../..%s", marker);
    expect_fail("proc-self-root-dotdot", stat(p, &st));
    /* the classic chroot escape: needs CAP_SYS_CHROOT (docker grants it) */
    int rc = -1;
    if (fork() == 0) {
        mkdir("/tmp/jail", 0700);
        if (chroot("/tmp/jail") == 0) {
            for (int i = 0; i < 64; i++) chdir("..");
            chroot(".");
        }
        _exit(stat(marker, &st) == 0 ? 0 : 1);
    }
    int status;
    wait(&status);
    rc = WEXITSTATUS(status) == 0 ? 0 : -1;
    errno = ENOENT;
    expect_fail("chroot-dotdot-escape", rc);
    /* open_by_handle_at (shocker): needs CAP_DAC_READ_SEARCH */
    struct { unsigned int bytes; int type; unsigned char f[8]; } h = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};
    expect_fail("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, &h, O_RDONLY));
}

static void probe_fds_and_cwd(void) {
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int leaked = 0;
    char link[512], path[600];
    while (d && (e = readdir(d))) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d)) continue;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n > 0) { link[n] = 0; printf("  fd %d -> %s\n", fd, link); }
        leaked++;
    }
    if (d) closedir(d);
    errno = 0;
    result("leaked-fds (CVE-2024-21626)", leaked > 0, leaked ? "open fds beyond stdio" : "only stdio");
    ssize_t n = readlink("/proc/self/cwd", link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    struct stat st;
    int outside = stat(link, &st) != 0;  /* a cwd not resolvable inside is a host cwd */
    result("host-cwd (CVE-2024-21626)", outside, link);
}

static void probe_procs(const char *host_pid_s) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9') n++;
    if (d) closedir(d);
    char how[64];
    snprintf(how, sizeof how, "%d processes visible", n);
    result("see-host-processes", n > 20, how);
    /* The host pid of a host process the test started: in our pid namespace that number
     * names nothing (or one of ours). The test checks the host process afterwards. */
    pid_t hp = (pid_t)atoi(host_pid_s);
    if (hp > 0) {
        long rc = ptrace(PTRACE_ATTACH, hp, 0, 0);
        printf("%s ptrace-host-process errno=%d\n", rc == 0 ? "CHECK" : "BLOCKED", rc ? errno : 0);
        rc = kill(hp, SIGKILL);
        printf("%s kill-host-process errno=%d\n", rc == 0 ? "CHECK" : "BLOCKED", rc ? errno : 0);
    }
}

static void probe_kernel_writes(void) {
    expect_fail("write-proc-sys", open("/proc/sys/kernel/hostname", O_WRONLY));
    expect_fail("write-proc-sysrq", open("/proc/sysrq-trigger", O_WRONLY));
    expect_fail("write-sys-uevent-helper", open("/sys/kernel/uevent_helper", O_WRONLY));
    expect_fail("write-sys-class", open("/sys/class/net/lo/mtu", O_WRONLY));
    char buf[16];
    int kfd = open("/proc/kcore", O_RDONLY);
    expect_fail("read-proc-kcore", kfd >= 0 && read(kfd, buf, sizeof buf) > 0 ? 0 : -1);
    if (kfd >= 0) close(kfd);
    expect_fail("read-proc-kmsg", open("/proc/kmsg", O_RDONLY));
}

static void probe_devices(void) {
    expect_fail("mknod-block-open", mknod("/tmp/blk", S_IFBLK | 0600, makedev(253, 0)) == 0 ?
                open("/tmp/blk", O_RDONLY) : open("/tmp/blk", O_RDONLY));
    expect_fail("mknod-mem-open", mknod("/tmp/mem", S_IFCHR | 0600, makedev(1, 1)) == 0 ?
                open("/tmp/mem", O_RDONLY) : open("/tmp/mem", O_RDONLY));
    expect_fail("open-dev-kmsg-write", open("/dev/kmsg", O_WRONLY));
}

static void probe_identity(const char *host_hostname) {
    expect_fail("sethostname", sethostname("escaped", 7));
    struct timeval tv;
    gettimeofday(&tv, NULL);
    expect_fail("settimeofday", settimeofday(&tv, NULL));
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    expect_fail("clock_settime", clock_settime(CLOCK_REALTIME, &ts));
    char h[256] = "";
    gethostname(h, sizeof h);
    result("hostname-is-host", strcmp(h, host_hostname) == 0, h);
}

static void probe_privileges(void) {
    expect_fail("unshare-user", unshare(CLONE_NEWUSER));
    expect_fail("unshare-mount", unshare(CLONE_NEWNS));
    expect_fail("unshare-net", unshare(CLONE_NEWNET));
    expect_fail("keyctl", syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, "probe"));
    expect_fail("add_key", syscall(SYS_add_key, "user", "probe", "x", 1, -3));
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_ARRAY; a.key_size = 4; a.value_size = 4; a.max_entries = 1;
    expect_fail("bpf-map-create", syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a));
    expect_fail("userfaultfd", syscall(SYS_userfaultfd, 0));
    expect_fail("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
    expect_fail("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
    expect_fail("reboot", syscall(SYS_reboot, 0xfee1dead, 672274793, 0x4321FEDC, NULL));
    expect_fail("swapoff", syscall(SYS_swapoff, "/dev/null"));
    expect_fail("acct", syscall(SYS_acct, "/tmp/acct"));
    expect_fail("iopl", syscall(SYS_iopl, 3));
}

/* CVE-2019-5736: while the host runs `exec` into this container again and again, try to
 * open every process's /proc/PID/exe for writing. A runtime whose binary is reachable
 * that way can be overwritten from inside. */
static int race_exe(int seconds) {
    time_t end = time(NULL) + seconds;
    int wins = 0, tries = 0;
    char path[300], link[512];
    while (time(NULL) < end) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9' || atoi(e->d_name) == getpid()) continue;
            snprintf(path, sizeof path, "/proc/%s/exe", e->d_name);
            ssize_t n = readlink(path, link, sizeof link - 1);
            link[n > 0 ? n : 0] = 0;
            int fd = open(path, O_WRONLY | O_APPEND);
            tries++;
            if (fd >= 0) {
                printf("  writable exe of pid %s: %s\n", e->d_name, link);
                wins++;
                close(fd);
            }
        }
        if (d) closedir(d);
    }
    char how[64];
    snprintf(how, sizeof how, "%d opens tried", tries);
    result("overwrite-runtime-via-proc-exe (CVE-2019-5736)", wins > 0, how);
    return wins ? 1 : 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 2 && strcmp(argv[1], "--race-exe") == 0) return race_exe(atoi(argv[2]));
    marker = argc > 1 ? argv[1] : "/nonexistent-marker";
    probe_fds_and_cwd();
    probe_mount();
    probe_modules();
    probe_host_files();
    probe_procs(argc > 3 ? argv[3] : "0");
    probe_kernel_writes();
    probe_devices();
    probe_identity(argc > 2 ? argv[2] : "");
    probe_privileges();
    return escaped ? 1 : 0;
}

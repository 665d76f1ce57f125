/*
 * seccomp.c: the sandbox's syscall filter, built with libseccomp and
 * exported as BPF.  See seccomp.h.
 */
#include "exec/seccomp.h"
#include "base/fileio.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* Refused with EPERM: introspection of other processes, mounts (old and
 * new API), kernel modules and images, keyrings, namespaces, io_uring
 * (its operations bypass seccomp), bpf, perf, reboot, swap. */
static const char *const denied[] = {"ptrace",
				     "process_vm_readv",
				     "process_vm_writev",
				     "mount",
				     "umount",
				     "umount2",
				     "pivot_root",
				     "chroot",
				     "open_tree",
				     "move_mount",
				     "fsopen",
				     "fsconfig",
				     "fsmount",
				     "fspick",
				     "mount_setattr",
				     "io_uring_setup",
				     "io_uring_enter",
				     "io_uring_register",
				     "bpf",
				     "perf_event_open",
				     "userfaultfd",
				     "kexec_load",
				     "kexec_file_load",
				     "init_module",
				     "finit_module",
				     "delete_module",
				     "keyctl",
				     "add_key",
				     "request_key",
				     "setns",
				     "unshare",
				     "reboot",
				     "swapon",
				     "swapoff",
				     NULL};

static const unsigned long ns_flags[] = {
	CLONE_NEWNS,  CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET,
	CLONE_NEWIPC, CLONE_NEWUTS,  CLONE_NEWCGROUP,
};

struct program {
	int built;
	char *bytes;
	size_t len;
};

static struct program programs[2];

static int rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
		const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0; /* not on this architecture */
	return seccomp_rule_add_array(ctx, action, nr, n, cmp);
}

static int add_rules(scmp_filter_ctx ctx, int network_off)
{
	static const int bad_families[] = {0, 3, 4, 5, 6, 7, 8, 9};
	struct scmp_arg_cmp c[1];
	int ret = 0;
	size_t i;

	for (i = 0; denied[i] && !ret; i++)
		ret = rule(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0, NULL);
	/* libc falls back to clone, whose flags a filter can see */
	if (!ret)
		ret = rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
	for (i = 0; !ret && i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++) {
		c[0] = SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]);
		ret = rule(ctx, SCMP_ACT_ERRNO(EPERM), "clone", 1, c);
	}
	/* socket families: AF_UNIX (1), AF_INET (2), AF_INET6 (10) only */
	for (i = 0; !ret && i < sizeof(bad_families) / sizeof(bad_families[0]); i++) {
		c[0] = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)bad_families[i]);
		ret = rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 1, c);
	}
	if (!ret) {
		c[0] = SCMP_A0(SCMP_CMP_GT, AF_INET6);
		ret = rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 1, c);
	}
	if (!ret && network_off) {
		c[0] = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW);
		ret = rule(ctx, SCMP_ACT_ERRNO(EPERM), "socket", 1, c);
		if (!ret) {
			c[0] = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_PACKET);
			ret = rule(ctx, SCMP_ACT_ERRNO(EPERM), "socket", 1, c);
		}
	}
	return ret;
}

static int build(struct program *p, int network_off, struct buf *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int fd = -1, ret;
	off_t len;

	if (!ctx)
		return err_set(err, -ENOMEM, "cannot initialise libseccomp");
	ret = add_rules(ctx, network_off);
	if (ret < 0) {
		err_set(err, ret, "cannot build the seccomp filter: %s", strerror(-ret));
		goto out;
	}
	fd = memfd_create("loopgate-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		ret = err_set(err, -errno, "memfd_create: %s", strerror(errno));
		goto out;
	}
	if ((ret = seccomp_export_bpf(ctx, fd)) < 0) {
		err_set(err, ret, "cannot export the seccomp filter: %s", strerror(-ret));
		goto out;
	}
	len = lseek(fd, 0, SEEK_END);
	if (len <= 0 || lseek(fd, 0, SEEK_SET) != 0) {
		ret = err_set(err, -EIO, "cannot read the seccomp filter back");
		goto out;
	}
	p->bytes = xmalloc((size_t)len);
	if (read(fd, p->bytes, (size_t)len) != (ssize_t)len) {
		free(p->bytes);
		p->bytes = NULL;
		ret = err_set(err, -EIO, "cannot read the seccomp filter back");
		goto out;
	}
	p->len = (size_t)len;
	p->built = 1;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	return ret;
}

int seccomp_program_fd(int network_off, struct buf *err)
{
	struct program *p = &programs[network_off ? 1 : 0];
	int fd, ret;

	if (!p->built && (ret = build(p, network_off, err)) < 0)
		return -1;
	fd = fileio_memfd("loopgate-seccomp", p->bytes, p->len);
	if (fd < 0) {
		err_set(err, fd, "cannot write the seccomp filter: %s", strerror(-fd));
		return -1;
	}
	return fd;
}

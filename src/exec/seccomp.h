/*
 * seccomp: the syscall filter of the sandbox, as a BPF program bubblewrap
 * installs (`bwrap --seccomp FD`).  docs/design/sandbox.md lists what it
 * refuses and why.
 *
 *   int fd = seccomp_program_fd(network_off, &err);   -1 with err set
 *   ... pass fd to bwrap (clear FD_CLOEXEC in the child), close it after ...
 *
 * The program is compiled once per variant (network off or on) and kept in
 * memory; each call returns a fresh memfd holding it, at offset 0.
 */
#ifndef LOOPGATE_SECCOMP_H
#define LOOPGATE_SECCOMP_H

#include "base/buf.h"

int seccomp_program_fd(int network_off, struct buf *err);

#endif

#!/bin/sh
# tests/sweep.sh [--keep] DIR...: removes a test script's scratch directory
# (lib.sh's $TRASH_ROOT): its tmpfs mounts (small_disk) come off first, the
# fake servers it started (their pids in *.fakepid files) are stopped, then
# the directory goes (not with --keep: LOOPGATE_KEEP=1).  lib.sh's EXIT trap
# runs it; tests/run.sh runs it on what a script killed by its timeout left
# (SIGKILL runs no trap).
keep=0
[ "${1:-}" = --keep ] && keep=1 && shift
for root in "$@"; do
	[ -d "$root" ] || continue
	if [ -f "$root/.mounts" ]; then
		while read -r m; do umount -l "$m" || echo "# could not unmount $m" >&2; done <"$root/.mounts"
	fi
	# start_fake runs inside $(...): its pids come back through files, in
	# the script's fixtures or in a case's directory
	for f in "$root"/*.fakepid "$root"/c[0-9]*/*.fakepid "$root"/setup/*/*.fakepid; do
		[ -f "$f" ] && [ ! -L "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	[ "$keep" = 1 ] || rm -rf "$root"
done
exit 0

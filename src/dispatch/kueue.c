#include "dispatch/executor.h"
#include <errno.h>
static int k_open(struct executor *ex, const struct executor_opts *o, struct buf *err)
{
	(void)ex;
	(void)o;
	return err_set(err, -ENOSYS, "kueue: not yet");
}
const struct executor_ops executor_kueue = {.name = "kueue", .open = k_open};

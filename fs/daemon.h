/* fs/daemon.h — the state of one netfsd: the mount, the stack, the link, the conversations. */
#ifndef FS_DAEMON_H
#define FS_DAEMON_H

#include <sys/types.h>

#include <fuse_lowlevel.h>  /* FUSE_USE_VERSION comes from fs/meson.build */

#include "conv.h"
#include "options.h"
#include "wire.h"

struct netfsd {
	struct netfsd_opts opts;
	struct fuse_session *se;
	struct ns_stack *st;
	struct slink *link;
	struct conv_table convs;
	struct wire wire;         /* frames between the stack and slirp */
	uid_t uid;                /* owner of /, /tcp, clone, stats: whoever runs the daemon */
	gid_t gid;
};

/* FUSE operations (ops.c); the session's userdata is the struct netfsd. */
extern const struct fuse_lowlevel_ops netfs_ops;

/* Run until unmounted or signalled (loop.c).  Parked requests are answered at the end. */
int loop_run(struct netfsd *d);
/* Milliseconds of the monotonic clock (the stack's time base). */
uint64_t loop_now_ms(void);

#endif

/* fs/stream.h — open replies with FOPEN_STREAM, which libfuse 3.14 cannot express.
 *
 * Without FOPEN_STREAM the kernel serialises read and write on one open file through its
 * position lock: a reader parked on a shared data fd would block a writer on the same fd
 * forever.  stream_install() routes the session's device writes through a writev wrapper,
 * and stream_reply_open() makes that wrapper OR FOPEN_STREAM into this one open reply.
 */
#ifndef FS_STREAM_H
#define FS_STREAM_H

#include <fuse_lowlevel.h>  /* FUSE_USE_VERSION comes from fs/meson.build */

/* After fuse_session_mount(): 0 or -errno. */
int stream_install(struct fuse_session *se);
/* fuse_reply_open() for a stream-like file (the loop is single-threaded: see stream.c). */
int stream_reply_open(fuse_req_t req, const struct fuse_file_info *fi);

#endif

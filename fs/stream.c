/* fs/stream.c — FOPEN_STREAM through libfuse's custom I/O hook (see stream.h).
 *
 * fuse_reply_open() ends in one writev() of {struct fuse_out_header, struct fuse_open_out}
 * on the device (libfuse 3.14 fuse_send_msg), done synchronously inside the call.  The flag
 * below is set only around that call, and the daemon has one thread, so the wrapper sees
 * exactly the reply it is meant to change.
 */
#include "stream.h"

#include <stdbool.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/fuse.h>

static bool next_reply_is_stream_open;

static ssize_t stream_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	if (next_reply_is_stream_open && count == 2 &&
	    iov[0].iov_len == sizeof(struct fuse_out_header) &&
	    ((struct fuse_out_header *)iov[0].iov_base)->error == 0 &&
	    iov[1].iov_len == sizeof(struct fuse_open_out))
		((struct fuse_open_out *)iov[1].iov_base)->open_flags |= FOPEN_STREAM;
	return writev(fd, iov, count);
}

static ssize_t stream_read(int fd, void *buf, size_t len, void *userdata)
{
	(void)userdata;
	return read(fd, buf, len);
}

int stream_install(struct fuse_session *se)
{
	static const struct fuse_custom_io io = {
		.writev = stream_writev,
		.read = stream_read,
	};

	return fuse_session_custom_io(se, &io, fuse_session_fd(se));
}

int stream_reply_open(fuse_req_t req, const struct fuse_file_info *fi)
{
	int r;

	next_reply_is_stream_open = true;
	r = fuse_reply_open(req, fi);
	next_reply_is_stream_open = false;
	return r;
}

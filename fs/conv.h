/* fs/conv.h — conversations: /net/tcp/N and everything that happens on its files.
 *
 * A conversation owns one tcp_sock, counts the open files that keep it alive (ctl, data,
 * err, peek, and listen fds bound to it), and parks FUSE requests that must wait for the
 * network: reads with nothing buffered, writes into a full send buffer, blocking connects
 * and opens of `listen`.  Stack events only mark a conversation dirty; conv_service(),
 * called by the loop outside any stack call, answers what became answerable.
 *
 * Every function here that takes a fuse_req_t answers it, now or later (never twice).
 */
#ifndef FS_CONV_H
#define FS_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <fuse_lowlevel.h>  /* FUSE_USE_VERSION comes from fs/meson.build */

#include "tcp.h"
#include "tree.h"

/* Conversation numbers are 0..CONV_MAX-1.  The table grows as numbers are used; the bound
 * only stops a runaway client from eating the daemon (each connected conversation also
 * holds one host socket of slirp's, so RLIMIT_NOFILE usually binds first). */
#define CONV_MAX 65536
#define CONV_DEFAULT_BACKLOG 128
/* Receive buffer of every conversation.  slirp has no window scaling, so at most 65535
 * bytes are ever in flight; a buffer larger than the window lets bytes pile up between two
 * FUSE READs, so one read(2) of 1 MiB takes more per request.  Measured with lt_files recv
 * (host -> namespace), two side-by-side runs of 3 x 3 s: 64 KiB 743-931 MB/s, 256 KiB
 * 979-1340 MB/s.  The ring is only allocated once data arrives: idle conversations do not
 * pay for it. */
#define CONV_RCVBUF (256 * 1024)
#define CONV_ERR_MAX 96

struct slink;
struct conv;
struct wait;

struct wait_queue {
	struct wait *head, *tail;
};

/* What an open file is; the fh of every open file is a struct handle. */
enum handle_kind {
	H_CTL,   /* N/ctl, and fds from clone or listen (bound to the new conversation) */
	H_DATA,
	H_PEEK,
	H_ERR,
	H_TEXT,  /* local, remote, status, stats: text snapshots, no reference */
};

struct handle {
	enum handle_kind kind;
	enum net_file file;        /* H_TEXT: which text (NF_DIR for /tcp/stats) */
	struct conv *conv;         /* H_CTL/DATA/PEEK/ERR: holds a reference; H_TEXT: may be stale */
	unsigned conv_gen;         /* H_TEXT: generation of conv when opened */
	struct fuse_pollhandle *ph;  /* the newest poll waiter */
	char *text;                /* snapshot served at offsets; refreshed at offset 0 */
	size_t text_len;
	struct handle *conv_next, *conv_prev;  /* on conv->handles (referencing kinds only) */
	struct handle *all_next, *all_prev;    /* on conv_table.handles (every handle) */
};

struct conv_table {
	struct ns_stack *st;
	struct slink *link;        /* NULL: announced ports are not forwarded from the host */
	uint32_t our_addr;         /* the namespace address (host forwards deliver there) */
	struct conv **v;           /* v[n]: allocated on first use, reused, freed at the end */
	unsigned nv, cap;          /* numbers used so far; room in v */
	unsigned max;              /* CONV_MAX (tests lower it) */
	unsigned free_hint;        /* no free number below this one */
	struct conv *dirty;        /* conversations with something to look at */
	struct handle *handles;
	uint64_t rand;             /* xorshift state for ephemeral port candidates */
	struct fuse_buf *rx;       /* the loop's receive buffer (the request being handled) */
	void *rx_spare;            /* a receive buffer a finished write gave back (io.c) */
};

struct conv {
	struct conv_table *tab;
	unsigned n;
	unsigned gen;              /* bumped on every allocation of this number */
	bool live;
	uid_t uid;
	gid_t gid;
	struct tcp_sock *sock;     /* NULL after `close` */
	unsigned refs;
	bool used;                 /* connect or announce was issued */
	bool announced;
	bool bound;
	uint16_t fwd_port;         /* host forward to remove when the listener goes; 0 none */
	int backlog;
	int seen_err;              /* the stack error already copied into err */
	bool reset_reported;       /* a read has reported the reset: later reads see EOF */
	char err[CONV_ERR_MAX];
	struct wait_queue readers, writers, connects, listeners;  /* FIFO each */
	struct handle *handles;
	bool dirty;
	struct conv *next_dirty;
};

void conv_table_init(struct conv_table *t, struct ns_stack *st, struct slink *link,
		     uint32_t our_addr, uint64_t seed);
/* Answer every parked request with err (daemon exit), close every socket, free all. */
void conv_table_fini(struct conv_table *t, int err);

/* A new conversation (lowest free number) with a fresh socket; NULL when none is free. */
struct conv *conv_alloc(struct conv_table *t, uid_t uid, gid_t gid);
/* Give back a conversation that never got a handle. */
void conv_free_unused(struct conv *c);
/* The live conversation number n, or NULL. */
struct conv *conv_get(struct conv_table *t, unsigned long n);
bool conv_is_owner(const struct conv *c, uid_t uid, gid_t gid);

/* Handles.  Referencing kinds take a reference on conv; handle_free drops it (which frees
 * the conversation at the last one: RST/FIN, host forward removed, number free). */
struct handle *handle_new(struct conv_table *t, enum handle_kind kind, struct conv *c);
void handle_free(struct conv_table *t, struct handle *h);
/* Refresh the text of a handle (ctl number, err, local, remote, status, stats). */
void handle_refresh_text(struct conv_table *t, struct handle *h);

/* FUSE operations on a conversation (each answers req). */
void conv_ctl_write(struct conv *c, fuse_req_t req, const char *buf, size_t len, bool nonblock);
void conv_read(struct conv *c, fuse_req_t req, size_t size, bool nonblock, bool peek);
void conv_write(struct conv *c, fuse_req_t req, const char *buf, size_t len, bool nonblock);
/* open(N/listen): answers with an fd bound to the accepted conversation's ctl. */
void conv_listen(struct conv *c, fuse_req_t req, const struct fuse_file_info *fi, bool nonblock);
/* poll(2) bits for the conversation right now. */
unsigned conv_poll_events(struct conv *c);
/* Keep ph as h's poll waiter (destroying an older one). */
void conv_set_pollhandle(struct handle *h, struct fuse_pollhandle *ph);

/* Answer what became answerable; true if more work is left for the next round. */
bool conv_service(struct conv_table *t);

#endif

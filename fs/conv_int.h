/* fs/conv_int.h — what the parts of a conversation share (conv.c, cmd.c, io.c, wait.c).
 * Not for the rest of the daemon: ops.c and loop.c use conv.h only. */
#ifndef FS_CONV_INT_H
#define FS_CONV_INT_H

#include "conv.h"

/* ---- parked requests (wait.c) ---------------------------------------------------------- */

enum wait_kind { W_READ, W_PEEK, W_WRITE, W_CONNECT, W_LISTEN };

struct wait {
	enum wait_kind kind;
	struct wait *next, *prev;
	struct wait_queue *queue;
	struct conv *conv;
	fuse_req_t req;
	size_t size;                 /* read: bytes asked; connect: the write count to answer */
	const char *buf;             /* write: the bytes not yet sent when it was parked */
	size_t len, off;             /* buf's length, and how much of it is in the send buffer */
	void *mem;                   /* the block buf lies in, freed with the wait */
	bool mem_is_rx;              /* mem is a FUSE receive buffer (conv_rx_put) */
	size_t done;                 /* write: the count to answer (all bytes taken so far) */
	struct fuse_file_info fi;    /* listen: the open to answer */
};

struct wait *wait_new(enum wait_kind kind, fuse_req_t req);
/* Free a wait that was never parked. */
void wait_free(struct wait *w);
/* Queue w on c and arm its interrupt.  Must be the last thing the caller does with w or c:
 * if the caller's signal came already, the interrupt is answered inside this call. */
void wait_park(struct conv *c, struct wait_queue *q, struct wait *w);
/* Disarm the interrupt before trying to answer w (w stays queued). */
void wait_hold(struct wait *w);
/* Could not answer after all: arm again.  As with wait_park, w may be gone afterwards. */
void wait_rearm(struct wait *w);
/* w was answered: take it off its queue and free it. */
void wait_done(struct wait *w);

/* ---- conversations (conv.c) -------------------------------------------------------------- */

void conv_mark_dirty(struct conv *c);
void conv_ref(struct conv *c);
/* At the last reference: the socket is let go and the number is free. */
void conv_unref(struct conv *c);
/* The lowest non-live conversation structure (not yet set up), or NULL. */
struct conv *conv_free_slot(struct conv_table *t);
/* Make c live around socket s, owned by uid/gid, with no references yet. */
void conv_setup(struct conv *c, uid_t uid, gid_t gid, struct tcp_sock *s);
void conv_remove_forward(struct conv *c);
/* Let go of the socket (FIN, or RST if unread data; a listener's queue is reset). */
void conv_release_socket(struct conv *c);
uint16_t conv_random_port(struct conv_table *t);
/* A parked write keeps the receive buffer its bytes arrived in instead of copying them
 * (up to 1 MiB per write): conv_rx_take() hands the loop's buffer to the caller and gives
 * the loop the spare one (or none: libfuse then allocates one); conv_rx_put() gives a
 * buffer back, kept as the spare, so a bulk writer cycles between two buffers. */
void *conv_rx_take(struct conv_table *t, const char *bytes, size_t len);
void conv_rx_put(struct conv_table *t, void *mem);

/* ---- errors (cmd.c) ---------------------------------------------------------------------- */

const char *conv_errno_text(int e);
void conv_set_err(struct conv *c, const char *text);

/* ---- answering parked requests (io.c) ------------------------------------------------------ */

void conv_serve_connects(struct conv *c);
void conv_serve_writers(struct conv *c);
void conv_serve_readers(struct conv *c);
/* May free c (a parked listen's reference was the last). */
void conv_serve_listeners(struct conv *c);

#endif

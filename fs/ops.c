/* fs/ops.c — FUSE low-level operations: the tree, opens and releases, and the dispatch of
 * reads, writes and polls to conversations (conv.c). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "stream.h"
#include "tree.h"

static struct netfsd *daemon_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct handle *handle_of(const struct fuse_file_info *fi)
{
	return (struct handle *)(uintptr_t)fi->fh;
}

/* How long the kernel may keep what it learnt.  Attributes never change during a node's
 * life: owner and mode are set when a conversation is made, and a reused number is a new
 * node (generation in the node id).  Entries of root, /tcp, clone, stats and of the files
 * inside a conversation directory never change either: that directory's node is one
 * conversation and dies with it.  Only /tcp/N moves, to whichever conversation has the
 * number now, so it stays at 0: invalidating it from the loop thread can deadlock
 * (fuse_lowlevel_notify_inval_entry waits for the directory lock a queued LOOKUP holds).
 * Caching saves a dial the LOOKUPs of tcp and clone, and an fstat (libnetfs-compat asks on
 * every socket call) its GETATTR. */
#define CACHE_TIMEOUT_S 86400.0

static bool is_static(fuse_ino_t ino)
{
	return ino == INO_ROOT || ino == INO_TCP || ino == INO_CLONE || ino == INO_STATS;
}

static double entry_timeout(fuse_ino_t node)
{
	fuse_ino_t ino = tree_node_ino(node);

	return is_static(ino) || tree_ino_file(ino) != NF_DIR ? CACHE_TIMEOUT_S : 0;
}

/* The fixed inode number of FUSE node id `node` (tree.h), or 0 if the node is gone: a
 * conversation whose number was freed, or taken by another conversation since.  *cp gets
 * the node's conversation (NULL for the static nodes). */
static fuse_ino_t node_ino(struct netfsd *d, fuse_ino_t node, struct conv **cp)
{
	fuse_ino_t ino = tree_node_ino(node);

	*cp = NULL;
	if (is_static(ino))
		return tree_node_gen(node) == 0 ? ino : 0;
	if (!tree_is_conv_ino(ino))
		return 0;
	struct conv *c = conv_get(&d->convs, tree_ino_conv(ino));

	if (!c || c->gen != tree_node_gen(node))
		return 0;
	*cp = c;
	return ino;
}

/* Attributes and generation of a node; -ENOENT if it does not exist (any more). */
static int node_attr(struct netfsd *d, fuse_ino_t node, struct stat *st, unsigned *gen)
{
	struct conv *c;
	fuse_ino_t ino = node_ino(d, node, &c);

	if (!ino)
		return -ENOENT;
	*gen = c ? c->gen : 1;
	tree_stat(ino, c ? c->uid : d->uid, c ? c->gid : d->gid, st);
	return 0;
}

/* The node id of parent's child called name, or 0. */
static fuse_ino_t lookup_child(struct netfsd *d, fuse_ino_t parent_node, const char *name)
{
	struct conv *c;
	fuse_ino_t parent = node_ino(d, parent_node, &c);

	if (parent == INO_ROOT)
		return strcmp(name, "tcp") == 0 ? INO_TCP : 0;
	if (parent == INO_TCP) {
		if (strcmp(name, "clone") == 0)
			return INO_CLONE;
		if (strcmp(name, "stats") == 0)
			return INO_STATS;
		long n = tree_parse_conv_name(name);

		c = n >= 0 ? conv_get(&d->convs, (unsigned long)n) : NULL;
		return c ? tree_node(tree_conv_ino(c->n, NF_DIR), c->gen) : 0;
	}
	if (c && tree_ino_file(parent) == NF_DIR) {
		enum net_file k = tree_file_lookup(name);

		return k != NF_DIR ? tree_node(tree_conv_ino(c->n, k), c->gen) : 0;
	}
	return 0;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct netfsd *d = daemon_of(req);
	struct fuse_entry_param e;
	unsigned gen;
	fuse_ino_t ino = lookup_child(d, parent, name);

	memset(&e, 0, sizeof(e));
	if (!ino || node_attr(d, ino, &e.attr, &gen) < 0)
		return (void)fuse_reply_err(req, ENOENT);
	e.ino = ino;
	e.generation = gen;
	e.entry_timeout = entry_timeout(ino);
	e.attr_timeout = CACHE_TIMEOUT_S;
	fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct netfsd *d = daemon_of(req);
	struct stat st;
	unsigned gen;

	/* Attributes are those of the node, also for an fd from clone or listen: the kernel
	 * passes the open file only on some paths (lseek, not fstat), and answering with
	 * another node's attributes there would rewrite the cached ones of clone or listen. */
	(void)fi;
	if (node_attr(d, ino, &st, &gen) < 0)
		return (void)fuse_reply_err(req, ENOENT);
	fuse_reply_attr(req, &st, CACHE_TIMEOUT_S);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	/* Truncation (echo cmd > ctl) and time updates are accepted and change nothing. */
	const int harmless = FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
			     FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME;

	(void)attr;
	if (to_set & ~harmless)
		return (void)fuse_reply_err(req, EPERM);
	op_getattr(req, ino, fi);
}

/* Directory listing: ".", "..", then the children; entry i has offset i + 1. */
struct dir_builder {
	fuse_req_t req;
	char *buf;
	size_t size, len;
	off_t want, next;
	bool full;
};

static void dir_add(struct dir_builder *b, const char *name, fuse_ino_t ino, mode_t mode)
{
	struct stat st = {.st_ino = ino, .st_mode = mode};

	b->next++;
	if (b->full || b->next <= b->want)
		return;
	size_t n = fuse_add_direntry(b->req, b->buf + b->len, b->size - b->len, name, &st, b->next);

	if (n > b->size - b->len) {
		b->full = true;
		return;
	}
	b->len += n;
}

static void op_readdir(fuse_req_t req, fuse_ino_t node, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct netfsd *d = daemon_of(req);
	struct dir_builder b = {.req = req, .size = size, .want = off};
	struct conv *c;
	fuse_ino_t ino = node_ino(d, node, &c);
	char name[16];

	(void)fi;
	b.buf = malloc(size);
	if (!b.buf)
		return (void)fuse_reply_err(req, ENOMEM);
	if (ino == INO_ROOT) {
		dir_add(&b, ".", INO_ROOT, S_IFDIR);
		dir_add(&b, "..", INO_ROOT, S_IFDIR);
		dir_add(&b, "tcp", INO_TCP, S_IFDIR);
	} else if (ino == INO_TCP) {
		dir_add(&b, ".", INO_TCP, S_IFDIR);
		dir_add(&b, "..", INO_ROOT, S_IFDIR);
		dir_add(&b, "clone", INO_CLONE, S_IFREG);
		dir_add(&b, "stats", INO_STATS, S_IFREG);
		for (unsigned n = 0; n < d->convs.nv; n++) {
			if (!conv_get(&d->convs, n))
				continue;
			snprintf(name, sizeof(name), "%u", n);
			dir_add(&b, name, tree_conv_ino(n, NF_DIR), S_IFDIR);
		}
	} else if (c && tree_ino_file(ino) == NF_DIR) {
		unsigned n = c->n;

		dir_add(&b, ".", ino, S_IFDIR);
		dir_add(&b, "..", INO_TCP, S_IFDIR);
		for (int k = NF_CTL; k < NF_COUNT; k++)
			dir_add(&b, tree_file_name((enum net_file)k), tree_conv_ino(n, (enum net_file)k),
				S_IFREG);
	} else {
		/* a file, or a node that is gone (ino 0) */
		bool is_file = ino != 0;

		free(b.buf);
		return (void)fuse_reply_err(req, is_file ? ENOTDIR : ENOENT);
	}
	fuse_reply_buf(req, b.buf, b.len);
	free(b.buf);
}

/* Answer an open with handle h; if the caller is gone meanwhile, drop the handle (the
 * kernel sends no RELEASE for an open it never got). */
static void reply_open(struct netfsd *d, fuse_req_t req, struct fuse_file_info *fi,
		       struct handle *h, bool stream)
{
	int r;

	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;           /* st_size is 0: every read and write must reach us */
	fi->nonseekable = stream;
	r = stream ? stream_reply_open(req, fi) : fuse_reply_open(req, fi);
	if (r != 0)
		handle_free(&d->convs, h);
}

static void open_text(struct netfsd *d, fuse_req_t req, struct fuse_file_info *fi,
		      struct conv *c, enum net_file k)
{
	struct handle *h = handle_new(&d->convs, H_TEXT, c);

	if (!h)
		return (void)fuse_reply_err(req, ENOMEM);
	h->file = k;
	handle_refresh_text(&d->convs, h);
	reply_open(d, req, fi, h, false);
}

/* Owner, root, or a member of the conversation's group, also through a supplementary
 * group (fuse_req_getgroups reads /proc, so only when the cheap checks failed). */
static bool caller_may_use(fuse_req_t req, const struct conv *c)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	gid_t small[64], *groups = small;
	bool member = false;
	int n;

	if (conv_is_owner(c, ctx->uid, ctx->gid))
		return true;
	n = fuse_req_getgroups(req, 64, small);
	if (n > 64) {
		groups = malloc(sizeof(*groups) * (size_t)n);
		n = groups ? fuse_req_getgroups(req, n, groups) : -ENOMEM;
	}
	for (int i = 0; i < n && !member; i++)
		member = groups[i] == c->gid;
	if (groups != small)
		free(groups);
	return member;
}

static void open_conv_file(struct netfsd *d, fuse_req_t req, struct fuse_file_info *fi,
			   fuse_ino_t ino, struct conv *c)
{
	enum net_file k = tree_ino_file(ino);
	bool nonblock = fi->flags & O_NONBLOCK;
	enum handle_kind kind;

	if (k == NF_DIR)
		return (void)fuse_reply_err(req, EISDIR);
	if (tree_file_is_private(k) && !caller_may_use(req, c))
		return (void)fuse_reply_err(req, EACCES);
	if (!tree_file_is_private(k)) {
		if ((fi->flags & O_ACCMODE) != O_RDONLY)
			return (void)fuse_reply_err(req, EACCES);
		return open_text(d, req, fi, c, k);
	}
	switch (k) {
	case NF_LISTEN:
		return conv_listen(c, req, fi, nonblock);
	case NF_DATA:
		kind = H_DATA;
		break;
	case NF_PEEK:
		kind = H_PEEK;
		break;
	case NF_ERR:
		kind = H_ERR;
		break;
	default:
		kind = H_CTL;
		break;
	}
	struct handle *h = handle_new(&d->convs, kind, c);

	if (!h)
		return (void)fuse_reply_err(req, ENOMEM);
	reply_open(d, req, fi, h, kind == H_DATA || kind == H_PEEK);
}

static void op_open(fuse_req_t req, fuse_ino_t node, struct fuse_file_info *fi)
{
	struct netfsd *d = daemon_of(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct conv *c;
	fuse_ino_t ino = node_ino(d, node, &c);

	switch (ino) {
	case INO_ROOT:
	case INO_TCP:
		return (void)fuse_reply_err(req, EISDIR);
	case INO_STATS:
		if ((fi->flags & O_ACCMODE) != O_RDONLY)
			return (void)fuse_reply_err(req, EACCES);
		return open_text(d, req, fi, NULL, NF_DIR);
	case INO_CLONE: {
		struct conv *c = conv_alloc(&d->convs, ctx->uid, ctx->gid);
		struct handle *h = c ? handle_new(&d->convs, H_CTL, c) : NULL;

		if (!c)
			return (void)fuse_reply_err(req, ENFILE);
		if (!h) {
			conv_free_unused(c);
			return (void)fuse_reply_err(req, ENOMEM);
		}
		return reply_open(d, req, fi, h, false);
	}
	}
	if (!c)
		return (void)fuse_reply_err(req, ENOENT);
	open_conv_file(d, req, fi, ino, c);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	handle_free(&daemon_of(req)->convs, handle_of(fi));
	fuse_reply_err(req, 0);
}

/* Text files are served from the handle's snapshot, refreshed when read from the start. */
static void read_text(struct netfsd *d, fuse_req_t req, struct handle *h, size_t size, off_t off)
{
	if (off == 0)
		handle_refresh_text(&d->convs, h);
	if (off < 0 || (size_t)off >= h->text_len)
		return (void)fuse_reply_buf(req, NULL, 0);
	size_t n = h->text_len - (size_t)off;

	fuse_reply_buf(req, h->text + off, n < size ? n : size);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	bool nonblock = fi->flags & O_NONBLOCK;

	(void)ino;
	switch (h->kind) {
	case H_DATA:
		return conv_read(h->conv, req, size, nonblock, false);
	case H_PEEK:
		return conv_read(h->conv, req, size, nonblock, true);
	default:
		return read_text(daemon_of(req), req, h, size, off);
	}
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	bool nonblock = fi->flags & O_NONBLOCK;

	(void)ino;
	(void)off;  /* ctl commands and data ignore offsets */
	switch (h->kind) {
	case H_CTL:
		return conv_ctl_write(h->conv, req, buf, size, nonblock);
	case H_DATA:
		return conv_write(h->conv, req, buf, size, nonblock);
	default:
		return (void)fuse_reply_err(req, EINVAL);
	}
}

static void op_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	struct handle *h = handle_of(fi);

	(void)ino;
	if (h->kind == H_TEXT) {
		if (ph)
			fuse_pollhandle_destroy(ph);  /* always ready: nobody needs waking */
		return (void)fuse_reply_poll(req, POLLIN | POLLRDNORM);
	}
	if (ph)
		conv_set_pollhandle(h, ph);
	fuse_reply_poll(req, conv_poll_events(h->conv));
}

const struct fuse_lowlevel_ops netfs_ops = {
	.lookup = op_lookup,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readdir = op_readdir,
	.open = op_open,
	.release = op_release,
	.read = op_read,
	.write = op_write,
	.poll = op_poll,
};

/* fs/tree.h — the shape of the /net tree: inode numbers, names, modes.
 *
 * Inode numbers are fixed so that a program holding an fd can tell what it is from fstat
 * alone (libnetfs-compat relies on this; netfs(4) documents it):
 *   1 root, 2 /tcp, 3 /tcp/clone, 4 /tcp/stats,
 *   conversation N's files: TREE_CONV_BASE + N*16 + k, k = enum net_file.
 * Those are the st_ino the kernel shows.  FUSE node ids (what the kernel caches and sends
 * back) carry the conversation's generation above them, so a reused number never brings
 * back a node id the kernel still holds for the old conversation: the kernel would take
 * that for a reused inode, mark its cached one bad, and callers still on it (a cwd, a
 * racing lookup) would get EIO instead of ENOENT.
 */
#ifndef FS_TREE_H
#define FS_TREE_H

#include <stdbool.h>
#include <sys/stat.h>

#include <fuse_lowlevel.h>  /* FUSE_USE_VERSION comes from fs/meson.build */

#define INO_ROOT  1
#define INO_TCP   2
#define INO_CLONE 3
#define INO_STATS 4
#define TREE_CONV_BASE 0x10000u

enum net_file {
	NF_DIR = 0,
	NF_CTL = 1,
	NF_DATA = 2,
	NF_ERR = 3,
	NF_LISTEN = 4,
	NF_LOCAL = 5,
	NF_REMOTE = 6,
	NF_STATUS = 7,
	NF_PEEK = 8,
	NF_COUNT
};

static inline fuse_ino_t tree_conv_ino(unsigned n, enum net_file k)
{
	return TREE_CONV_BASE + (fuse_ino_t)n * 16 + k;
}

static inline bool tree_is_conv_ino(fuse_ino_t ino)
{
	return ino >= TREE_CONV_BASE && (ino - TREE_CONV_BASE) % 16 < NF_COUNT;
}

static inline unsigned tree_ino_conv(fuse_ino_t ino)
{
	return (unsigned)((ino - TREE_CONV_BASE) / 16);
}

static inline enum net_file tree_ino_file(fuse_ino_t ino)
{
	return (enum net_file)((ino - TREE_CONV_BASE) % 16);
}

/* Node id of fixed inode ino in generation gen (0 for root, /tcp, clone, stats). */
static inline fuse_ino_t tree_node(fuse_ino_t ino, unsigned gen)
{
	return ino | (fuse_ino_t)gen << 32;
}

static inline fuse_ino_t tree_node_ino(fuse_ino_t node)
{
	return node & 0xffffffffu;
}

static inline unsigned tree_node_gen(fuse_ino_t node)
{
	return (unsigned)(node >> 32);
}

/* "ctl", "data", ... for k >= NF_CTL. */
const char *tree_file_name(enum net_file k);
/* The file called name inside a conversation directory, or NF_DIR if none. */
enum net_file tree_file_lookup(const char *name);
/* Files that keep a conversation alive and are for its owner only. */
bool tree_file_is_private(enum net_file k);

/* Parse a conversation directory name: decimal, no sign, no leading zero.  -1 if not one. */
long tree_parse_conv_name(const char *name);

/* Attributes of a node.  uid/gid: the owner (daemon's for root, /tcp, clone, stats). */
void tree_stat(fuse_ino_t ino, uid_t uid, gid_t gid, struct stat *st);

#endif

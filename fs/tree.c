/* fs/tree.c — names, modes and attributes of the /net tree (see tree.h). */
#include "tree.h"

#include <string.h>
#include <time.h>

static const char *const file_names[NF_COUNT] = {
	[NF_CTL] = "ctl",       [NF_DATA] = "data",     [NF_ERR] = "err",
	[NF_LISTEN] = "listen", [NF_LOCAL] = "local",   [NF_REMOTE] = "remote",
	[NF_STATUS] = "status", [NF_PEEK] = "peek",
};

const char *tree_file_name(enum net_file k)
{
	return k > NF_DIR && k < NF_COUNT ? file_names[k] : NULL;
}

enum net_file tree_file_lookup(const char *name)
{
	for (int k = NF_CTL; k < NF_COUNT; k++)
		if (strcmp(name, file_names[k]) == 0)
			return (enum net_file)k;
	return NF_DIR;
}

bool tree_file_is_private(enum net_file k)
{
	return k == NF_CTL || k == NF_DATA || k == NF_ERR || k == NF_LISTEN || k == NF_PEEK;
}

long tree_parse_conv_name(const char *name)
{
	long n = 0;
	size_t len = strlen(name);

	if (len == 0 || len > 6 || (len > 1 && name[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		n = n * 10 + (name[i] - '0');
	}
	return n;
}

static mode_t node_mode(fuse_ino_t ino)
{
	switch (ino) {
	case INO_ROOT:
	case INO_TCP:
		return S_IFDIR | 0555;
	case INO_CLONE:
		return S_IFREG | 0666;
	case INO_STATS:
		return S_IFREG | 0444;
	}
	switch (tree_ino_file(ino)) {
	case NF_DIR:
		return S_IFDIR | 0555;
	case NF_LOCAL:
	case NF_REMOTE:
	case NF_STATUS:
		return S_IFREG | 0444;
	default:
		return S_IFREG | 0660;
	}
}

void tree_stat(fuse_ino_t ino, uid_t uid, gid_t gid, struct stat *st)
{
	static time_t birth;

	if (!birth)
		birth = time(NULL);
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = node_mode(ino);
	st->st_nlink = S_ISDIR(st->st_mode) ? 2 : 1;
	st->st_uid = uid;
	st->st_gid = gid;
	st->st_blksize = 4096;
	st->st_atime = st->st_mtime = st->st_ctime = birth;
}

/* fs/options.h — netfsd's command line. */
#ifndef FS_OPTIONS_H
#define FS_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <fuse_lowlevel.h>  /* FUSE_USE_VERSION comes from fs/meson.build */

#define OPT_DEFAULT_MTU 65520

struct netfsd_opts {
	struct fuse_cmdline_opts fuse;  /* -f, -d, -h, -V, mountpoint */
	unsigned mtu;
	uint32_t net, netmask;           /* the namespace network, host order */
	uint32_t hostfwd_addr;
	bool no_host_loopback;
};

/* Parse argv into o; what is left in args goes to fuse_session_new (e.g. -o allow_other).
 * 0 on success, -1 after printing an error. */
int options_parse(struct fuse_args *args, struct netfsd_opts *o);
void options_usage(const char *prog);

/* "A.B.C.D/len" (host bits zero, len 8..28) -> net and mask.  0 or -1. */
int options_parse_net(const char *s, uint32_t *net, uint32_t *mask);
/* "A.B.C.D" -> host order.  0 or -1. */
int options_parse_ip(const char *s, uint32_t *ip);

/* Addresses in the namespace network. */
static inline uint32_t options_our_addr(const struct netfsd_opts *o) { return o->net | 15; }
static inline uint32_t options_host_addr(const struct netfsd_opts *o) { return o->net | 2; }
static inline uint32_t options_dns_addr(const struct netfsd_opts *o) { return o->net | 3; }

#endif

/* compat_addr.c — "ip!port" texts, sockaddr_in, and the caller's memory.
 *
 * A bad pointer from the caller must give EFAULT, as the kernel does, never a crash inside
 * the library.  process_vm_readv/writev on our own pid copies through the kernel, which
 * reports a bad address instead of faulting.  Where those calls are forbidden (seccomp) we
 * fall back to plain copies: a bad pointer then crashes as it would in libc's own code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "compat.h"

int compat_addr_parse(const char *text, struct sockaddr_in *sin)
{
	char ip[32];
	const char *bang = strchr(text, '!');
	char *end;
	unsigned long port;

	if (!bang || (size_t)(bang - text) >= sizeof(ip))
		goto bad;
	memcpy(ip, text, (size_t)(bang - text));
	ip[bang - text] = '\0';
	port = strtoul(bang + 1, &end, 10);
	if (end == bang + 1 || port > 65535)
		goto bad;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1)
		goto bad;
	return 0;
bad:
	errno = EIO;  /* the daemon wrote something we cannot read */
	return -1;
}

/* The daemon reads "0.0.0.0" as that literal address, but "*" as "any address", which is
 * what INADDR_ANY means to a socket (and what makes an announced port reachable from the
 * host). */
void compat_addr_format(const struct sockaddr_in *sin, char *buf, size_t size)
{
	char ip[INET_ADDRSTRLEN] = "*";

	if (sin->sin_addr.s_addr != htonl(INADDR_ANY))
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
	snprintf(buf, size, "%s!%u", ip, ntohs(sin->sin_port));
}

static int compat_umem_copy(void *dst, const void *src, size_t n, bool to_user)
{
	struct iovec local = { to_user ? (void *)src : dst, n };
	struct iovec remote = { to_user ? dst : (void *)src, n };
	ssize_t r;

	if (n == 0)
		return 0;
	r = to_user ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0)
		    : process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (r == (ssize_t)n)
		return 0;
	if (r < 0 && (errno == ENOSYS || errno == EPERM)) {
		memcpy(dst, src, n);
		return 0;
	}
	errno = EFAULT;  /* a short copy means the range ran into a bad page */
	return -1;
}

int compat_umem_read(void *dst, const void *user_src, size_t n)
{
	return compat_umem_copy(dst, user_src, n, false);
}

int compat_umem_write(void *user_dst, const void *src, size_t n)
{
	return compat_umem_copy(user_dst, src, n, true);
}

int compat_addr_to_user(const void *kaddr, socklen_t klen, struct sockaddr *uaddr,
			socklen_t *ulen)
{
	int len;

	if (compat_umem_read(&len, ulen, sizeof(len)) < 0)
		return -1;
	if (len > (int)klen)
		len = (int)klen;
	if (len < 0) {
		errno = EINVAL;
		return -1;
	}
	if (len > 0 && compat_umem_write(uaddr, kaddr, (size_t)len) < 0)
		return -1;
	return compat_umem_write(ulen, &klen, sizeof(klen));
}

int compat_addr_from_user(struct sockaddr_storage *k, const struct sockaddr *uaddr,
			  socklen_t len)
{
	if ((int)len < 0 || len > sizeof(*k)) {
		errno = EINVAL;
		return -1;
	}
	memset(k, 0, sizeof(*k));
	return compat_umem_read(k, uaddr, len);
}

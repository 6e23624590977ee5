/* tests/link/hostpeer.h — the host side of a transfer: a plain non-blocking kernel socket
 * on 127.0.0.1, driven by the test's poll loop. */
#ifndef TESTS_LINK_HOSTPEER_H
#define TESTS_LINK_HOSTPEER_H

#include <stdint.h>

#include "stream.h"

struct hostpeer {
	int fd;          /* -1 until connected/accepted */
	struct stream s;
	char err[240];
};

/* A listening socket on 127.0.0.1 with a kernel-chosen port; -1 and err on failure. */
int hostpeer_listen(uint16_t *port, char *err, size_t errlen);
/* Accept one connection from a listening socket into p (non-blocking). 1 done, 0 not yet,
 * -1 error. */
int hostpeer_accept(struct hostpeer *p, int lfd);
/* Non-blocking connect to 127.0.0.1:port. 0 or -1. */
int hostpeer_connect(struct hostpeer *p, uint16_t port);

/* poll() events p wants now (0 when it is finished). */
short hostpeer_events(const struct hostpeer *p);
/* Move data after poll(); -1 with p->err (or p->s.err) on failure. */
int hostpeer_io(struct hostpeer *p, short revents);

void hostpeer_close(struct hostpeer *p);

#endif

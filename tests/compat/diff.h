/* tests/compat/diff.h — shared parts of the differential test (diff.c has the overview):
 * result formatting, socket helpers, and the cases of diff_accept.c, diff_conn.c and
 * diff_data.c, each printing one line per check. */
#ifndef TESTS_COMPAT_DIFF_H
#define TESTS_COMPAT_DIFF_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 5000  /* the bound of every wait for a condition */

extern int base_port;
/* Addresses that are never mapped: the calls must fail with EFAULT, never crash. */
extern void *volatile bad_ptr;
#define BAD_LEN ((socklen_t *)bad_ptr)
#define BAD_ADDR ((struct sockaddr *)bad_ptr)
/* Sanitizer runtimes read *addrlen / *optlen in their own interceptors before the call and
 * crash on a bad one (by design); run_diff.sh sets DIFF_NO_FAULTS=1 in sanitized builds and
 * both runs print "skipped" for those cases. */
extern int faults;
#define FAULT(call) (faults ? R(call) : "skipped")
extern int next_port;  /* each case that listens takes a fresh port */

#define R(call) ({ errno = 0; long r_ = (long)(call); res(r_, errno); })
/* fd results: "fd" instead of the number. */
#define RFD(call) ({ errno = 0; long r_ = (long)(call); r_ >= 0 ? "fd" : res(r_, errno); })

void out(const char *name, const char *fmt, ...);
const char *res(long r, int err);
const char *events(int ev);
const char *port_name(int port);
const char *addr_name(const struct sockaddr_in *a);
struct sockaddr_in loop_addr(int port);
void die(const char *what);
int tcp(int flags);
int listener_on(int port, int flags);
int listener(int flags, int *port);
int dial(int port);
int readable(int fd, int ms);
void queued(int l);
int take(int l);
int lowest_free_fd(void);
extern int sigcount;
void on_signal(int sig);
extern int signal_pipe;
void on_signal_pipe(int sig);
void handle(int sig, void (*fn)(int), int flags);
void alarm_ms(int ms);
int sock_error(int s);
void case_accept_checks(void);
void case_accept_eagain(void);
void case_accept_signals(void);
void case_accept_faults(void);
void case_accept_emfile(void);
void case_accept_addrlen(void);
void case_accept_flags(void);
void case_accept_peer(void);
void case_listener_readiness(void);
void case_bind(void);
void case_listen(void);
void case_connect(void);
void case_connect_retry(void);
void case_connect_nonblocking(void);
void case_poll_states(void);
void case_ports(void);
void case_names(void);
void case_half_close(void);
void case_peek_dontwait(void);
void case_msg(void);
void case_recv_signals(void);
void case_unconnected_io(void);
void case_reset(void);
void case_sockopts(void);
void case_fd_sharing(void);
void case_more_io(void);
void case_epoll_edge(void);
void case_passing(const char *self);
void case_other_families(void);

#endif

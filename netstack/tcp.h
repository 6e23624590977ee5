/* netstack/tcp.h — the socket-like TCP API that fs/ (and tests) use.
 *
 * A struct tcp_sock is owned by its user from tcp_open() (or tcp_accept()) until tcp_close().
 * After tcp_close() the user must not touch it again; the stack finishes the connection
 * (FIN, TIME_WAIT, ...) on its own and frees it.
 *
 * Readiness is level-triggered: tcp_poll() says what a call would do now.  Whenever it may
 * have changed (data or FIN arrived, send room opened, connect finished or failed, a
 * connection entered the accept queue, a reset) the stack calls the socket's event callback.
 * The callback must not call back into the stack (see stack.h): mark and act later.
 * Spurious callbacks are allowed; missed ones are bugs.
 *
 * Errors are returned as negative errno values.
 */
#ifndef NETSTACK_TCP_H
#define NETSTACK_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "stack.h"

enum tcp_state {
	TCP_CLOSED,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RECEIVED,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
};

/* Plan 9 state names: "Closed" "Listen" "Syn_sent" "Syn_received" "Established" "Finwait1"
 * "Finwait2" "Close_wait" "Closing" "Last_ack" "Time_wait". */
const char *tcp_state_name(enum tcp_state s);

/* tcp_poll() bits */
#define TCP_EV_IN   0x01u  /* recv would not block: data, EOF, or error; listener: accept queue non-empty */
#define TCP_EV_OUT  0x02u  /* send would not block (room, or an error to report); connecting: established */
#define TCP_EV_ERR  0x04u  /* a pending error (tcp_error) */
#define TCP_EV_HUP  0x08u  /* both directions finished (peer FIN received and our FIN sent), or reset */
#define TCP_EV_RDHUP 0x10u /* peer sent FIN */

struct tcp_sock;
typedef void (*tcp_event_fn)(void *user, struct tcp_sock *s);

struct tcp_sock *tcp_open(struct ns_stack *st, tcp_event_fn ev, void *user);
/* Sockets from tcp_accept() start with no callback: set one with this. */
void tcp_set_user(struct tcp_sock *s, tcp_event_fn ev, void *user);
void *tcp_user(const struct tcp_sock *s);

/* Local address: addr 0 = any local address; port 0 = pick an ephemeral port now.
 * -EADDRINUSE, -EADDRNOTAVAIL (addr not ours), -EINVAL (already bound / wrong state). */
int tcp_bind(struct tcp_sock *s, uint32_t addr, uint16_t port);

/* Active open: sends SYN and returns 0; the outcome arrives as an event (tcp_state() ==
 * TCP_ESTABLISHED, or tcp_error() != 0: -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH, ...).
 * Binds an ephemeral port if unbound.  -EISCONN if already connected/listening, -EINVAL for
 * bad addresses (0.0.0.0, port 0), -EALREADY if a connect is in progress. */
int tcp_connect(struct tcp_sock *s, uint32_t addr, uint16_t port);

/* Passive open on the bound port (binds an ephemeral port if unbound).  backlog bounds the
 * accept queue (values <= 0 mean 1; clamped to 4096); may be called again to change it. */
int tcp_listen(struct tcp_sock *s, int backlog);

/* The oldest fully established connection of a listener, or NULL if none waits.  A
 * connection reset while queued is still returned (its reads then fail with -ECONNRESET). */
struct tcp_sock *tcp_accept(struct tcp_sock *listener);
size_t tcp_accept_queue_len(const struct tcp_sock *listener);

/* Copy up to len bytes into the send buffer.  Returns the count (> 0), -EAGAIN when the buffer
 * is full, -EPIPE after shutdown(WR)/close, -ECONNRESET after a reset, -ENOTCONN before the
 * connection is established, or the pending error. */
ssize_t tcp_send(struct tcp_sock *s, const void *buf, size_t len);
/* Room in the send buffer right now. */
size_t tcp_send_space(const struct tcp_sock *s);

#define TCP_RECV_PEEK 0x1
/* Copy up to len received bytes.  Returns > 0, 0 at EOF (every time, after the peer's FIN),
 * -EAGAIN when nothing is buffered yet, -ECONNRESET after a reset (once the data that
 * arrived before it has been read, as on Linux), -ENOTCONN if never connected.  Reading
 * opens the receive window (a window update goes out when it matters). */
ssize_t tcp_recv(struct tcp_sock *s, void *buf, size_t len, int flags);
size_t tcp_recv_available(const struct tcp_sock *s);

/* Reading without the copy: the first bytes (at most len) where they lie in the receive
 * buffer, in up to two pieces (it is a ring).  Returns how many iov entries it filled, 0 if
 * nothing is buffered (tcp_recv says whether that means EOF, an error or "wait").  The
 * pieces stay valid until the next tcp_* or ns_* call.  tcp_recv_consume() then takes n of
 * those bytes (n <= tcp_recv_available()) as a tcp_recv() of n bytes would have. */
int tcp_recv_spans(const struct tcp_sock *s, size_t len, struct iovec iov[2]);
void tcp_recv_consume(struct tcp_sock *s, size_t n);

/* how: SHUT_RD, SHUT_WR or SHUT_RDWR from <sys/socket.h>.  SHUT_WR sends FIN after queued data. */
int tcp_shutdown(struct tcp_sock *s, int how);

/* The user lets go.  Established: FIN after queued data, or RST if unread data remains (as
 * Linux does).  Listener: queued and half-open connections are reset.  No more callbacks. */
void tcp_close(struct tcp_sock *s);

/* Send RST now (if there is a peer) and drop all queues; the socket stays valid (CLOSED, with
 * error -ECONNRESET for later calls) until tcp_close(). */
void tcp_abort(struct tcp_sock *s);

unsigned tcp_poll(const struct tcp_sock *s);
enum tcp_state tcp_state(const struct tcp_sock *s);

/* Pending error as a negative errno (0 if none).  clear=true resets it (SO_ERROR semantics);
 * the socket still reports the terminal condition through send/recv afterwards. */
int tcp_error(struct tcp_sock *s, bool clear);

void tcp_local(const struct tcp_sock *s, uint32_t *addr, uint16_t *port);
void tcp_remote(const struct tcp_sock *s, uint32_t *addr, uint16_t *port);

enum tcp_opt {
	TCP_OPT_NODELAY,    /* 0/1: Nagle off when 1 */
	TCP_OPT_KEEPALIVE,  /* idle ms before probes; 0 = off */
	TCP_OPT_SNDBUF,     /* bytes */
	TCP_OPT_RCVBUF,     /* bytes */
	TCP_OPT_TTL,
	TCP_OPT_TOS,
};
int tcp_setopt(struct tcp_sock *s, enum tcp_opt opt, long val);
long tcp_getopt(const struct tcp_sock *s, enum tcp_opt opt);

/* One line: the Plan 9 state name first, then "key value" fields (queued bytes each way,
 * srtt, rttvar, rto, cwnd, ssthresh, snd_wnd, rcv_wnd, retrans), ending in '\n'.
 * snprintf-style return value. */
size_t tcp_format_status(const struct tcp_sock *s, char *buf, size_t n);

#endif

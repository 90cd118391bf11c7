/*
 * tcp-peer.c: the reader's side of a TCP connection, as the kernel sees
 * it (see tcp-peer.h).
 *
 * Linux's tcp_info counts the bytes the peer acknowledged (bytes_acked)
 * and the bytes received from it, its FIN counting one (bytes_received);
 * SIOCOUTQ gives the bytes written but not yet acknowledged, SIOCINQ the
 * bytes received but not yet read (and takes the socket's lock, which
 * tcp_info does only after reading the state).  A connection in
 * TCP_CLOSE has been reset (or timed out): we never close it fully while
 * we look at it.
 */
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "tcp-peer.h"

/* tcpi_state values (include/net/tcp_states.h, the kernel's ABI): the
 * header with tcp_info's newer fields does not name them. */
enum { STATE_ESTABLISHED = 1, STATE_CLOSE = 7 };

/* The tcp_info fields read here end with tcpi_bytes_received (Linux
 * 4.1); an older kernel gives a shorter struct. */
#define INFO_NEEDED	(offsetof(struct tcp_info, tcpi_bytes_received) + \
			 sizeof(((struct tcp_info *)0)->tcpi_bytes_received))

/* Reads tcp_info; 0, or -1 when the kernel does not give enough. */
static int
read_info(int fd, struct tcp_info *ti)
{
	socklen_t	len = sizeof *ti;

	memset(ti, 0, sizeof *ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len) != 0 ||
	    len < INFO_NEEDED)
		return -1;
	return 0;
}

/* Looks at the TCP connection on fd (see tcp-peer.h). */
void
rh_tcp_peer(int fd, struct rh_peer *p)
{
	struct tcp_info	ti;
	int		outq, again, inq, tries;

	memset(p, 0, sizeof *p);
	if (fd < 0)
		return;
	/* tcp_info's state is read without the socket's lock, and a reset
	 * or FIN being taken in on another CPU sets the error (or the end
	 * of input) that wakes the loop before it sets the state: a
	 * connection that ends as we look could still say ESTABLISHED.
	 * SIOCINQ takes the lock, so whatever the kernel was doing to the
	 * socket is done once it returns. */
	(void)ioctl(fd, SIOCINQ, &inq);
	/* Unacknowledged bytes before and after: when they agree, no ack
	 * came in between and acked + outq is exactly what was written. */
	for (tries = 0; tries < 4; tries++) {
		if (ioctl(fd, SIOCOUTQ, &outq) != 0 || read_info(fd, &ti) != 0 ||
		    ioctl(fd, SIOCOUTQ, &again) != 0)
			return;
		if (outq == again)
			break;
	}
	if (ioctl(fd, SIOCINQ, &inq) != 0)
		inq = 0;
	p->acked = (int64_t)ti.tcpi_bytes_acked;
	p->written = p->acked + outq;
	p->received = (int64_t)ti.tcpi_bytes_received;
	p->unread = inq;
	if (ti.tcpi_state == STATE_ESTABLISHED)
		p->state = RH_PEER_OPEN;
	else if (ti.tcpi_state == STATE_CLOSE)
		p->state = RH_PEER_RESET;
	else	/* CLOSE_WAIT, LAST_ACK, FIN_WAIT*, CLOSING, TIME_WAIT */
		p->state = RH_PEER_CLOSED;
}

#!/usr/bin/env python3
"""Writes the seed corpora corpus/frames/ and corpus/ctl/ (committed; rerun after changing
the record format of fuzz_frames.c).  Frame records: u8 op, u8 tick, u16 len, frame."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
STACK_MAC = bytes.fromhex('525400123456')
GW_MAC = bytes.fromhex('52550a000202')
BCAST = b'\xff' * 6
STACK_IP = bytes([10, 0, 2, 15])
GW_IP = bytes([10, 0, 2, 2])
PEER_PORT, LISTEN_PORT = 40000, 80
CSUM, REL, CONN, LEN, SEND, RECV, CLOSE, OPT = 1, 2, 4, 8, 16, 32, 64, 128


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(proto, payload, src=GW_IP, dst=STACK_IP, frag=0, ttl=64):
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 1, frag, ttl, proto, 0,
                      src, dst)
    hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
    return eth(0x0800, hdr + payload)


def eth(ethertype, payload, dst=STACK_MAC, src=GW_MAC):
    return dst + src + struct.pack('!H', ethertype) + payload


def tcp(seq, ack, flags, payload=b'', sport=PEER_PORT, dport=LISTEN_PORT, opts=b'',
        win=65535):
    off = (20 + len(opts)) // 4
    hdr = struct.pack('!HHIIBBHHH', sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                      off << 4, flags, win, 0, 0) + opts
    pseudo = GW_IP + STACK_IP + struct.pack('!BBH', 0, 6, len(hdr) + len(payload))
    c = csum(pseudo + hdr + payload)
    return ipv4(6, hdr[:16] + struct.pack('!H', c) + hdr[18:] + payload)


def udp(dport, payload):
    hdr = struct.pack('!HHHH', 5353, dport, 8 + len(payload), 0)
    pseudo = GW_IP + STACK_IP + struct.pack('!BBH', 0, 17, len(hdr) + len(payload))
    c = csum(pseudo + hdr + payload) or 0xffff
    return ipv4(17, hdr[:6] + struct.pack('!H', c) + payload)


def icmp(typ, code, rest):
    body = struct.pack('!BBH', typ, code, 0) + rest
    return ipv4(1, body[:2] + struct.pack('!H', csum(body)) + body[4:])


def arp(op, sha, spa, tha, tpa, dst):
    return eth(0x0806, struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, op, sha, spa, tha, tpa),
               dst=dst)


def rec(op, tick, frame):
    return struct.pack('!BBH', op, tick, len(frame)) + frame


FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16
MSS = b'\x02\x04\x05\xb4'
ALL_OPTS = MSS + b'\x01\x03\x03\x07' + b'\x04\x02' + b'\x08\x0a' + b'\0' * 8 + b'\x00\x00'
REL_SEG = REL | CONN | CSUM   # seq/ack as offsets on the established connection
ALL = 0xffffffff              # with REL: acknowledge everything the stack sent


def frames():
    quoted = tcp(0, 0, ACK)[14:14 + 28]  # IP header + 8 bytes of TCP, for ICMP errors
    return {
        'arp-request': rec(0, 0, arp(1, GW_MAC, GW_IP, b'\0' * 6, STACK_IP, BCAST)),
        'arp-reply': rec(0, 0, arp(2, GW_MAC, GW_IP, STACK_MAC, STACK_IP, STACK_MAC)),
        'syn-new': rec(RECV, 0x01, tcp(7000, 0, SYN, sport=40001, opts=MSS)),
        'syn-all-options': rec(RECV, 0, tcp(9000, 0, SYN, sport=40002, opts=ALL_OPTS)),
        'syn-closed-port': rec(0, 0, tcp(5000, 0, SYN, dport=81, opts=MSS)),
        'syn-ack-unexpected': rec(REL_SEG, 0, tcp(0, ALL, SYN | ACK, opts=MSS)),
        'data': rec(REL_SEG | RECV, 0x01, tcp(0, ALL, ACK | PSH, b'hello, stack\n')),
        'data-out-of-order': rec(REL_SEG, 0x02, tcp(100, 0, ACK, b'x' * 100)),
        'data-old': rec(REL_SEG, 0, tcp(-50 & 0xffffffff, 0, ACK, b'y' * 60)),
        'fin': rec(REL_SEG | RECV, 0x10, tcp(0, ALL, FIN | ACK)),
        'rst': rec(REL_SEG, 0, tcp(0, 0, RST)),
        'rst-in-window': rec(REL_SEG, 0, tcp(5, 0, RST | ACK)),
        'ack-future': rec(REL_SEG, 0, tcp(0, 100000, ACK)),
        'zero-window': rec(REL_SEG | SEND, 0x31, tcp(0, ALL, ACK, win=0)),
        'icmp-echo': rec(0, 0, icmp(8, 0, struct.pack('!HH', 1, 1) + b'ping')),
        'icmp-port-unreachable': rec(0, 0, icmp(3, 3, b'\0' * 4 + quoted)),
        'udp': rec(0, 0, udp(53, b'\x12\x34' + b'\0' * 10)),
        'ip-fragment': rec(0, 0, ipv4(6, b'\0' * 24, frag=0x2000)),
        'ip-bad-ihl': rec(LEN, 0, eth(0x0800, b'\x4f' + b'\0' * 40)),
        'runt': rec(0, 0, b'\x52\x54\x00'),
        'clock-only': rec(0, 0xff, b''),
        # A whole exchange: data both ways, acks, the peer's FIN, our close, time passing.
        'session': b''.join([
            rec(REL_SEG | RECV | SEND, 0x01, tcp(0, ALL, ACK | PSH, b'GET / HTTP/1.0\r\n\r\n')),
            rec(REL_SEG, 0x01, tcp(0, ALL, ACK)),
            rec(REL_SEG | RECV, 0x11, tcp(0, ALL, FIN | ACK)),
            rec(CLOSE, 0x01, b''),
            rec(REL_SEG, 0x01, tcp(0, ALL, ACK)),
            rec(0, 0xf8, b''),
        ]),
        # Several segments in flight, the first lost: dupacks, a partial ack, then all.
        'fast-retransmit': b''.join([
            rec(OPT, 0x06, b''),          # nodelay on: no Nagle hold-back
            rec(SEND, 0x2a, b''),         # 4075 bytes
            rec(SEND, 0x2a, b''),
            rec(SEND, 0x2a, b''),
            rec(REL_SEG, 0, tcp(0, 0, ACK)),
            rec(REL_SEG, 0, tcp(0, 0, ACK)),
            rec(REL_SEG, 0, tcp(0, 0, ACK)),
            rec(REL_SEG, 0, tcp(0, 0, ACK)),
            rec(REL_SEG, 0x01, tcp(0, 1460, ACK)),
            rec(REL_SEG, 0x01, tcp(0, ALL, ACK)),
        ]),
        'loss-and-timers': b''.join([
            rec(SEND, 0x01, b''),
            rec(SEND, 0x41, b''),
            rec(0, 0xa1, b''),            # 1 s later: a retransmission timeout
            rec(REL_SEG, 0x01, tcp(0, 100, ACK)),
            rec(REL_SEG, 0x01, tcp(0, 0, ACK)),
            rec(REL_SEG, 0x01, tcp(0, 0, ACK)),
            rec(OPT, 0x03, b''),
            rec(CLOSE, 0x02, b''),
        ]),
    }


def ctl_lines():
    good = ['connect 127.0.0.1!80', 'connect 10.0.2.2!8080!r 5000\n', 'announce 80',
            'announce *!8080', 'announce 10.0.2.15!0', 'bind 1234', 'hangup', 'close',
            'clearerr', 'shutdown wr', 'shutdown rdwr\n', 'backlog 16', 'keepalive',
            'keepalive 5000', 'nodelay on', 'nodelay off', 'ttl 64', 'tos', 'tos 16\r\n']
    bad = ['connect 1.2.3.4', 'connect 256.0.0.1!80', 'connect 1.2.3.4!0',
           'connect 1.2.3.4!65536', 'connect 1.2.3!80', 'announce -1', 'announce 1.2.3.4!',
           'shutdown sideways', 'backlog 99999999999999999999', 'ttl 256', 'nodelay maybe',
           '\0connect 1.2.3.4!80', '', ' \t\n', 'connect 1.2.3.4!80 extra words here',
           'CONNECT 1.2.3.4!80', 'hangup now', 'connect 0x7f.0.0.1!80',
           'connect ' + '1' * 1100 + '!80']
    out = {}
    for i, line in enumerate(good):
        out['ok-%02d' % i] = line.encode()
    for i, line in enumerate(bad):
        out['bad-%02d' % i] = line.encode()
    return out


def write(sub, files):
    d = os.path.join(HERE, 'corpus', sub)
    os.makedirs(d, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    write('frames', frames())
    write('ctl', ctl_lines())

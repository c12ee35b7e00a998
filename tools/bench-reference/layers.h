/*
 * The header walk of the benchmark's yardsticks (readloop.c, readloop-parts.c): Ethernet, any stack of 802.1Q/802.1ad
 * tags, ARP, IPv4 (header length), IPv6 (fixed header, then hop-by-hop / routing / fragment / destination options),
 * TCP, UDP, ICMPv6, and one level of Geneve (UDP 6081, options skipped by length) or VXLAN (4789, 8472) with the inner
 * frame decoded the same way. Each layer is counted, so the work cannot be optimised away.
 */
#ifndef UPLINKPROBE_BENCH_LAYERS_H
#define UPLINKPROBE_BENCH_LAYERS_H
#include <stdint.h>

enum { ETHERNET, VLAN, ARP, IPV4, IPV6, IPV6_EXT, TCP, UDP, ICMPV6, GENEVE, VXLAN, OTHER, SHORT, LAYERS };
static const char *names[LAYERS] = {"ethernet", "vlan", "arp", "ipv4", "ipv6", "ipv6-ext", "tcp", "udp", "icmpv6",
                                    "geneve", "vxlan", "other", "short"};
/* Per thread, so that readloop-parts can run one walker per core; readloop uses one. */
static __thread uint64_t counts[LAYERS];

/* Hooks for the analyze yardstick (readloop-parts.c built with -DFLOW_TABLES); nothing in the decode-only loops. */
#ifndef ON_OUTER_IP
#define ON_OUTER_IP(src, dst, length) ((void)0)
#endif
#ifndef ON_GENEVE
#define ON_GENEVE(geneve, n) ((void)0)
#endif

static inline uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }

static void decode_ethernet(const uint8_t *p, uint32_t n, int depth);

static void decode_udp(const uint8_t *p, uint32_t n, int depth)
{
    if (n < 8) { counts[SHORT]++; return; }
    counts[UDP]++;
    uint32_t port = be16(p + 2);
    p += 8; n -= 8;
    if (depth > 0) return;
    if (port == 6081) {
        if (n < 8) { counts[SHORT]++; return; }
        uint32_t len = 8 + (p[0] & 0x3f) * 4;
        if (len > n) { counts[SHORT]++; return; }
        counts[GENEVE]++;
        ON_GENEVE(p, len);
        if (be16(p + 2) == 0x6558) decode_ethernet(p + len, n - len, depth + 1);
    } else if (port == 4789 || port == 8472) {
        if (n < 8) { counts[SHORT]++; return; }
        counts[VXLAN]++;
        decode_ethernet(p + 8, n - 8, depth + 1);
    }
}

static void decode_transport(uint32_t proto, const uint8_t *p, uint32_t n, int depth)
{
    switch (proto) {
    case 6:
        if (n < 20 || (uint32_t)(p[12] >> 4) * 4 > n) { counts[SHORT]++; return; }
        counts[TCP]++;
        return;
    case 17:
        decode_udp(p, n, depth);
        return;
    case 58:
        if (n < 4) { counts[SHORT]++; return; }
        counts[ICMPV6]++;
        return;
    default:
        counts[OTHER]++;
    }
}

static void decode_ethernet(const uint8_t *p, uint32_t n, int depth)
{
    if (n < 14) { counts[SHORT]++; return; }
    counts[ETHERNET]++;
    uint32_t type = be16(p + 12);
    p += 14; n -= 14;
    while (type == 0x8100 || type == 0x88a8) {
        if (n < 4) { counts[SHORT]++; return; }
        counts[VLAN]++;
        type = be16(p + 2);
        p += 4; n -= 4;
    }
    if (type == 0x0806) {
        if (n < 28) { counts[SHORT]++; return; }
        counts[ARP]++;
    } else if (type == 0x0800) {
        uint32_t ihl = n < 20 ? 0 : (uint32_t)(p[0] & 0x0f) * 4;
        if (ihl < 20 || ihl > n) { counts[SHORT]++; return; }
        counts[IPV4]++;
        if (depth == 0) ON_OUTER_IP(p + 12, p + 16, 4);
        decode_transport(p[9], p + ihl, n - ihl, depth);
    } else if (type == 0x86dd) {
        if (n < 40) { counts[SHORT]++; return; }
        counts[IPV6]++;
        if (depth == 0) ON_OUTER_IP(p + 8, p + 24, 16);
        uint32_t next = p[6];
        p += 40; n -= 40;
        while (next == 0 || next == 43 || next == 44 || next == 60) {
            uint32_t len = next == 44 ? 8 : (n < 2 ? 0 : (uint32_t)(p[1] + 1) * 8);
            if (n < 8 || len > n) { counts[SHORT]++; return; }
            counts[IPV6_EXT]++;
            next = p[0];
            p += len; n -= len;
        }
        decode_transport(next, p, n, depth);
    } else {
        counts[OTHER]++;
    }
}

#endif

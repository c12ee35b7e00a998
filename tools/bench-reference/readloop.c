/*
 * The yardstick the performance target of `uplinkprobe stats` is stated against: "a hand-written C read()+decode
 * loop". One thread reads a classic pcap file with read() into a 256 KiB buffer and walks the headers of every
 * packet the way the benchmark's OVN-uplink mix needs: Ethernet, any stack of 802.1Q/802.1ad tags, ARP, IPv4 (header
 * length), IPv6 (fixed header, then hop-by-hop / routing / fragment / destination options), TCP, UDP, ICMPv6, and one
 * level of Geneve (UDP 6081, options skipped by length) or VXLAN (4789, 8472) with the inner frame decoded the same
 * way. It counts each layer and prints the counts, so the work cannot be optimised away.
 *
 * Not part of the product: no error reporting beyond "stopped at offset N", no pcapng, no big-endian files, no
 * checks a hostile file would need beyond staying inside the record. tools/bench.sh builds it with `cc -O2` and
 * times it beside uplinkprobe on the same files.
 *
 *   cc -O2 -o readloop readloop.c && ./readloop FILE.pcap
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ETHERNET, VLAN, ARP, IPV4, IPV6, IPV6_EXT, TCP, UDP, ICMPV6, GENEVE, VXLAN, OTHER, SHORT, LAYERS };
static const char *names[LAYERS] = {"ethernet", "vlan", "arp", "ipv4", "ipv6", "ipv6-ext", "tcp", "udp", "icmpv6",
                                    "geneve", "vxlan", "other", "short"};
static uint64_t counts[LAYERS];

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
        decode_transport(p[9], p + ihl, n - ihl, depth);
    } else if (type == 0x86dd) {
        if (n < 40) { counts[SHORT]++; return; }
        counts[IPV6]++;
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

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: readloop FILE.pcap\n"); return 2; }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) { perror(argv[1]); return 1; }

    /* Reads land at buf + HEAD (page-aligned) at file offsets that are multiples of CHUNK, so the kernel's copy is
     * aligned; the unread tail of the previous chunk is moved to just before HEAD. */
    enum { HEAD = 1 << 18, CHUNK = 1 << 18 };
    uint8_t *buf = aligned_alloc(4096, HEAD + CHUNK);
    if (!buf) return 1;
    size_t start = HEAD, end = HEAD;
    uint64_t packets = 0, offset = 0;
    int first = 1;
    for (;;) {
        size_t left = end - start;
        if (left > HEAD) { fprintf(stderr, "readloop: record larger than %d bytes at offset %llu\n", HEAD, (unsigned long long)offset); return 1; }
        memmove(buf + HEAD - left, buf + start, left);
        start = HEAD - left;
        end = HEAD;
        ssize_t r = read(fd, buf + HEAD, CHUNK);
        if (r < 0) { perror("read"); return 1; }
        if (r == 0) break;
        end = HEAD + (size_t)r;
        if (first) {
            uint32_t magic;
            memcpy(&magic, buf + HEAD, 4);
            if (r < 24 || (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d)) { fprintf(stderr, "readloop: not a little-endian classic pcap file\n"); return 1; }
            start += 24; offset = 24; first = 0;
        }
        while (start + 16 <= end) {
            uint32_t caplen;
            memcpy(&caplen, buf + start + 8, 4);
            if (start + 16 + caplen > end) break;
            decode_ethernet(buf + start + 16, caplen, 0);
            packets++;
            start += 16 + (size_t)caplen;
            offset += 16 + (uint64_t)caplen;
        }
    }
    if (end != start) { fprintf(stderr, "readloop: stopped at offset %llu (cut record)\n", (unsigned long long)offset); return 1; }

    printf("packets %llu", (unsigned long long)packets);
    for (int i = 0; i < LAYERS; i++) printf(" %s %llu", names[i], (unsigned long long)counts[i]);
    printf("\n");
    return 0;
}

/*
 * The yardstick the performance target of `uplinkprobe stats` is stated against: "a hand-written C read()+decode
 * loop". One thread reads a classic pcap file with read() into a 256 KiB buffer and walks the headers of every
 * packet the way the benchmark's OVN-uplink mix needs (layers.h: Ethernet, 802.1Q/802.1ad, ARP, IPv4, IPv6 and its
 * extension headers, TCP, UDP, ICMPv6, one level of Geneve or VXLAN). It counts each layer and prints the counts, so
 * the work cannot be optimised away. readloop-parts.c walks the same way over a mapping, one part per core.
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

#include "layers.h"

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

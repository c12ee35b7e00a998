/*
 * The C yardstick read the way `uplinkprobe stats` reads: the same header walk as readloop.c (layers.h), but over a
 * memory mapping of the file, cut into one part per thread (default: one per online CPU). A part after the first
 * starts at the first offset at or after its cut where eight plausible record headers (not empty, within the snap
 * length, captured length not above the original) follow one another, or fewer that end exactly at the end of the
 * file; each walker stops where the next part starts and fails if it steps over that start (a false start). Like
 * uplinkprobe, each walker prefetches every cache line 2 KiB ahead of the record it is at and gives the pages behind
 * it back in 4 MiB steps (MADV_DONTNEED), so its resident set stays small whatever the file size.
 *
 * Not part of the product: little-endian classic pcap only, no error reporting beyond "stopped at offset N". It shows
 * how fast a hand-written C loop walks these headers on this machine when it may use every core, which the
 * single-threaded read() yardstick of the issue does not.
 *
 *   cc -O2 -pthread -o readloop-parts readloop-parts.c && ./readloop-parts [-j N] FILE.pcap
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layers.h"

enum { HEADER = 16, MAX_RECORD = 262144, CHAIN = 8, PREFETCH = 2048, RELEASE = 4 << 20, MAX_PARTS = 64 };

static const uint8_t *file;
static uint64_t size;
static uint32_t fraction_limit, snap_length;

struct part {
    uint64_t start, end, packets, stopped_at;
    int failed;
    uint64_t counts[LAYERS];
};

static int plausible(uint64_t at)
{
    uint32_t h[4];
    if (at + HEADER > size) return 0;
    memcpy(h, file + at, HEADER);
    /* An empty record is legal but would let the zero padding of a short frame pass for a header. */
    return h[1] < fraction_limit && h[2] != 0 && h[2] <= MAX_RECORD && (snap_length == 0 || h[2] <= snap_length) && h[2] <= h[3]
           && at + HEADER + h[2] <= size;
}

/* The first offset at or after cut where CHAIN plausible headers follow one another, or the file size. */
static uint64_t find_start(uint64_t cut)
{
    for (uint64_t at = cut; at + HEADER <= size; at++) {
        uint64_t next = at;
        int n = 0;
        while (n < CHAIN && plausible(next)) {
            uint32_t caplen;
            memcpy(&caplen, file + next + 8, 4);
            next += HEADER + caplen;
            n++;
        }
        if (n == CHAIN || (n > 0 && next == size)) return at;
    }
    return size;
}

static void *walk(void *arg)
{
    struct part *p = arg;
    uint64_t at = p->start, released = p->start & ~(uint64_t)(RELEASE - 1), prefetched = at;
    while (at + HEADER <= p->end) {
        uint32_t caplen;
        memcpy(&caplen, file + at + 8, 4);
        if (caplen > MAX_RECORD || at + HEADER + caplen > size) break;
        uint64_t next = at + HEADER + caplen;
        for (uint64_t line = prefetched > at + PREFETCH ? prefetched : at + PREFETCH; line < next + PREFETCH && line < size; line += 64)
            __builtin_prefetch(file + line);
        prefetched = next + PREFETCH;
        decode_ethernet(file + at + HEADER, caplen, 0);
        p->packets++;
        at = next;
        if (at - released >= 2 * (uint64_t)RELEASE) {
            madvise((void *)(file + released), RELEASE, MADV_DONTNEED);
            released += RELEASE;
        }
    }
    p->stopped_at = at;
    p->failed = at != p->end;
    memcpy(p->counts, counts, sizeof counts);
    return NULL;
}

int main(int argc, char **argv)
{
    long parts = sysconf(_SC_NPROCESSORS_ONLN);
    int arg = 1;
    if (argc == 4 && strcmp(argv[1], "-j") == 0) {
        parts = strtol(argv[2], NULL, 10);
        arg = 3;
    }
    if (argc != arg + 1 || parts < 1 || parts > MAX_PARTS) { fprintf(stderr, "usage: readloop-parts [-j 1-%d] FILE.pcap\n", MAX_PARTS); return 2; }
    int fd = open(argv[arg], O_RDONLY);
    if (fd < 0) { perror(argv[arg]); return 1; }
    struct stat st;
    if (fstat(fd, &st) != 0) { perror("fstat"); return 1; }
    size = (uint64_t)st.st_size;
    if (size < 24) { fprintf(stderr, "readloop-parts: not a little-endian classic pcap file\n"); return 1; }
    file = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (file == MAP_FAILED) { perror("mmap"); return 1; }
    uint32_t magic;
    memcpy(&magic, file, 4);
    if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) { fprintf(stderr, "readloop-parts: not a little-endian classic pcap file\n"); return 1; }
    fraction_limit = magic == 0xa1b23c4d ? 1000000000u : 1000000u;
    memcpy(&snap_length, file + 16, 4);

    struct part part[MAX_PARTS];
    memset(part, 0, sizeof part);
    part[0].start = 24;
    for (long i = 1; i < parts; i++) {
        uint64_t cut = 24 + (size - 24) / (uint64_t)parts * (uint64_t)i;
        part[i].start = find_start(cut > part[i - 1].start ? cut : part[i - 1].start);
    }
    for (long i = 0; i < parts; i++) part[i].end = i + 1 < parts ? part[i + 1].start : size;

    pthread_t threads[MAX_PARTS];
    for (long i = 1; i < parts; i++) pthread_create(&threads[i], NULL, walk, &part[i]);
    walk(&part[0]);
    for (long i = 1; i < parts; i++) pthread_join(threads[i], NULL);

    uint64_t packets = 0, total[LAYERS] = {0};
    for (long i = 0; i < parts; i++) {
        if (part[i].failed) {
            fprintf(stderr, "readloop-parts: part %ld stopped at offset %llu, not at %llu\n", i, (unsigned long long)part[i].stopped_at, (unsigned long long)part[i].end);
            return 1;
        }
        packets += part[i].packets;
        for (int k = 0; k < LAYERS; k++) total[k] += part[i].counts[k];
    }
    printf("packets %llu", (unsigned long long)packets);
    for (int i = 0; i < LAYERS; i++) printf(" %s %llu", names[i], (unsigned long long)total[i]);
    printf("\n");
    return 0;
}

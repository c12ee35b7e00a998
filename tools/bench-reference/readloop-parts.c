/*
 * The C yardstick read the way `uplinkprobe stats` reads: the same header walk as readloop.c (layers.h), but over a
 * memory mapping of the file, cut into one part per thread (default: one per online CPU). A part after the first
 * starts at the first offset at or after its cut where eight plausible record headers (not empty, within the snap
 * length, captured length not above the original, a fraction other than the captured length, seconds within 2^24 of
 * the first record's: PcapReader.IsPlausibleRecordHeader's rules) follow one another, or fewer that end exactly at the
 * end of the file; each walker stops where the next part starts and fails if it steps over that start (a false start). Like
 * uplinkprobe, each walker prefetches every cache line 2 KiB ahead of the record it is at and gives the pages behind
 * it back in 8 MiB steps (MADV_DONTNEED, as stats does), so its resident set stays small whatever the file size.
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

#ifdef FLOW_TABLES
/*
 * Built with -DFLOW_TABLES, the yardstick of `analyze` (issue 3: offline analysis within 1.5x of stats): the same walk,
 * plus the two per-packet lookups at the heart of uplinkprobe's analysis, in C. Per Geneve packet outside any tunnel,
 * a flow keyed by (outer source IP, outer destination IP, VNI) counts packets and bytes, extends its activity runs (2 s
 * gap) and counts OVN's egress port key (option class 0x0102 type 0x80, when it is the first option) in up to 16
 * slots. Per frame, a track keyed by the unicast Ethernet source counts frames and extends its runs. Open addressing,
 * keys and state side by side, one table of each per thread; "flows N tracks N" at the end counts the distinct keys of
 * all parts. None of the rest of analyze: no ARP/NDP claims, no broadcast evidence, no BFD, no report.
 */
#include <stdint.h>
struct address { uint64_t high, low; };
static void on_outer_ip(const uint8_t *src, const uint8_t *dst, int length);
static void on_geneve(const uint8_t *geneve, uint32_t length);
#define ON_OUTER_IP(src, dst, length) on_outer_ip(src, dst, length)
#define ON_GENEVE(geneve, n) on_geneve(geneve, n)
#endif
#include "layers.h"

enum { HEADER = 16, MAX_RECORD = 262144, CHAIN = 8, PREFETCH = 2048, RELEASE = 8 << 20, MAX_PARTS = 64 };

static const uint8_t *file;

#ifdef FLOW_TABLES
enum { SLOTS = 8192, GAP_NS = 2000000000 };
struct runs { int64_t first, last, run_start; uint64_t events, count; };
struct flow { struct address src, dst; uint32_t vni, used; uint64_t bytes; struct runs runs; uint16_t keys[16]; uint64_t key_counts[16]; };
struct track { uint64_t mac, used; struct runs runs; };
static __thread struct flow *flows;
static __thread struct track *tracks;
static __thread struct address outer_src, outer_dst;
static __thread int64_t now_ns;
static __thread uint32_t original_length;
static __thread uint32_t flows_held, tracks_held;
static __thread uint64_t not_held; /* packets of keys beyond half the slots */

static inline uint64_t spread(uint64_t x) { return ((x ^ (x >> 29)) * 0x9e3779b97f4a7c15ull) >> 51; } /* 13 bits: SLOTS */
static inline uint32_t be32(const uint8_t *p) { return be16(p) << 16 | be16(p + 2); }
static inline uint64_t be64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return __builtin_bswap64(v); }

static inline void run_add(struct runs *r)
{
    if (r->events == 0) { r->first = r->last = r->run_start = now_ns; r->count = 1; }
    else if (now_ns - r->last > GAP_NS) { r->count++; r->run_start = now_ns; }
    if (now_ns > r->last) r->last = now_ns;
    r->events++;
}

static void on_outer_ip(const uint8_t *src, const uint8_t *dst, int length)
{
    if (length == 4) {
        outer_src = (struct address){0, 0xffff00000000ull | be32(src)};
        outer_dst = (struct address){0, 0xffff00000000ull | be32(dst)};
    } else {
        outer_src = (struct address){be64(src), be64(src + 8)};
        outer_dst = (struct address){be64(dst), be64(dst + 8)};
    }
}

static void on_geneve(const uint8_t *g, uint32_t length)
{
    uint32_t vni = (uint32_t)g[4] << 16 | (uint32_t)g[5] << 8 | g[6];
    uint64_t h = spread(outer_src.low ^ outer_src.high * 31 ^ (outer_dst.low ^ outer_dst.high * 31) * 0x165667b19e3779f9ull ^ (uint64_t)vni << 40);
    for (uint32_t probes = 0; probes < SLOTS; probes++, h = (h + 1) & (SLOTS - 1)) {
        struct flow *f = &flows[h];
        if (!f->used) {
            if (flows_held >= SLOTS / 2) { not_held++; return; }
            flows_held++;
            f->used = 1; f->src = outer_src; f->dst = outer_dst; f->vni = vni;
        } else if (f->vni != vni || f->src.low != outer_src.low || f->dst.low != outer_dst.low || f->src.high != outer_src.high || f->dst.high != outer_dst.high) {
            continue;
        }
        run_add(&f->runs);
        f->bytes += original_length;
        if (length >= 16 && be16(g + 8) == 0x0102 && g[10] == 0x80) {
            uint16_t key = (uint16_t)be16(g + 14);
            for (int i = 0; i < 16; i++) {
                if (f->key_counts[i] == 0) f->keys[i] = key;
                if (f->keys[i] == key) { f->key_counts[i]++; break; }
            }
        }
        return;
    }
}

static void on_frame(const uint8_t *p, uint32_t n)
{
    if (n < 14 || (p[6] & 1)) return;
    uint64_t mac = (uint64_t)be16(p + 6) << 32 | be32(p + 8);
    for (uint64_t h = spread(mac);; h = (h + 1) & (SLOTS - 1)) {
        struct track *t = &tracks[h];
        if (!t->used) {
            if (tracks_held >= SLOTS / 2) { not_held++; return; }
            tracks_held++;
            t->used = 1; t->mac = mac;
        } else if (t->mac != mac) {
            continue;
        }
        run_add(&t->runs);
        return;
    }
}
#endif
static uint64_t size;
static uint32_t fraction_limit, snap_length, first_seconds;

struct part {
    uint64_t start, end, packets, stopped_at;
    int failed;
    uint64_t counts[LAYERS];
#ifdef FLOW_TABLES
    struct flow *flows;
    struct track *tracks;
    uint64_t not_held;
#endif
};

static int plausible(uint64_t at)
{
    uint32_t h[4];
    if (at + HEADER > size) return 0;
    memcpy(h, file + at, HEADER);
    /* An empty record is legal but would let the zero padding of a short frame pass for a header. Read four bytes into
     * true headers, a run stays in step whenever the two lengths are equal: its fraction is then its captured length. */
    int64_t from_first = (int64_t)h[0] - first_seconds;
    return h[1] < fraction_limit && h[1] != h[2] && h[2] != 0 && h[2] <= MAX_RECORD && (snap_length == 0 || h[2] <= snap_length)
           && h[2] <= h[3] && from_first >= -(1 << 24) && from_first <= (1 << 24) && at + HEADER + h[2] <= size;
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
#ifdef FLOW_TABLES
    flows = p->flows = calloc(SLOTS, sizeof *flows);
    tracks = p->tracks = calloc(SLOTS, sizeof *tracks);
    if (!flows || !tracks) { perror("calloc"); exit(1); }
#endif
    uint64_t at = p->start, released = p->start & ~(uint64_t)(RELEASE - 1), prefetched = at;
    while (at + HEADER <= p->end) {
        uint32_t caplen;
        memcpy(&caplen, file + at + 8, 4);
        if (caplen > MAX_RECORD || at + HEADER + caplen > size) break;
        uint64_t next = at + HEADER + caplen;
        for (uint64_t line = prefetched > at + PREFETCH ? prefetched : at + PREFETCH; line < next + PREFETCH && line < size; line += 64)
            __builtin_prefetch(file + line);
        prefetched = next + PREFETCH;
#ifdef FLOW_TABLES
        uint32_t header[4];
        memcpy(header, file + at, HEADER);
        now_ns = (int64_t)header[0] * 1000000000 + (int64_t)header[1] * (fraction_limit == 1000000u ? 1000 : 1);
        original_length = header[3];
        on_frame(file + at + HEADER, caplen);
#endif
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
#ifdef FLOW_TABLES
    p->not_held = not_held;
#endif
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
    if (size >= 24 + HEADER) memcpy(&first_seconds, file + 24, 4);

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
#ifdef FLOW_TABLES
    /* Distinct keys over all parts: each part's keys added to the first part's tables. */
    uint64_t flow_count = 0, track_count = 0, beyond = 0;
    for (long i = 0; i < parts; i++) {
        beyond += part[i].not_held;
        for (uint32_t s = 0; s < SLOTS; s++) {
            struct flow *f = &part[i].flows[s];
            int seen = 0;
            for (long j = 0; j < i && f->used && !seen; j++)
                for (uint32_t t = 0; t < SLOTS && !seen; t++) {
                    struct flow *g = &part[j].flows[t];
                    seen = g->used && g->vni == f->vni && !memcmp(&g->src, &f->src, sizeof f->src) && !memcmp(&g->dst, &f->dst, sizeof f->dst);
                }
            flow_count += f->used && !seen;
            struct track *k = &part[i].tracks[s];
            seen = 0;
            for (long j = 0; j < i && k->used && !seen; j++)
                for (uint32_t t = 0; t < SLOTS && !seen; t++) seen = part[j].tracks[t].used && part[j].tracks[t].mac == k->mac;
            track_count += k->used && !seen;
        }
    }
    printf(" flows %llu tracks %llu not-held %llu", (unsigned long long)flow_count, (unsigned long long)track_count, (unsigned long long)beyond);
#endif
    printf("\n");
    return 0;
}

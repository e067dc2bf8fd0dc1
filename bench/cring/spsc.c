/*
 * spsc.c: the physical limit of the Throughput comparison.
 *
 * A minimal single-producer single-consumer ring between two processes,
 * over the same kind of shared mapping as ringqueue's (a memfd mapped
 * MAP_SHARED by both), moving the same messages: SIZE bytes each, copied
 * in from the producer's buffer and out into the consumer's, the first 8
 * bytes a sequence number the consumer checks. Each slot has ringqueue
 * SPSC's layout: an 8-byte header holding the message's length, then the
 * payload, so slots are size+8 bytes apart. (Without the header, 4 KiB
 * slots sat a page apart, all in the same cache sets, and the "limit" ran
 * at a third of ringqueue's speed.) What it leaves out is what makes it a
 * limit: no roles, no crash recovery, no close, no futex parking (a
 * waiting side yields with sched_yield, as ringqueue's WaitYield
 * policy does before it parks).
 *
 * Layout of the mapping (cache lines of 64 bytes; each index on its own
 * 128-byte block, as the adjacent-line prefetcher pulls pairs):
 *
 *     0    tail      producer's index: messages published
 *   128    head      consumer's index: messages consumed
 *   256    cmd       run generation (futex word) and its message count
 *   384    done      generation the consumer finished
 *   512    slots     CAPACITY x (8 + SIZE) bytes: length (u32, 4 bytes pad), payload
 *
 * Each side caches the other's index and reloads it only when the cache
 * says full (producer) or empty (consumer), as ringqueue's SPSC does.
 *
 * It speaks the benchmark scripts' protocol (bench/python/common.py):
 * with --serve it forks the consumer, prints "ready", and answers every
 * "run N" line with "msgs/s R ns T" for N messages, timed by the producer
 * from handing the consumer the run to seeing it done.
 *
 * Build: cc -O2 -o spsc spsc.c   (C11, Linux)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct ring {
	_Alignas(128) _Atomic uint64_t tail;
	_Alignas(128) _Atomic uint64_t head;
	_Alignas(128) _Atomic uint32_t gen; /* futex word */
	uint64_t n;                           /* written before gen moves */
	_Alignas(128) _Atomic uint32_t done;
	_Alignas(128) unsigned char slots[];
};

static size_t size = 64, capacity = 1024, stride = 72;

static void die(const char *what) {
	perror(what);
	exit(2);
}

static long futex(_Atomic uint32_t *w, int op, uint32_t val) {
	return syscall(SYS_futex, (uint32_t *)w, op, val, NULL, NULL, 0);
}

static unsigned char *slot(struct ring *r, uint64_t pos) {
	return r->slots + (pos & (capacity - 1)) * stride;
}

/* consume serves runs until the parent goes away. */
static void consume(struct ring *r) {
	unsigned char *buf = malloc(size);
	uint64_t head = 0, cached = 0;
	uint32_t seen = 0;
	if (!buf)
		die("malloc");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		uint32_t g;
		while ((g = atomic_load(&r->gen)) == seen)
			futex(&r->gen, FUTEX_WAIT, seen);
		seen = g;
		uint64_t n = r->n;
		for (uint64_t i = 0; i < n; i++) {
			while (cached == head) {
				cached = atomic_load_explicit(&r->tail, memory_order_acquire);
				if (cached == head)
					sched_yield();
			}
			unsigned char *s = slot(r, head);
			uint32_t len;
			memcpy(&len, s, sizeof len);
			if (len != size) {
				fprintf(stderr, "spsc: message %llu has length %u\n", (unsigned long long)head, len);
				exit(3);
			}
			memcpy(buf, s + 8, len);
			uint64_t seq;
			memcpy(&seq, buf, sizeof seq);
			if (seq != head) {
				fprintf(stderr, "spsc: message %llu carries sequence %llu\n",
				        (unsigned long long)head, (unsigned long long)seq);
				exit(3);
			}
			head++;
			atomic_store_explicit(&r->head, head, memory_order_release);
		}
		atomic_store(&r->done, g);
	}
}

/* produce runs n messages and returns the elapsed nanoseconds. */
static double produce(struct ring *r, uint64_t n, unsigned char *buf) {
	static uint64_t tail = 0, cached = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r->n = n;
	uint32_t g = atomic_load(&r->gen) + 1;
	atomic_store(&r->gen, g);
	futex(&r->gen, FUTEX_WAKE, 1);
	for (uint64_t i = 0; i < n; i++) {
		while (tail - cached >= capacity) {
			cached = atomic_load_explicit(&r->head, memory_order_acquire);
			if (tail - cached >= capacity)
				sched_yield();
		}
		memcpy(buf, &tail, sizeof tail);
		unsigned char *s = slot(r, tail);
		uint32_t len = size;
		memcpy(s, &len, sizeof len);
		memcpy(s + 8, buf, size);
		tail++;
		atomic_store_explicit(&r->tail, tail, memory_order_release);
	}
	while (atomic_load(&r->done) != g)
		sched_yield();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
}

static void usage(void) {
	fprintf(stderr, "usage: spsc [--size BYTES] [--capacity SLOTS (a power of two)] [--n N] [--serve]\n");
	exit(2);
}

int main(int argc, char **argv) {
	int serve = 0;
	unsigned long long n1 = 1000000;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--serve"))
			serve = 1;
		else if (i + 1 < argc && !strcmp(argv[i], "--size"))
			size = strtoul(argv[++i], NULL, 10);
		else if (i + 1 < argc && !strcmp(argv[i], "--capacity"))
			capacity = strtoul(argv[++i], NULL, 10);
		else if (i + 1 < argc && !strcmp(argv[i], "--n"))
			n1 = strtoull(argv[++i], NULL, 10);
		else
			usage();
	}
	if (size < 8 || capacity == 0 || (capacity & (capacity - 1)))
		usage();
	stride = 8 + ((size + 7) & ~(size_t)7);
	size_t bytes = sizeof(struct ring) + capacity * stride;
	int fd = memfd_create("multiproc-bench-spsc", MFD_CLOEXEC);
	if (fd < 0)
		die("memfd_create");
	if (ftruncate(fd, bytes) < 0)
		die("ftruncate");
	struct ring *r = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r == MAP_FAILED)
		die("mmap");
	close(fd);
	pid_t kid = fork();
	if (kid < 0)
		die("fork");
	if (kid == 0)
		consume(r);
	unsigned char *buf = malloc(size);
	if (!buf)
		die("malloc");
	memset(buf, 0, size);
	/* Warm-up, outside any timing: two laps touch every slot's pages on
	 * both sides. */
	produce(r, 2 * capacity, buf);
	if (!serve) {
		double ns = produce(r, n1, buf);
		printf("msgs/s %.1f ns %.0f\n", n1 / (ns / 1e9), ns);
	} else {
		char line[256];
		printf("ready\n");
		fflush(stdout);
		while (fgets(line, sizeof line, stdin)) {
			unsigned long long n;
			if (sscanf(line, "run %llu", &n) != 1) {
				fprintf(stderr, "spsc: unknown command %s", line);
				break;
			}
			double ns = produce(r, n, buf);
			printf("msgs/s %.1f ns %.0f\n", n / (ns > 0 ? ns / 1e9 : 1e-9), ns);
			fflush(stdout);
		}
	}
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	return 0;
}

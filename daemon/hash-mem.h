/* hash-mem.h: a hashing thread's Argon2 memory, kept from one hash to the next.
 *
 * libsodium maps an Argon2 hash's memory (19 MiB at OWASP's setting) with
 * mmap and gives it back with munmap, every hash: the kernel then faults in
 * and clears 4,864 fresh pages a hash, 10 to 13 ms of system time on top
 * of 16 to 18 ms of hashing, measured on a 2-core machine; and the unmap
 * interrupts every core running another of campusd's threads (the event
 * loop) to flush its address translations. libsodium has no allocator
 * hook, so campusd's own mmap and munmap stand in front of the C
 * library's (the program's definitions come first for every shared
 * library). They change nothing except on a thread that has armed them
 * (the hashing threads, around each hash): there, the first private
 * anonymous read-write mapping of HASH_MEM_MIN to HASH_MEM_MAX bytes is
 * lent from memory the thread keeps (transparent huge pages, left out of
 * core dumps), and its munmap clears it with explicit_bzero and keeps it.
 * Everything else goes to the C library's mmap and munmap, as before.
 */
#ifndef CAMPUS_HASH_MEM_H
#define CAMPUS_HASH_MEM_H

#include <stdbool.h>
#include <stddef.h>

/* The mappings lent: from 1 MiB (smaller hashes gain little) to the most
 * an Argon2id hash may take (AUTH_ARGON2_M_MAX, 262,144 KiB). scrypt's
 * memory comes through OpenSSL's malloc, not this mmap. */
#define HASH_MEM_MIN ((size_t)1 << 20)
#define HASH_MEM_MAX ((size_t)256 << 20)

/* Lends kept memory to this thread's mmap calls (on true) or stops. */
void hash_mem_arm(bool on);

/* Gives back this thread's kept memory (an idle hashing thread does). */
void hash_mem_release(void);

/* Bytes this thread keeps (0: none) and where (for tests). */
size_t hash_mem_kept(const void **base);

#endif

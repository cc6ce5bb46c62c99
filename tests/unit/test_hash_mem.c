/* test_hash_mem.c: the memory a hashing thread keeps for Argon2 (hash-mem.h):
 * lent only while armed, only for a hash-sized private mapping, cleared
 * after each hash, the same hashes as without it. */
/* mmap as libsodium calls it (the build's 64-bit offsets would name mmap64). */
#undef _FILE_OFFSET_BITS

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#include "hash-mem.h"

#define M_BYTES ((size_t)19456 * 1024)   /* OWASP's 19 MiB, as campusd hashes */

static const unsigned char salt[crypto_pwhash_SALTBYTES] = "0123456789abcdef";

static void derive(const char *pw, unsigned char key[32])
{
    cr_assert(sodium_init() >= 0);
    cr_assert_eq(crypto_pwhash_argon2id(key, 32, pw, strlen(pw), salt, 2, M_BYTES,
                                        crypto_pwhash_ALG_ARGON2ID13), 0);
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *c = p;

    for (size_t i = 0; i < n; i++)
        if (c[i])
            return false;
    return true;
}

Test(hash_mem, unarmed_keeps_nothing)
{
    unsigned char key[32];

    derive("correct horse", key);
    cr_assert_eq(hash_mem_kept(NULL), 0, "a thread that never armed keeps no memory");
}

Test(hash_mem, armed_hashes_are_the_same_and_the_memory_is_cleared)
{
    unsigned char plain[32], lent1[32], lent2[32], other[32];
    const void *base1, *base2;

    derive("correct horse", plain);
    hash_mem_arm(true);
    derive("correct horse", lent1);
    size_t kept = hash_mem_kept(&base1);
    cr_assert_geq(kept, M_BYTES, "the hash's memory is kept (%zu bytes)", kept);
    cr_assert(all_zero(base1, M_BYTES), "what the hash left is cleared after it");
    derive("correct horse", lent2);
    derive("battery staple", other);
    hash_mem_arm(false);
    hash_mem_kept(&base2);
    cr_assert_eq(base1, base2, "the next hashes use the same memory");
    cr_assert_eq(memcmp(plain, lent1, 32), 0, "the same key with kept memory");
    cr_assert_eq(memcmp(plain, lent2, 32), 0, "the same key the second time");
    cr_assert_neq(memcmp(plain, other, 32), 0);
    cr_assert(all_zero(base2, M_BYTES));
    hash_mem_release();
    cr_assert_eq(hash_mem_kept(NULL), 0, "released");
}

Test(hash_mem, only_a_hash_sized_private_mapping_is_lent)
{
    unsigned char key[32];
    const void *base;

    hash_mem_arm(true);
    derive("correct horse", key);
    hash_mem_kept(&base);
    /* Too small, shared, or read-only: the C library's mmap, as ever. */
    void *small = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *shared = mmap(NULL, M_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    void *ro = mmap(NULL, M_BYTES, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert(small != MAP_FAILED && shared != MAP_FAILED && ro != MAP_FAILED);
    cr_assert(small != base && shared != base && ro != base);
    /* One loan at a time: a second mapping while the first is out is new. */
    void *first = mmap(NULL, M_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *second = mmap(NULL, M_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_eq(first, base, "a hash-sized mapping is lent");
    cr_assert(second != MAP_FAILED && second != base);
    memset(second, 7, M_BYTES);
    memset(first, 9, M_BYTES);
    cr_assert_eq(munmap(second, M_BYTES), 0);
    cr_assert_eq(munmap(first, M_BYTES), 0);
    cr_assert(all_zero(base, M_BYTES));
    cr_assert_eq(munmap(small, 4096), 0);
    cr_assert_eq(munmap(shared, M_BYTES), 0);
    cr_assert_eq(munmap(ro, M_BYTES), 0);
    hash_mem_arm(false);
    /* Unarmed, the same call maps afresh. */
    void *plain = mmap(NULL, M_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert(plain != MAP_FAILED && plain != base);
    cr_assert_eq(munmap(plain, M_BYTES), 0);
    hash_mem_release();
}

Test(hash_mem, a_larger_hash_gets_larger_memory)
{
    unsigned char key[32];

    hash_mem_arm(true);
    derive("correct horse", key);
    size_t small = hash_mem_kept(NULL);
    cr_assert_eq(crypto_pwhash_argon2id(key, 32, "x", 1, salt, 1, 2 * M_BYTES,
                                        crypto_pwhash_ALG_ARGON2ID13), 0);
    cr_assert_geq(hash_mem_kept(NULL), 2 * M_BYTES);
    cr_assert_gt(hash_mem_kept(NULL), small);
    hash_mem_arm(false);
    hash_mem_release();
}

/* hash-mem.c: a hashing thread's Argon2 memory, kept (hash-mem.h). */

/* The build asks for 64-bit file offsets (a library's pkg-config flags),
 * with which the C library's header names mmap64 where the code says mmap.
 * What is defined here must be the C library's own mmap, name and types,
 * since that is what libsodium calls. */
#undef _FILE_OFFSET_BITS

#include "hash-mem.h"

#include <dlfcn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* Kept memory is mapped in whole huge pages. */
#define HASH_MEM_UNIT ((size_t)2 << 20)

static __thread struct {
    bool armed;
    bool lent;                  /* base is out with a hash */
    char *base;
    size_t size;                /* mapped */
    size_t lent_len;            /* what the hash asked for */
} keep;

typedef void *mmap_fn(void *, size_t, int, int, int, off_t);
typedef int munmap_fn(void *, size_t);

/* The next definition of name after the program's own: the C library's,
 * or a sanitizer's in front of it; NULL if there is none. Looked up on
 * first use, from any thread (a race stores the same pointer twice). */
static void *next_fn(void **cache, const char *name)
{
    void *f = __atomic_load_n(cache, __ATOMIC_ACQUIRE);

    if (f == NULL) {
        f = dlsym(RTLD_NEXT, name);
        __atomic_store_n(cache, f, __ATOMIC_RELEASE);
    }
    return f;
}

static void *real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    static void *cache;
    void *sym = next_fn(&cache, "mmap");
    mmap_fn *f;

    if (sym == NULL)
        return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    memcpy(&f, &sym, sizeof(f));
    return f(addr, len, prot, flags, fd, off);
}

static int real_munmap(void *addr, size_t len)
{
    static void *cache;
    void *sym = next_fn(&cache, "munmap");
    munmap_fn *f;

    if (sym == NULL)
        return (int)syscall(SYS_munmap, addr, len);
    memcpy(&f, &sym, sizeof(f));
    return f(addr, len);
}

/* A mapping the size of what a hash's memory looks like, asked for the
 * way libsodium asks. */
static bool lendable(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return keep.armed && !keep.lent && addr == NULL && fd == -1 && off == 0 &&
           prot == (PROT_READ | PROT_WRITE) &&
           (flags & (MAP_ANONYMOUS | MAP_PRIVATE | MAP_SHARED | MAP_FIXED)) ==
               (MAP_ANONYMOUS | MAP_PRIVATE) &&
           len >= HASH_MEM_MIN && len <= HASH_MEM_MAX;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (!lendable(addr, len, prot, flags, fd, off))
        return real_mmap(addr, len, prot, flags, fd, off);
    if (keep.size < len) {
        /* The first hash here, or one that needs more than the last. */
        hash_mem_release();
        size_t size = (len + HASH_MEM_UNIT - 1) & ~(HASH_MEM_UNIT - 1);
        char *m = real_mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return real_mmap(addr, len, prot, flags, fd, off);
#ifdef MADV_HUGEPAGE
        madvise(m, size, MADV_HUGEPAGE);
#endif
#ifdef MADV_DONTDUMP
        madvise(m, size, MADV_DONTDUMP);
#endif
        keep.base = m;
        keep.size = size;
    }
    keep.lent = true;
    keep.lent_len = len;
    return keep.base;
}

int munmap(void *addr, size_t len)
{
    if (keep.lent && addr == keep.base) {
        /* What the hash left there tells of the password: gone before the
         * next hash, as it was with the mapping. */
        explicit_bzero(keep.base, keep.lent_len);
        keep.lent = false;
        return 0;
    }
    return real_munmap(addr, len);
}

void hash_mem_arm(bool on)
{
    keep.armed = on;
}

void hash_mem_release(void)
{
    if (keep.base == NULL || keep.lent)
        return;
    real_munmap(keep.base, keep.size);
    keep.base = NULL;
    keep.size = 0;
}

size_t hash_mem_kept(const void **base)
{
    if (base)
        *base = keep.base;
    return keep.size;
}

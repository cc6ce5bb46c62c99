/* node_arena.h: a catalogue's cmark trees, while it loads, and its renderings,
 * allocated in its own pool.
 *
 * A load parses each lesson into a tree of a few hundred small blocks
 * (nodes, their literals), renders it and frees it; the renderings live
 * exactly as long as the catalogue does. Taken from glibc one by one the
 * blocks cost a malloc and a free each, and the renderings the page faults
 * of fresh 4 KiB pages. While a thread has entered the catalogue's pool
 * (node_pool_enter), node_mem, the allocator the loader gives cmark, cuts
 * them from large regions of the pool's instead (2 MiB, asked for as
 * transparent huge pages), each thread from its own region; blocks freed
 * meanwhile (the parser's scratch, the tree of the lesson just rendered)
 * are reused by the same thread, so the next lesson's tree is made in
 * memory still in the cache. The regions go with the pool, at once.
 *
 * Every block node_mem hands out carries a 16-byte header saying where it
 * came from, so that one allocator serves a tree for its whole life: while
 * a thread has entered no pool (a request's lesson_tree, tests)
 * node_mem takes from the heap, and freeing a pool's block outside it does
 * nothing. A tree parsed with node_mem is freed with cmark_node_free before
 * its pool; what cmark returns for it (cmark_render_html's string) is freed
 * with node_mem_free.
 */
#ifndef CAMPUS_NODE_ARENA_H
#define CAMPUS_NODE_ARENA_H

#include <stddef.h>

struct cmark_mem;
struct node_pool;

/* An empty pool. Safe to use from any number of threads. */
struct node_pool *node_pool_new(void);

/* Gives back every region of the pool (NULL: nothing): every tree in it
 * must have been freed. */
void node_pool_free(struct node_pool *p);

/* Makes node_mem allocate from p on this thread until node_pool_leave. */
void node_pool_enter(struct node_pool *p);
void node_pool_leave(void);

/* Bytes of regions the pool holds. */
size_t node_pool_size(const struct node_pool *p);

/* The allocator to give cmark (cmark_parser_new_with_mem,
 * cmark_node_new_with_mem). */
struct cmark_mem *node_mem(void);

/* Frees a block node_mem gave (NULL: nothing). */
void node_mem_free(void *p);

/* A copy of s[0..n), NUL-terminated, from node_mem: in the pool entered
 * (which holds it until the pool goes), else on the heap. The loader keeps
 * a catalogue's renderings there, beside its trees: a pool's memory is in
 * huge pages, cheaper to fault in and to give back than the heap's. Free
 * with node_mem_free. */
char *node_mem_copy(const char *s, size_t n);

#endif

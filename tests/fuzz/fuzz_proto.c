/* fuzz_proto.c: the CTP/1 request parser on arbitrary bytes. Checks, beyond
 * "no crash": feeding the input at once and byte by byte gives the same
 * requests and errors, and every request has a verb. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "util.h"

static void collect(const uint8_t *data, size_t size, size_t chunk, struct sbuf *out)
{
    struct proto_parser p;

    proto_init(&p, 256, 4096);
    for (size_t off = 0; off < size;) {
        size_t n = size - off < chunk ? size - off : chunk;
        size_t pos = 0;
        while (pos < n) {
            size_t used = 0;
            struct proto_req r;
            enum proto_result res = proto_feed(&p, (const char *)data + off + pos, n - pos, &used, &r);
            if (used > n - pos)
                abort();
            pos += used;
            if (res == PROTO_REQUEST) {
                if (r.argc < 1)
                    abort();
                for (int i = 0; i < r.argc; i++) {
                    sbuf_add(out, r.argv[i], r.argl[i]);
                    sbuf_addc(out, 0);
                }
                sbuf_addc(out, '\n');
                proto_req_free(&r);
            } else if (res == PROTO_ERROR) {
                sbuf_printf(out, "E%d%d\n", p.err_code, p.err_fatal);
                if (p.err_fatal) {
                    proto_reset(&p);
                    return;
                }
            }
        }
        off += n;
    }
    proto_reset(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sbuf a = {0}, b = {0};

    collect(data, size, size ? size : 1, &a);
    collect(data, size, 1, &b);
    if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
        abort();
    sbuf_free(&a);
    sbuf_free(&b);
    return 0;
}

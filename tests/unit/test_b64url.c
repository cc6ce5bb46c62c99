/* test_b64url.c: the base64url pair that certificates are built and checked
 * with, on the server and in the terminal client (content/util.c). Known
 * answers from RFC 4648's test vectors, then every way a text may be refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "util.h"

static const struct { const char *raw, *enc; } vectors[] = {
    { "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
    { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
    { "\xfb\xff", "-_8" },       /* the two letters where the URL alphabet differs */
};

Test(b64url, encodes_and_decodes_the_rfc_vectors)
{
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        char *e = b64url_encode(vectors[i].raw, strlen(vectors[i].raw));
        cr_expect_str_eq(e, vectors[i].enc, "encode %zu", i);
        free(e);
        unsigned char *d = NULL;
        size_t n = 0;
        cr_assert_eq(b64url_decode(vectors[i].enc, strlen(vectors[i].enc), 100, &d, &n), 0,
                     "decode %s", vectors[i].enc);
        cr_expect_eq(n, strlen(vectors[i].raw));
        cr_expect(memcmp(d, vectors[i].raw, n) == 0, "decode %s", vectors[i].enc);
        free(d);
    }
}

Test(b64url, refuses_what_is_not_the_one_canonical_form)
{
    static const char *const bad[] = {
        "Zg==",                  /* padding */
        "+/8",                   /* the other alphabet */
        "Zh",                    /* an unused bit set: would decode as "f" too */
        "Z",                     /* a length no encoding has */
        "Zm9v\n",                /* a line end */
        "Zm 9v",                 /* a space */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char *d = NULL;
        size_t n = 0;
        cr_expect_eq(b64url_decode(bad[i], strlen(bad[i]), 100, &d, &n), -1, "%s", bad[i]);
        cr_expect_null(d);
    }
    unsigned char *d = NULL;
    size_t n = 0;
    cr_expect_eq(b64url_decode("Zm9vYmFy", 8, 7, &d, &n), -1, "longer than the bound");
    cr_expect_eq(b64url_decode("Zm9v\0Yg", 7, 100, &d, &n), -1, "a NUL inside");
}

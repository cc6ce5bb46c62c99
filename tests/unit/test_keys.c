/* test_keys.c: keys are built whole or not at all (key_fmt and key_new in
 * store.c). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "campusd.h"
#include "keys.h"

Test(keys, fits)
{
    char k[KEY_MAX];
    cr_assert_eq(key_fmt(k, sizeof(k), KEY_ATTEMPTS, "ann", "intro/hello#2"), 0);
    cr_assert_str_eq(k, "campus:{u:ann}:attempts:intro/hello#2");
}

Test(keys, exactly_full)
{
    char k[17];                  /* "campus:{u:}:done" and its NUL */
    cr_assert_eq(key_fmt(k, sizeof(k), KEY_DONE, ""), 0);
    cr_assert_str_eq(k, "campus:{u:}:done");
    cr_assert_eq(key_fmt(k, sizeof(k), KEY_DONE, "a"), -1);
    cr_assert_str_eq(k, "", "a key that does not fit leaves nothing behind, not a prefix");
}

Test(keys, too_long_is_refused)
{
    char k[KEY_MAX], name[KEY_MAX + 8];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    cr_assert_eq(key_fmt(k, sizeof(k), KEY_ACCOUNT, name), -1);
    cr_assert_str_eq(k, "");
}

Test(keys, on_the_heap_whole)
{
    char *k = key_new(KEY_COHORT_META, "42");
    cr_assert_str_eq(k, "campus:{c:42}:meta");
    free(k);

    char name[KEY_MAX + 8];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    k = key_new(KEY_ACCOUNT, name);          /* logged, but never cut short */
    cr_assert_eq(strlen(k), strlen("campus:{u:}:account") + strlen(name));
    free(k);
}

Test(keys, arg_read_back_from_a_scanned_key)
{
    char *k = key_new(KEY_REVIEWS_PENDING, "ann-2");
    char *name = key_arg(k, KEY_REVIEWS_PENDING);
    cr_assert_str_eq(name, "ann-2");
    free(name);
    free(k);
    cr_assert_null(key_arg("campus:{u:}:reviews-pending", KEY_REVIEWS_PENDING), "an empty name is no key");
    cr_assert_null(key_arg("campus:{u:ann}:done", KEY_REVIEWS_PENDING));
    cr_assert_null(key_arg("other:{u:ann}:reviews-pending", KEY_REVIEWS_PENDING));
}

/* test_proxy.c: the pure parts of running past one machine: the PROXY v2
 * header parser and the proxy_from and proxy_protocol lists (proxy.c), the
 * Sentinel list (sentinel.c), and the hash tag check every script call goes
 * through (scripts.c). */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "campusd.h"
#include "scripts.h"

static const uint8_t sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };

/* A v2 header: command (0x21 PROXY, 0x20 LOCAL), family, address bytes. */
static size_t header(uint8_t *out, uint8_t cmd, uint8_t fam, const uint8_t *addr, size_t alen)
{
    memcpy(out, sig, 12);
    out[12] = cmd;
    out[13] = fam;
    out[14] = (uint8_t)(alen >> 8);
    out[15] = (uint8_t)alen;
    memcpy(out + 16, addr, alen);
    return 16 + alen;
}

Test(proxy, tcp4_gives_the_source_address)
{
    uint8_t buf[64], a[12] = { 203, 0, 113, 7, 10, 0, 0, 30, 0x1F, 0x90, 0x1B, 0x9E };
    size_t n = header(buf, 0x21, 0x11, a, sizeof(a)), need;
    char addr[64];

    cr_assert_eq(proxy_parse_v2(buf, n, addr, sizeof(addr), &need), (int)n);
    cr_assert_str_eq(addr, "203.0.113.7");
    /* Every prefix asks for more, and says how much once the length is in. */
    for (size_t k = 0; k < n; k++) {
        cr_assert_eq(proxy_parse_v2(buf, k, addr, sizeof(addr), &need), 0, "prefix %zu", k);
        cr_assert_eq(need, k < 16 ? 16 : n);
    }
}

Test(proxy, tcp6_local_and_unspec)
{
    uint8_t buf[128], a[36] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
    size_t n = header(buf, 0x21, 0x21, a, sizeof(a)), need;
    char addr[64];

    cr_assert_eq(proxy_parse_v2(buf, n, addr, sizeof(addr), &need), (int)n);
    cr_assert_str_eq(addr, "2001:db8::1");
    /* LOCAL (a health check) and UNSPEC keep the peer's own address. */
    n = header(buf, 0x20, 0x00, a, 0);
    cr_assert_eq(proxy_parse_v2(buf, n, addr, sizeof(addr), &need), 16);
    cr_assert_str_eq(addr, "");
    n = header(buf, 0x21, 0x00, a, 4);
    cr_assert_eq(proxy_parse_v2(buf, n, addr, sizeof(addr), &need), 20);
    cr_assert_str_eq(addr, "");
    /* TLVs after the addresses are skipped with them. */
    uint8_t b[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 0, 80, 0, 81, 0x04, 0x00, 0x01, 0x00 };
    n = header(buf, 0x21, 0x11, b, 16);
    cr_assert_eq(proxy_parse_v2(buf, n, addr, sizeof(addr), &need), (int)n);
    cr_assert_str_eq(addr, "1.2.3.4");
}

Test(proxy, refuses_what_is_not_a_v2_header)
{
    uint8_t buf[700], a[12] = {0};
    size_t need;
    char addr[64];

    /* A request line, the v1 text header, a wrong first byte: at once. */
    cr_assert_eq(proxy_parse_v2((const uint8_t *)"PING\r\n", 6, addr, sizeof(addr), &need), -1);
    cr_assert_eq(proxy_parse_v2((const uint8_t *)"PROXY TCP4 ", 11, addr, sizeof(addr), &need), -1);
    cr_assert_eq(proxy_parse_v2((const uint8_t *)"\r\n\r\n\0\r\nQUIX", 12, addr, sizeof(addr), &need), -1);
    size_t n = header(buf, 0x11, 0x11, a, 12);               /* version 1 in the v2 frame */
    cr_assert_eq(proxy_parse_v2(buf, n, addr, sizeof(addr), &need), -1);
    n = header(buf, 0x22, 0x11, a, 12);                      /* command 2 */
    cr_assert_eq(proxy_parse_v2(buf, n, addr, sizeof(addr), &need), -1);
    n = header(buf, 0x21, 0x11, a, 8);                       /* too short for TCP4 */
    cr_assert_eq(proxy_parse_v2(buf, n, addr, sizeof(addr), &need), -1);
    n = header(buf, 0x21, 0x31, a, 12);                      /* AF_UNIX is not an address we count */
    cr_assert_eq(proxy_parse_v2(buf, n, addr, sizeof(addr), &need), -1);
    memset(buf, 0, sizeof(buf));
    header(buf, 0x21, 0x11, a, 0);
    buf[14] = 0x02;                                          /* 512 + 16 > PROXY_V2_MAX? */
    buf[15] = 0x10;
    cr_assert_eq(proxy_parse_v2(buf, 16, addr, sizeof(addr), &need), -1);
}

Test(proxy, lists)
{
    struct proxy_net nets[4];

    cr_assert_eq(proxy_listeners_parse("text,tls,http"), PROXY_TEXT | PROXY_TLS | PROXY_HTTP);
    cr_assert_eq(proxy_listeners_parse("http"), PROXY_HTTP);
    cr_assert_eq(proxy_listeners_parse(NULL), 0);
    cr_assert_eq(proxy_listeners_parse("text,"), -1);
    cr_assert_eq(proxy_listeners_parse("ftp"), -1);
    cr_assert_eq(proxy_listeners_parse(""), 0);
    cr_assert_eq(proxy_from_parse("10.0.0.30,192.168.0.0/16,::1", nets, 4), 3);
    cr_assert_eq(nets[0].family, AF_INET);
    cr_assert_eq(nets[0].bits, 32);
    cr_assert_eq(nets[1].bits, 16);
    cr_assert_eq(nets[2].family, AF_INET6);
    cr_assert_eq(nets[2].bits, 128);
    cr_assert_eq(proxy_from_parse("10.0.0.1/33", NULL, 0), -1);
    cr_assert_eq(proxy_from_parse("10.0.0.1/+8", NULL, 0), -1);
    cr_assert_eq(proxy_from_parse("haproxy.local", NULL, 0), -1);
    cr_assert_eq(proxy_from_parse("10.0.0.1,", NULL, 0), -1);
    cr_assert_eq(proxy_from_parse("", NULL, 0), -1);
}

Test(sentinel, list)
{
    struct sentinel_addr a[SENTINEL_MAX];

    cr_assert_eq(sentinel_parse_list("10.0.0.11:26379,10.0.0.12:26380", a, SENTINEL_MAX), 2);
    cr_assert_str_eq(a[1].host, "10.0.0.12");
    cr_assert_eq(a[1].port, 26380);
    cr_assert_eq(sentinel_parse_list("[::1]:26379", a, SENTINEL_MAX), 1);
    cr_assert_str_eq(a[0].host, "::1");
    cr_assert_eq(sentinel_parse_list("10.0.0.11", NULL, 0), -1);
    cr_assert_eq(sentinel_parse_list("10.0.0.11:0", NULL, 0), -1);
    cr_assert_eq(sentinel_parse_list("10.0.0.11:26379,", NULL, 0), -1);
    cr_assert_eq(sentinel_parse_list(":26379", NULL, 0), -1);
    cr_assert_eq(sentinel_parse_list("", NULL, 0), -1);
}

Test(scripts, keys_of_one_hash_tag)
{
    const char *same[] = { "campus:{u:ann}:done", "campus:{u:ann}:events", "x{u:ann}" };
    const char *two[] = { "campus:{u:ann}:done", "campus:{u:bob}:events" };
    const char *untagged[] = { "campus:meta", "campus:users" };
    const char *empty[] = { "campus:{}:a", "campus:{}:a" };
    const char *tag;
    size_t len;

    cr_assert_eq(script_keys_one_tag(3, same), 0);
    cr_assert_eq(script_keys_one_tag(2, two), 1);
    cr_assert_eq(script_keys_one_tag(2, untagged), 1);   /* two keys, two slots */
    cr_assert_eq(script_keys_one_tag(1, two), 0);
    cr_assert_eq(script_keys_one_tag(2, empty), 0);      /* same whole key */
    key_hash_tag("campus:{c:7}:meta", &tag, &len);
    cr_assert(len == 3 && memcmp(tag, "c:7", 3) == 0);
    key_hash_tag("a{}b{c}", &tag, &len);                 /* "{}" is no tag: the whole key */
    cr_assert_eq(len, 7);
    key_hash_tag("a{b", &tag, &len);
    cr_assert_eq(len, 3);
}

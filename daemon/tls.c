/* tls.c: the TLS context; with no certificate configured, a self-signed one
 * is made in the data dir on first start (OpenSSL API, no shell-out). */
#include "campusd.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void log_ssl(const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256];

    ERR_error_string_n(e, buf, sizeof(buf));
    log_error("tls: %s: %s", what, e ? buf : "unknown error");
}

static int add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* Writes a P-256 key (mode 0600) and a one-year self-signed certificate for
 * localhost. Returns 0 or -1. */
static int make_self_signed(const char *cert_path, const char *key_path)
{
    int rc = -1;
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    FILE *f = NULL;

    if (pkey == NULL || x == NULL) {
        log_ssl("key generation");
        goto out;
    }
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Campus", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (add_ext(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") < 0 ||
        add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
        !X509_sign(x, pkey, EVP_sha256())) {
        log_ssl("certificate");
        goto out;
    }
    int fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
        log_error("tls: cannot write %s: %s", key_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto out;
    }
    if (!PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL)) {
        log_ssl("writing the key");
        goto out;
    }
    fclose(f);
    f = fopen(cert_path, "w");
    if (f == NULL || !PEM_write_X509(f, x)) {
        log_error("tls: cannot write %s", cert_path);
        goto out;
    }
    log_info("tls: made a self-signed certificate in %s", cert_path);
    rc = 0;
out:
    if (f)
        fclose(f);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return rc;
}

SSL_CTX *tls_context(const struct config *c)
{
    char cert[1024], key[1024];
    const char *cert_path = c->tls_cert, *key_path = c->tls_key;

    if (cert_path == NULL) {
        snprintf(cert, sizeof(cert), "%s/tls-cert.pem", c->data_dir);
        snprintf(key, sizeof(key), "%s/tls-key.pem", c->data_dir);
        cert_path = cert;
        key_path = key;
        mkdir(c->data_dir, 0700);
        if ((access(cert, R_OK) != 0 || access(key, R_OK) != 0) &&
            make_self_signed(cert, key) < 0)
            return NULL;
    } else if (key_path == NULL) {
        key_path = cert_path;            /* a PEM holding both */
    }

    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        log_ssl("SSL_CTX_new");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    /* Session tickets (stateless: the key is made here, before workers
     * fork, so every worker of this process takes them): a client that
     * kept one resumes without the certificate and its signature, some
     * 600 bytes a connection, 80 ms on a 64 kbit/s link. TLS 1.3
     * resumption still runs an ECDHE exchange (psk_dhe_ke), so it keeps
     * forward secrecy. */
    if (c->tls_session_lifetime > 0) {
        SSL_CTX_set_timeout(ctx, c->tls_session_lifetime);
        /* One ticket, not OpenSSL's two (for clients that open connections
         * side by side): campus keeps one, and each is some 250 bytes in
         * front of the first answer. */
        SSL_CTX_set_num_tickets(ctx, 1);
    } else {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx, 0);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
        log_ssl(cert_path);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        log_ssl(key_path);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

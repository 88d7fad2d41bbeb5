/* Private to approve/: libfido2 and libqrencode are loaded on first use.
 *
 * Why: every agentsh process (each `agentsh -c`, each ssh remote command) paid
 * for mapping and relocating them and what they pull in (a second libcrypto,
 * libudev, libcbor) — about 1 ms of start-up — while only security-key
 * approvals/enrollment and TOTP enrollment use them.  This header includes
 * their headers and routes the calls through function-pointer tables
 * that ap_fido_load() / ap_qr_load() fill.  Every entry point that reaches
 * libfido2 or libqrencode calls the loader first and fails (with what to install)
 * when the library is missing: no call goes through an unfilled table. */
#ifndef AGENTSH_APPROVE_LAZYLIB_INT_H
#define AGENTSH_APPROVE_LAZYLIB_INT_H

#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <qrencode.h>
#include <stddef.h>

/* The sonames agentsh is built against (Debian 12: libfido2-1, libqrencode4). */
#define AP_FIDO_SONAME "libfido2.so.1"
#define AP_QR_SONAME "libqrencode.so.4"

/* 0, or -ENOSYS with the reason in err. Thread-safe; loads once per process. */
int ap_fido_load(char *err, size_t errlen);
int ap_qr_load(char *err, size_t errlen);

#define AP_FIDO_SYMS(X)                                                                           \
	X(fido_init) X(fido_strerr) X(fido_dev_new) X(fido_dev_free) X(fido_dev_open)             \
	X(fido_dev_close) X(fido_dev_io_handle) X(fido_dev_set_io_functions)                      \
	X(fido_dev_set_transport_functions) X(fido_dev_get_assert) X(fido_dev_make_cred)          \
	X(fido_dev_info_new) X(fido_dev_info_free) X(fido_dev_info_manifest)                      \
	X(fido_dev_info_ptr) X(fido_dev_info_path)                                                \
	X(fido_assert_new) X(fido_assert_free) X(fido_assert_allow_cred)                          \
	X(fido_assert_authdata_len) X(fido_assert_authdata_ptr) X(fido_assert_count)              \
	X(fido_assert_id_len) X(fido_assert_id_ptr) X(fido_assert_set_authdata)                   \
	X(fido_assert_set_clientdata_hash) X(fido_assert_set_count) X(fido_assert_set_rp)         \
	X(fido_assert_set_sig) X(fido_assert_set_up) X(fido_assert_set_uv)                        \
	X(fido_assert_sig_len) X(fido_assert_sig_ptr) X(fido_assert_verify) X(fido_assert_sigcount)                       \
	X(fido_cred_new) X(fido_cred_free) X(fido_cred_id_len) X(fido_cred_id_ptr)                \
	X(fido_cred_pubkey_len) X(fido_cred_pubkey_ptr) X(fido_cred_set_clientdata_hash)          \
	X(fido_cred_set_rp) X(fido_cred_set_type) X(fido_cred_set_user) X(fido_cred_verify)       \
	X(fido_cred_verify_self) X(fido_cred_x5c_ptr)                                             \
	X(es256_pk_new) X(es256_pk_free) X(es256_pk_from_ptr)                                     \
	X(eddsa_pk_new) X(eddsa_pk_free) X(eddsa_pk_from_ptr)

/* Members carry the functions' own names and <fido.h>'s types, so a prototype
 * mismatch is a compile error, not a wrong call. */
struct ap_fido_api {
#define AP_FIDO_MEMBER(n) __typeof__(n) *n;
	AP_FIDO_SYMS(AP_FIDO_MEMBER)
#undef AP_FIDO_MEMBER
};
extern struct ap_fido_api ap_fido_api;

#ifndef AP_LAZYLIB_IMPL
#define fido_init (ap_fido_api.fido_init)
#define fido_strerr (ap_fido_api.fido_strerr)
#define fido_dev_new (ap_fido_api.fido_dev_new)
#define fido_dev_free (ap_fido_api.fido_dev_free)
#define fido_dev_open (ap_fido_api.fido_dev_open)
#define fido_dev_close (ap_fido_api.fido_dev_close)
#define fido_dev_io_handle (ap_fido_api.fido_dev_io_handle)
#define fido_dev_set_io_functions (ap_fido_api.fido_dev_set_io_functions)
#define fido_dev_set_transport_functions (ap_fido_api.fido_dev_set_transport_functions)
#define fido_dev_get_assert (ap_fido_api.fido_dev_get_assert)
#define fido_dev_make_cred (ap_fido_api.fido_dev_make_cred)
#define fido_dev_info_new (ap_fido_api.fido_dev_info_new)
#define fido_dev_info_free (ap_fido_api.fido_dev_info_free)
#define fido_dev_info_manifest (ap_fido_api.fido_dev_info_manifest)
#define fido_dev_info_ptr (ap_fido_api.fido_dev_info_ptr)
#define fido_dev_info_path (ap_fido_api.fido_dev_info_path)
#define fido_assert_new (ap_fido_api.fido_assert_new)
#define fido_assert_free (ap_fido_api.fido_assert_free)
#define fido_assert_allow_cred (ap_fido_api.fido_assert_allow_cred)
#define fido_assert_authdata_len (ap_fido_api.fido_assert_authdata_len)
#define fido_assert_authdata_ptr (ap_fido_api.fido_assert_authdata_ptr)
#define fido_assert_count (ap_fido_api.fido_assert_count)
#define fido_assert_id_len (ap_fido_api.fido_assert_id_len)
#define fido_assert_id_ptr (ap_fido_api.fido_assert_id_ptr)
#define fido_assert_set_authdata (ap_fido_api.fido_assert_set_authdata)
#define fido_assert_set_clientdata_hash (ap_fido_api.fido_assert_set_clientdata_hash)
#define fido_assert_set_count (ap_fido_api.fido_assert_set_count)
#define fido_assert_set_rp (ap_fido_api.fido_assert_set_rp)
#define fido_assert_set_sig (ap_fido_api.fido_assert_set_sig)
#define fido_assert_set_up (ap_fido_api.fido_assert_set_up)
#define fido_assert_set_uv (ap_fido_api.fido_assert_set_uv)
#define fido_assert_sig_len (ap_fido_api.fido_assert_sig_len)
#define fido_assert_sig_ptr (ap_fido_api.fido_assert_sig_ptr)
#define fido_assert_verify (ap_fido_api.fido_assert_verify)
#define fido_assert_sigcount (ap_fido_api.fido_assert_sigcount)
#define fido_cred_new (ap_fido_api.fido_cred_new)
#define fido_cred_free (ap_fido_api.fido_cred_free)
#define fido_cred_id_len (ap_fido_api.fido_cred_id_len)
#define fido_cred_id_ptr (ap_fido_api.fido_cred_id_ptr)
#define fido_cred_pubkey_len (ap_fido_api.fido_cred_pubkey_len)
#define fido_cred_pubkey_ptr (ap_fido_api.fido_cred_pubkey_ptr)
#define fido_cred_set_clientdata_hash (ap_fido_api.fido_cred_set_clientdata_hash)
#define fido_cred_set_rp (ap_fido_api.fido_cred_set_rp)
#define fido_cred_set_type (ap_fido_api.fido_cred_set_type)
#define fido_cred_set_user (ap_fido_api.fido_cred_set_user)
#define fido_cred_verify (ap_fido_api.fido_cred_verify)
#define fido_cred_verify_self (ap_fido_api.fido_cred_verify_self)
#define fido_cred_x5c_ptr (ap_fido_api.fido_cred_x5c_ptr)
#define es256_pk_new (ap_fido_api.es256_pk_new)
#define es256_pk_free (ap_fido_api.es256_pk_free)
#define es256_pk_from_ptr (ap_fido_api.es256_pk_from_ptr)
#define eddsa_pk_new (ap_fido_api.eddsa_pk_new)
#define eddsa_pk_free (ap_fido_api.eddsa_pk_free)
#define eddsa_pk_from_ptr (ap_fido_api.eddsa_pk_from_ptr)
#endif

struct ap_qr_api {
	__typeof__(QRcode_encodeString) *QRcode_encodeString;
	__typeof__(QRcode_free) *QRcode_free;
};
extern struct ap_qr_api ap_qr_api;
#ifndef AP_LAZYLIB_IMPL
#define QRcode_encodeString (ap_qr_api.QRcode_encodeString)
#define QRcode_free (ap_qr_api.QRcode_free)
#endif

#endif

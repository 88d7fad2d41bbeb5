/* Opening a FIDO2 authenticator.  Besides HID devices, "unix:/path" reaches a
 * software authenticator over a unix socket through libfido2's custom io and
 * transport functions (the tests use tests/tools/softfido; this machine has no
 * HID).  Framing on the socket: cmd (1 byte), length (2 bytes, big endian),
 * payload.  A software authenticator is only as trustworthy as the account that
 * runs it, which is the approver's own choice at enrollment: verification is
 * always against the enrolled public key. */
#include "approve/approve_int.h"
#include "approve/lazylib_int.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct sock_handle {
	int fd;
};

static void *sock_open(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sock_handle *h;

	if (strncmp(path, "unix:", 5) != 0 || strlen(path + 5) >= sizeof(sa.sun_path))
		return NULL;
	strcpy(sa.sun_path, path + 5);
	if (!(h = calloc(1, sizeof(*h))))
		return NULL;
	h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0 || connect(h->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		return NULL;
	}
	return h;
}

static void sock_close(void *handle)
{
	struct sock_handle *h = handle;

	if (h) {
		close(h->fd);
		free(h);
	}
}

/* HID-report level io is never used: the transport functions carry whole messages. */
static int sock_read(void *h, unsigned char *buf, size_t len, int ms)
{
	(void)h, (void)buf, (void)len, (void)ms;
	return -1;
}

static int sock_write(void *h, const unsigned char *buf, size_t len)
{
	(void)h, (void)buf, (void)len;
	return -1;
}

static int full_io(int fd, void *buf, size_t len, bool wr, int ms)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd p = { .fd = fd, .events = wr ? POLLOUT : POLLIN };
		ssize_t n;
		if (poll(&p, 1, ms < 0 ? -1 : ms) <= 0)
			return -1;
		n = wr ? write(fd, (char *)buf + done, len - done) : read(fd, (char *)buf + done, len - done);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

static int sock_tx(fido_dev_t *d, uint8_t cmd, const unsigned char *buf, size_t len)
{
	struct sock_handle *h = fido_dev_io_handle(d);
	unsigned char hdr[3] = { cmd, (unsigned char)(len >> 8), (unsigned char)len };

	if (!h || len > 0xffff || full_io(h->fd, hdr, 3, true, 5000) < 0 ||
	    (len && full_io(h->fd, (void *)buf, len, true, 5000) < 0))
		return -1;
	return 0;
}

static int sock_rx(fido_dev_t *d, uint8_t cmd, unsigned char *buf, size_t len, int ms)
{
	struct sock_handle *h = fido_dev_io_handle(d);
	unsigned char hdr[3];
	size_t n;

	if (!h || full_io(h->fd, hdr, 3, false, ms) < 0)
		return -1;
	n = (size_t)hdr[1] << 8 | hdr[2];
	if (hdr[0] != cmd || n > len || (n && full_io(h->fd, buf, n, false, ms) < 0))
		return -1;
	return (int)n;
}

static const fido_dev_io_t sock_io = { sock_open, sock_close, sock_read, sock_write };
static const fido_dev_transport_t sock_transport = { sock_rx, sock_tx };

static int first_device(char *path, size_t len, char *err, size_t errlen)
{
	fido_dev_info_t *list = fido_dev_info_new(16);
	size_t n = 0;
	int rc = -ENODEV;

	if (list && fido_dev_info_manifest(list, 16, &n) == FIDO_OK && n > 0) {
		snprintf(path, len, "%s", fido_dev_info_path(fido_dev_info_ptr(list, 0)));
		rc = 0;
	}
	fido_dev_info_free(&list, 16);
	if (rc < 0)
		ap_err(err, errlen, "no FIDO2 security key found; plug one in, or name one with "
		       "--device PATH (a hidraw path or unix:/socket of a software authenticator)");
	return rc;
}

int ap_fido_open(const char *device, struct fido_dev **out, char *err, size_t errlen)
{
	char path[512];
	fido_dev_t *d;
	int r;

	*out = NULL;
	if ((r = ap_fido_load(err, errlen)) < 0)
		return r;
	fido_init(0);
	if (!device || !*device) {
		if ((r = first_device(path, sizeof(path), err, errlen)) < 0)
			return r;
		device = path;
	}
	if (!(d = fido_dev_new()))
		return -ENOMEM;
	if (strncmp(device, "unix:", 5) == 0 &&
	    (fido_dev_set_io_functions(d, &sock_io) != FIDO_OK ||
	     fido_dev_set_transport_functions(d, &sock_transport) != FIDO_OK)) {
		fido_dev_free(&d);
		return -EINVAL;
	}
	if ((r = fido_dev_open(d, device)) != FIDO_OK) {
		ap_err(err, errlen, "cannot open the security key %s: %s", device, fido_strerr(r));
		fido_dev_free(&d);
		return -ENODEV;
	}
	*out = d;
	return 0;
}

void ap_fido_close(struct fido_dev *d)
{
	if (d) {
		fido_dev_close(d);
		fido_dev_free(&d);
	}
}

/* storeop.c: the file store's requests (SPEC "File store"): put, get and
 * drop, each answered on the connection that asked, which stays usable
 * whatever the answer. */
#include "daemon/server_impl.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base64.h"
#include "core/job.h"
#include "daemon/store.h"

static void put(struct conn *c, const cJSON *root, const char *line, size_t line_len)
{
	const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(root, "base64");
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(root, "content");
	unsigned char *decoded = NULL;
	const void *data;
	char ref[WB_REF_LEN + 1], msg[160];
	size_t len;
	int rc;

	if (cJSON_IsString(b64) == cJSON_IsString(text)) {
		op_send_failed(c, "put", "put: give the bytes as exactly one of base64 and content");
		return;
	}
	/* content is text: a "\u0000" would be cut short, silently. */
	if (cJSON_IsString(text) && wb_job_check_text(line, line_len, msg, sizeof(msg)) < 0) {
		op_send_failed(c, "put", msg);
		return;
	}
	if (cJSON_IsString(b64)) {
		if (wb_base64_decode(b64->valuestring, &decoded, &len) < 0) {
			op_send_failed(c, "put", "put: base64: not valid base64");
			return;
		}
		data = decoded;
	} else {
		data = text->valuestring;
		len = strlen(text->valuestring);
	}
	rc = wb_store_put(c->srv->store, data, len, ref);
	free(decoded);
	if (rc == -EFBIG)
		snprintf(msg, sizeof(msg), "put: %zu bytes is more than the whole store holds (warmbox serve --store)", len);
	else if (rc == -ENOSPC)
		snprintf(msg, sizeof(msg), "put: the store is full of files that queued and running jobs need: "
			 "try again later (warmbox serve --store)");
	else if (rc < 0)
		snprintf(msg, sizeof(msg), "put: manager: %s", strerror(-rc));
	else
		snprintf(msg, sizeof(msg), "{\"op\":\"put\",\"ok\":true,\"ref\":\"%s\",\"size\":%zu}", ref, len);
	if (rc < 0)
		op_send_failed(c, "put", msg);
	else
		conn_send_line(c, msg);
}

/* Reads the whole entry; 0 or -errno. */
static int read_entry(struct wb_store_entry *e, unsigned char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = pread(wb_store_entry_fd(e), buf + off, len - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += (size_t)n;
	}
	return 0;
}

static void get(struct conn *c, const char *ref)
{
	static const char head[] = "{\"op\":\"get\",\"ok\":true,\"ref\":\"%s\",\"base64\":\"";
	struct wb_store_entry *e = wb_store_find(c->srv->store, ref);
	unsigned char *bytes;
	char *line;
	size_t len, b64_len, off;

	if (!e) {
		op_send_failed(c, "get", "get: not in the store");
		return;
	}
	len = (size_t)wb_store_entry_size(e);
	b64_len = (len + 2) / 3 * 4;
	/* The bytes, the line and its queued copy: all held at once. */
	if (c->srv->mem_used + len + 2 * b64_len > c->srv->cfg.max_memory) {
		op_send_failed(c, "get", "get: " MEMORY_FULL);
		return;
	}
	bytes = malloc(len ? len : 1);
	line = malloc(sizeof(head) + WB_REF_LEN + b64_len + 4);
	if (!bytes || !line || read_entry(e, bytes, len) < 0) {
		op_send_failed(c, "get", "get: manager: cannot read the entry");
	} else {
		off = (size_t)sprintf(line, head, ref);
		off += wb_base64_encode_into(line + off, bytes, len);
		memcpy(line + off, "\"}", 3);
		conn_send_line(c, line);
	}
	free(bytes);
	free(line);
}

bool storeop_handle(struct conn *c, const char *op, const cJSON *root, const char *line, size_t len)
{
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(root, "ref");

	if (strcmp(op, "put") == 0) {
		put(c, root, line, len);
	} else if (strcmp(op, "get") != 0 && strcmp(op, "drop") != 0) {
		return false;
	} else if (!cJSON_IsString(ref)) {
		op_send_failed(c, op, strcmp(op, "get") == 0 ? "get: ref: a string is required"
							  : "drop: ref: a string is required");
	} else if (strcmp(op, "get") == 0) {
		get(c, ref->valuestring);
	} else if (wb_store_drop(c->srv->store, ref->valuestring) < 0) {
		op_send_failed(c, "drop", "drop: not in the store");
	} else {
		conn_send_line(c, "{\"op\":\"drop\",\"ok\":true}");
	}
	return true;
}

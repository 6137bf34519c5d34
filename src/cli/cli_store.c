/* cli_store.c: `warmbox put` and `warmbox get`, the file store's clients
 * (SPEC "File store"), for shell pipelines: put prints the ref, get writes
 * the bytes. One request, one answer line, blocking. */
#include "cli/cli.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/base64.h"
#include "core/job.h"

/* put reads at most this much; the daemon's --max-request bounds it too. */
#define PUT_MAX_BYTES (1ull << 30)

static int send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The daemon's one answer line, parsed; NULL (said on stderr) if none. */
static cJSON *answer(int fd, const char *cmd)
{
	char *buf = NULL, *nl = NULL, *grown;
	size_t len = 0, cap = 0;
	cJSON *o = NULL;

	while (!nl) {
		if (cap - len < 65536) {
			cap = cap ? 2 * cap : 1 << 20;
			if (!(grown = realloc(buf, cap))) {
				fprintf(stderr, "warmbox %s: out of memory for the answer\n", cmd);
				free(buf);
				return NULL;
			}
			buf = grown;
		}
		ssize_t n = recv(fd, buf + len, cap - len - 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
	}
	if (nl)
		o = cJSON_ParseWithLength(buf, (size_t)(nl - buf));
	if (!o)
		fprintf(stderr, "warmbox %s: no answer from the daemon\n", cmd);
	free(buf);
	return o;
}

/* Sends line and returns the answer if it says ok; else says why. */
static cJSON *ask(int fd, const char *cmd, const char *line, size_t len)
{
	cJSON *o, *error;

	if (send_all(fd, line, len) < 0) {
		fprintf(stderr, "warmbox %s: the daemon closed the connection\n", cmd);
		return NULL;
	}
	if (!(o = answer(fd, cmd)))
		return NULL;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ok")))
		return o;
	error = cJSON_GetObjectItemCaseSensitive(o, "error");
	/* The daemon's errors name the op already: "get: not in the store". */
	fprintf(stderr, "warmbox: %s\n", cJSON_IsString(error) ? error->valuestring : "refused");
	cJSON_Delete(o);
	return NULL;
}

int wb_cli_put(int argc, char **argv)
{
	struct wb_client_opts o = {0};
	unsigned char *data;
	char *line;
	size_t len, off;
	cJSON *a, *ref;
	int fd, rc = wb_cli_client_parse(argc, argv, &o, true);

	if (rc)
		return rc > 0 ? (wb_cli_client_usage(stdout), WB_EXIT_OK) : WB_EXIT_USAGE;
	rc = wb_cli_read_file(o.file ? o.file : "-", PUT_MAX_BYTES, &data, &len);
	if (rc < 0) {
		fprintf(stderr, "warmbox put: %s: %s\n", o.file ? o.file : "standard input", strerror(-rc));
		return rc == -ENOMEM ? WB_EXIT_SANDBOX : WB_EXIT_USAGE;
	}
	line = malloc(32 + (len + 2) / 3 * 4);
	if (!line) {
		free(data);
		fprintf(stderr, "warmbox put: out of memory\n");
		return WB_EXIT_SANDBOX;
	}
	off = (size_t)sprintf(line, "{\"op\":\"put\",\"base64\":\"");
	off += wb_base64_encode_into(line + off, data, len);
	off += (size_t)sprintf(line + off, "\"}\n");
	free(data);
	if ((fd = wb_cli_client_connect(&o)) < 0) {
		free(line);
		return WB_EXIT_USAGE;
	}
	a = ask(fd, "put", line, off);
	close(fd);
	free(line);
	ref = cJSON_GetObjectItemCaseSensitive(a, "ref");
	if (!cJSON_IsString(ref)) {
		cJSON_Delete(a);
		return WB_EXIT_SANDBOX;
	}
	printf("%s\n", ref->valuestring);
	cJSON_Delete(a);
	return WB_EXIT_OK;
}

int wb_cli_get(int argc, char **argv)
{
	struct wb_client_opts o = {0};
	char line[WB_REF_LEN + 64];
	unsigned char *data = NULL;
	size_t len = 0;
	cJSON *a, *b64;
	int fd, rc = wb_cli_client_parse(argc, argv, &o, true);

	if (rc)
		return rc > 0 ? (wb_cli_client_usage(stdout), WB_EXIT_OK) : WB_EXIT_USAGE;
	if (!o.file || strlen(o.file) != WB_REF_LEN || strchr(o.file, '"') || strchr(o.file, '\\')) {
		fprintf(stderr, "warmbox get: expected a ref (sha256: and 64 hex digits), got \"%s\"\n",
			o.file ? o.file : "");
		return WB_EXIT_USAGE;
	}
	if ((fd = wb_cli_client_connect(&o)) < 0)
		return WB_EXIT_USAGE;
	rc = snprintf(line, sizeof(line), "{\"op\":\"get\",\"ref\":\"%s\"}\n", o.file);
	a = ask(fd, "get", line, (size_t)rc);
	close(fd);
	b64 = cJSON_GetObjectItemCaseSensitive(a, "base64");
	if (!cJSON_IsString(b64) || wb_base64_decode(b64->valuestring, &data, &len) < 0) {
		if (a)
			fprintf(stderr, "warmbox get: the daemon's answer carries no bytes\n");
		cJSON_Delete(a);
		return WB_EXIT_SANDBOX;
	}
	cJSON_Delete(a);
	rc = fwrite(data, 1, len, stdout) == len && fflush(stdout) == 0 ? WB_EXIT_OK : WB_EXIT_SANDBOX;
	if (rc != WB_EXIT_OK)
		fprintf(stderr, "warmbox get: cannot write to standard output\n");
	free(data);
	return rc;
}

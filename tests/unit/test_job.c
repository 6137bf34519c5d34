/* test_job.c: wb_job_parse and wb_job_validate against SPEC.md "Job":
 * defaults, every kind of invalid job with the field its message names,
 * and parsing at the very end of a mapping so that any over-read faults. */
#include "core/job.h"
#include "check.h"

#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static bool is_zeroed(const struct wb_job *job)
{
	static const struct wb_job zero;

	return memcmp(job, &zero, sizeof zero) == 0;
}

static int parse(const char *json, struct wb_job *job)
{
	char err[WB_ERR_LEN];
	int r = wb_job_parse(json, strlen(json), job, err, sizeof err);

	if (r != 0)
		fprintf(stderr, "unexpected error for %s: %s\n", json, err);
	return r;
}

/* A job that must be refused with a message containing needle. */
static void invalid_at(int line, const char *json, size_t len, const char *needle)
{
	struct wb_job job;
	char err[WB_ERR_LEN];
	int r;

	memset(err, 'x', sizeof err);
	r = wb_job_parse(json, len, &job, err, sizeof err);
	CHECKF(r == -EINVAL, "line %d: %.80s: got %d", line, json, r);
	CHECKF(strstr(err, needle) != NULL, "line %d: message \"%s\" lacks \"%s\"", line, err, needle);
	CHECKF(strchr(err, '\n') == NULL, "line %d: message \"%s\" spans lines", line, err);
	CHECKF(is_zeroed(&job), "line %d: job not left empty", line);
	wb_job_free(&job);
}

#define INVALID(json, needle) invalid_at(__LINE__, (json), strlen(json), (needle))
#define INVALID_LEN(json, len, needle) invalid_at(__LINE__, (json), (len), (needle))

/* Wraps a fragment as the rest of an otherwise valid job. */
static char *with_argv(const char *rest)
{
	char *s;

	if (asprintf(&s, "{\"argv\":[\"/bin/true\"]%s%s}", *rest ? "," : "", rest) < 0)
		abort();
	return s;
}

static void invalid_with(int line, const char *rest, const char *needle)
{
	char *s = with_argv(rest);

	invalid_at(line, s, strlen(s), needle);
	free(s);
}

#define INVALID_WITH(rest, needle) invalid_with(__LINE__, (rest), (needle))

static int parse_with(const char *rest, struct wb_job *job)
{
	char *s = with_argv(rest);
	int r = parse(s, job);

	free(s);
	return r;
}

static void test_defaults(void)
{
	struct wb_job job;

	CHECK(parse("{\"argv\":[\"/bin/true\"]}", &job) == 0);
	CHECK(job.id == NULL);
	CHECK(job.argc == 1 && strcmp(job.argv[0], "/bin/true") == 0 && job.argv[1] == NULL);
	CHECK(job.envc == 3 && job.env[3] == NULL);
	CHECK(strcmp(job.env[0], "PATH=/usr/local/bin:/usr/bin:/bin") == 0);
	CHECK(strcmp(job.env[1], "HOME=/box") == 0);
	CHECK(strcmp(job.env[2], "LANG=C.UTF-8") == 0);
	CHECK(strcmp(job.cwd, "/box") == 0);
	CHECK(job.nfiles == 0 && job.stdin_len == 0);
	CHECK(strcmp(job.policy, "default") == 0);
	CHECK(!job.network);
	CHECK(job.ncopy_out == 0 && job.copy_out && job.copy_out[0] == NULL);
	CHECK(job.limits.cpu_ms == WB_DEFAULT_CPU_MS);
	CHECK(job.limits.wall_ms == WB_DEFAULT_WALL_MS);
	CHECK(job.limits.memory_kb == WB_DEFAULT_MEMORY_KB);
	CHECK(job.limits.procs == WB_DEFAULT_PROCS);
	CHECK(job.limits.output_kb == WB_DEFAULT_OUTPUT_KB);
	CHECK(job.limits.file_size_kb == WB_DEFAULT_FILE_SIZE_KB);
	CHECK(job.limits.stack_kb == WB_DEFAULT_STACK_KB);
	CHECK(wb_job_validate(&job, NULL, 0) == 0);
	wb_job_free(&job);
	CHECK(is_zeroed(&job));
	wb_job_free(&job);       /* a freed job may be freed again */
	wb_job_free(NULL);

	/* wb_job_init gives the same defaults, with an empty argv. */
	CHECK(wb_job_init(&job) == 0);
	CHECK(job.argc == 0 && job.argv && job.argv[0] == NULL);
	CHECK(job.envc == 3 && strcmp(job.cwd, "/box") == 0 && strcmp(job.policy, "default") == 0);
	CHECK(job.limits.wall_ms == WB_DEFAULT_WALL_MS && job.limits.stack_kb == WB_DEFAULT_STACK_KB);
	wb_job_free(&job);
}

static const char spec_example[] =
	"{\n"
	"  \"id\": \"any string, echoed back\",\n"
	"  \"argv\": [\"/usr/bin/python3\", \"main.py\"],\n"
	"  \"env\": {\"LANG\": \"C.UTF-8\"},\n"
	"  \"cwd\": \"/box\",\n"
	"  \"files\": [\n"
	"    {\"path\": \"main.py\", \"content\": \"print(input())\\n\"},\n"
	"    {\"path\": \"a.out\", \"base64\": \"f0VMRgIB\", \"mode\": 493}\n"
	"  ],\n"
	"  \"stdin\": \"42\\n\",\n"
	"  \"limits\": {\n"
	"    \"cpu_ms\": 1000, \"wall_ms\": 3000, \"memory_kb\": 262144,\n"
	"    \"procs\": 1, \"output_kb\": 64, \"file_size_kb\": 1024, \"stack_kb\": 65536\n"
	"  },\n"
	"  \"policy\": \"default\",\n"
	"  \"network\": false,\n"
	"  \"copy_out\": [\"out.txt\"]\n"
	"}\n";

static void test_spec_example(void)
{
	struct wb_job job;

	CHECK(parse(spec_example, &job) == 0);
	CHECK(strcmp(job.id, "any string, echoed back") == 0);
	CHECK(job.argc == 2 && strcmp(job.argv[1], "main.py") == 0 && !job.argv[2]);
	CHECK(job.envc == 1 && strcmp(job.env[0], "LANG=C.UTF-8") == 0 && !job.env[1]);
	CHECK(job.nfiles == 2);
	CHECK(strcmp(job.files[0].path, "main.py") == 0 && job.files[0].mode == 0644);
	CHECK(job.files[0].len == 15 && memcmp(job.files[0].data, "print(input())\n", 15) == 0);
	CHECK(strcmp(job.files[1].path, "a.out") == 0 && job.files[1].mode == 0755);
	CHECK(job.files[1].len == 6 && memcmp(job.files[1].data, "\x7f" "ELF\x02\x01", 6) == 0);
	CHECK(job.stdin_len == 3 && memcmp(job.stdin_data, "42\n", 3) == 0);
	CHECK(job.limits.cpu_ms == 1000 && job.limits.wall_ms == 3000);
	CHECK(job.limits.memory_kb == 262144 && job.limits.procs == 1);
	CHECK(job.limits.output_kb == 64 && job.limits.file_size_kb == 1024);
	CHECK(job.limits.stack_kb == 65536);
	CHECK(job.ncopy_out == 1 && strcmp(job.copy_out[0], "out.txt") == 0 && !job.copy_out[1]);
	CHECK(wb_job_validate(&job, NULL, 0) == 0);
	wb_job_free(&job);
}

static void test_env(void)
{
	struct wb_job job;

	CHECK(parse_with("\"env\":{\"A\":\"1\",\"B\":\"x=y\",\"C\":\"\"}", &job) == 0);
	CHECK(job.envc == 3 && !job.env[3]);
	CHECK(strcmp(job.env[0], "A=1") == 0 && strcmp(job.env[1], "B=x=y") == 0);
	CHECK(strcmp(job.env[2], "C=") == 0);
	wb_job_free(&job);
	CHECK(parse_with("\"env\":{}", &job) == 0);
	CHECK(job.envc == 0 && job.env && !job.env[0]);
	wb_job_free(&job);

	INVALID_WITH("\"env\":[]", "env:");
	INVALID_WITH("\"env\":{\"A\":1}", "env.A: must be a string");
	INVALID_WITH("\"env\":{\"\":\"x\"}", "env: invalid variable name");
	INVALID_WITH("\"env\":{\"A=B\":\"x\"}", "env: invalid variable name \"A=B\"");
	INVALID_WITH("\"env\":{\"A\":\"1\",\"B\":\"2\",\"A\":\"3\"}", "env: duplicate variable \"A\"");
}

static void test_stdin(void)
{
	struct wb_job job;

	CHECK(parse_with("\"stdin\":{\"base64\":\"AAEC/w==\"}", &job) == 0);
	CHECK(job.stdin_len == 4 && memcmp(job.stdin_data, "\0\1\2\xff", 4) == 0);
	wb_job_free(&job);
	CHECK(parse_with("\"stdin\":\"h\\u00e9\\n\"", &job) == 0);
	CHECK(job.stdin_len == 4 && memcmp(job.stdin_data, "h\xc3\xa9\n", 4) == 0);
	wb_job_free(&job);
	CHECK(parse_with("\"stdin\":{\"base64\":\"\"}", &job) == 0);
	CHECK(job.stdin_len == 0);
	wb_job_free(&job);

	INVALID_WITH("\"stdin\":5", "stdin: must be");
	INVALID_WITH("\"stdin\":null", "stdin: must be");
	INVALID_WITH("\"stdin\":{}", "stdin.base64: required");
	INVALID_WITH("\"stdin\":{\"base64\":7}", "stdin.base64: must be a string");
	INVALID_WITH("\"stdin\":{\"base64\":\"A===\"}", "stdin.base64: invalid base64");
	INVALID_WITH("\"stdin\":{\"base64\":\"\",\"text\":\"x\"}", "stdin: unknown field \"text\"");
}

static void wall_case(int line, const char *limits, uint64_t cpu, uint64_t wall)
{
	struct wb_job job;
	char *rest;

	if (asprintf(&rest, "\"limits\":%s", limits) < 0)
		abort();
	CHECKF(parse_with(rest, &job) == 0, "line %d", line);
	CHECKF(job.limits.cpu_ms == cpu && job.limits.wall_ms == wall,
	       "line %d: cpu %llu wall %llu", line, (unsigned long long)job.limits.cpu_ms,
	       (unsigned long long)job.limits.wall_ms);
	wb_job_free(&job);
	free(rest);
}

static void test_wall_follows_cpu(void)
{
	wall_case(__LINE__, "{}", WB_DEFAULT_CPU_MS, WB_DEFAULT_WALL_MS);
	wall_case(__LINE__, "{\"cpu_ms\":1}", 1, WB_DEFAULT_WALL_MS);
	wall_case(__LINE__, "{\"cpu_ms\":1000}", 1000, 3000);
	wall_case(__LINE__, "{\"cpu_ms\":1001}", 1001, 3002);
	wall_case(__LINE__, "{\"cpu_ms\":5000}", 5000, 11000);
	wall_case(__LINE__, "{\"cpu_ms\":86400000}", 86400000, WB_MAX_TIME_MS);
	wall_case(__LINE__, "{\"cpu_ms\":50000000}", 50000000, WB_MAX_TIME_MS);
	wall_case(__LINE__, "{\"cpu_ms\":5000,\"wall_ms\":100}", 5000, 100);
	wall_case(__LINE__, "{\"wall_ms\":7}", WB_DEFAULT_CPU_MS, 7);
	wall_case(__LINE__, "{\"cpu_ms\":2e3}", 2000, 5000);
	wall_case(__LINE__, "{\"cpu_ms\":2.0}", 2, WB_DEFAULT_WALL_MS);
}

static void test_limits(void)
{
	static const struct { const char *name; unsigned long long min, max; } rules[] = {
		{ "cpu_ms", 1, WB_MAX_TIME_MS }, { "wall_ms", 1, WB_MAX_TIME_MS },
		{ "memory_kb", 1024, WB_MAX_MEMORY_KB }, { "procs", 1, WB_MAX_PROCS },
		{ "output_kb", 0, WB_MAX_OUTPUT_KB }, { "file_size_kb", 0, WB_MAX_FILE_SIZE_KB },
		{ "stack_kb", 64, WB_MAX_MEMORY_KB },
	};
	static const char *const bad_values[] = {
		"1.5", "-1", "\"1\"", "9007199254740994", "1e300", "true", "null", "[]", "{}", "-0.5",
	};
	size_t i, k;

	for (i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		char rest[160], needle[80];
		struct wb_job job;
		uint64_t *field = NULL;

		snprintf(needle, sizeof needle, "limits.%s: must be an integer between %llu and %llu",
			 rules[i].name, rules[i].min, rules[i].max);
		snprintf(rest, sizeof rest, "\"limits\":{\"%s\":%llu}", rules[i].name, rules[i].min);
		CHECKF(parse_with(rest, &job) == 0, "%s", rest);
		switch (i) {
		case 0: field = &job.limits.cpu_ms; break;
		case 1: field = &job.limits.wall_ms; break;
		case 2: field = &job.limits.memory_kb; break;
		case 3: field = &job.limits.procs; break;
		case 4: field = &job.limits.output_kb; break;
		case 5: field = &job.limits.file_size_kb; break;
		default: field = &job.limits.stack_kb; break;
		}
		CHECKF(*field == rules[i].min, "%s", rest);
		wb_job_free(&job);
		snprintf(rest, sizeof rest, "\"limits\":{\"%s\":%llu}", rules[i].name, rules[i].max);
		CHECKF(parse_with(rest, &job) == 0, "%s", rest);
		wb_job_free(&job);
		snprintf(rest, sizeof rest, "\"limits\":{\"%s\":%llu}", rules[i].name, rules[i].max + 1);
		invalid_with(__LINE__, rest, needle);
		if (rules[i].min > 0) {
			snprintf(rest, sizeof rest, "\"limits\":{\"%s\":%llu}", rules[i].name, rules[i].min - 1);
			invalid_with(__LINE__, rest, needle);
		}
		for (k = 0; k < sizeof bad_values / sizeof bad_values[0]; k++) {
			snprintf(rest, sizeof rest, "\"limits\":{\"%s\":%s}", rules[i].name, bad_values[k]);
			invalid_with(__LINE__, rest, needle);
		}
	}
	INVALID_WITH("\"limits\":{\"cpu\":1}", "limits: unknown field \"cpu\"");
	INVALID_WITH("\"limits\":{\"cpu_ms\":1,\"cpu_ms\":2}", "limits: duplicate field \"cpu_ms\"");
	INVALID_WITH("\"limits\":[]", "limits: must be an object");
	INVALID_WITH("\"limits\":null", "limits: must be an object");
}

static void test_files(void)
{
	struct wb_job job;
	char *big, *rest;
	size_t i;

	CHECK(parse_with("\"files\":[{\"path\":\"a/b.c\",\"content\":\"\",\"mode\":0},"
			 "{\"path\":\"x\",\"base64\":\"\",\"mode\":511},"
			 "{\"path\":\"..a/.b/c..\",\"content\":\"z\"}]", &job) == 0);
	CHECK(job.nfiles == 3 && job.files[0].mode == 0 && job.files[1].mode == 0777);
	CHECK(job.files[0].len == 0 && job.files[1].len == 0 && job.files[2].len == 1);
	CHECK(job.files[2].mode == 0644);
	wb_job_free(&job);
	CHECK(parse_with("\"files\":[]", &job) == 0 && job.nfiles == 0);
	wb_job_free(&job);

	/* A "\\u0000" in JSON is a backslash and text, not a NUL. */
	CHECK(parse_with("\"files\":[{\"path\":\"a\",\"content\":\"\\\\u0000\"}]", &job) == 0);
	CHECK(job.files[0].len == 6 && memcmp(job.files[0].data, "\\u0000", 6) == 0);
	wb_job_free(&job);

	INVALID_WITH("\"files\":{}", "files: must be an array");
	INVALID_WITH("\"files\":[\"a\"]", "files[0]: must be an object");
	INVALID_WITH("\"files\":[{\"content\":\"\"}]", "files[0].path: required");
	INVALID_WITH("\"files\":[{\"path\":\"a\"}]", "files[0]: exactly one of content, base64 and ref");
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"content\":\"\",\"base64\":\"\"}]",
		     "files[0]: exactly one of content, base64 and ref");

	/* By ref (the daemon's store): the syntax is checked here, the
	 * store is the daemon's to look in. */
	CHECK(parse_with("\"files\":[{\"path\":\"a\",\"ref\":\"sha256:" SHA_ABC "\",\"mode\":493}]", &job) == 0);
	CHECK(job.nfiles == 1 && job.files[0].ref && strcmp(job.files[0].ref, "sha256:" SHA_ABC) == 0 &&
	      job.files[0].data == NULL && job.files[0].len == 0 && job.files[0].mode == 0755);
	wb_job_free(&job);
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"content\":\"\",\"ref\":\"sha256:" SHA_ABC "\"}]",
		     "files[0]: exactly one of content, base64 and ref");
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"ref\":5}]", "files[0].ref: must be a string");
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"ref\":\"sha256:abc\"}]",
		     "files[0].ref: expected \"sha256:\" and 64 lowercase hex digits");
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"ref\":\"sha256:" SHA_ABC "0\"}]",
		     "files[0].ref: expected \"sha256:\" and 64 lowercase hex digits");
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"ref\":\"sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\"}]",
		     "files[0].ref: expected \"sha256:\" and 64 lowercase hex digits");
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"ref\":\"md5:" SHA_ABC "\"}]",
		     "files[0].ref: expected \"sha256:\" and 64 lowercase hex digits");
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"ref\":\"sha256:" "ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" "\"}]",
		     "files[0].ref: expected \"sha256:\" and 64 lowercase hex digits");
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"content\":\"\"},{\"path\":\"b\",\"base64\":\"%%%%\"}]",
		     "files[1].base64: invalid base64");
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"content\":5}]", "files[0].content: must be a string");
	INVALID_WITH("\"files\":[{\"path\":5,\"content\":\"\"}]", "files[0].path: must be a string");
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"content\":\"\"},{\"path\":\"b\",\"contents\":\"\"}]",
		     "files[1]: unknown field \"contents\"");
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"path\":\"b\",\"content\":\"\"}]",
		     "files[0]: duplicate field \"path\"");
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"content\":\"\",\"mode\":512}]", "files[0].mode: must be an integer");
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"content\":\"\",\"mode\":\"0644\"}]", "files[0].mode");
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"content\":\"\",\"mode\":1.5}]", "files[0].mode");
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"content\":\"\",\"mode\":-1}]", "files[0].mode");
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"content\":\"\",\"mode\":4294967716}]", "files[0].mode");

	/* Path rules, each naming the entry. */
	INVALID_WITH("\"files\":[{\"path\":\"ok\",\"content\":\"\"},{\"path\":\"/etc/passwd\",\"content\":\"\"}]",
		     "files[1].path: absolute paths are not allowed");
	INVALID_WITH("\"files\":[{\"path\":\"..\",\"content\":\"\"}]", "files[0].path: \"..\" components");
	INVALID_WITH("\"files\":[{\"path\":\"a/../../b\",\"content\":\"\"}]", "files[0].path: \"..\" components");
	INVALID_WITH("\"files\":[{\"path\":\"a/..\",\"content\":\"\"}]", "files[0].path: \"..\"");
	INVALID_WITH("\"files\":[{\"path\":\"./a\",\"content\":\"\"}]", "files[0].path: \".\" components");
	INVALID_WITH("\"files\":[{\"path\":\"a//b\",\"content\":\"\"}]", "files[0].path: empty components");
	INVALID_WITH("\"files\":[{\"path\":\"a/\",\"content\":\"\"}]", "files[0].path: empty components");
	INVALID_WITH("\"files\":[{\"path\":\"\",\"content\":\"\"}]", "files[0].path: must not be empty");

	/* Duplicates name the later entry and the earlier one. */
	INVALID_WITH("\"files\":[{\"path\":\"a\",\"content\":\"\"},{\"path\":\"b\",\"content\":\"\"},"
		     "{\"path\":\"c\",\"content\":\"\"},{\"path\":\"a\",\"content\":\"\"}]",
		     "files[3].path: duplicate of files[0]");
	INVALID_WITH("\"files\":[{\"path\":\"x\",\"content\":\"\"},{\"path\":\"y\",\"content\":\"\"},"
		     "{\"path\":\"y\",\"content\":\"\"},{\"path\":\"x\",\"content\":\"\"}]",
		     "files[2].path: duplicate of files[1]");

	/* Path length: WB_MAX_PATH bytes pass, one more does not. */
	big = malloc(WB_MAX_PATH + 2);
	memset(big, 'p', WB_MAX_PATH + 1);
	big[WB_MAX_PATH] = '\0';
	if (asprintf(&rest, "\"files\":[{\"path\":\"%s\",\"content\":\"\"}]", big) < 0)
		abort();
	CHECK(parse_with(rest, &job) == 0);
	wb_job_free(&job);
	free(rest);
	big[WB_MAX_PATH] = 'p';
	big[WB_MAX_PATH + 1] = '\0';
	if (asprintf(&rest, "\"files\":[{\"path\":\"%s\",\"content\":\"\"}]", big) < 0)
		abort();
	INVALID_WITH(rest, "files[0].path: longer than 4096 bytes");
	free(rest);
	free(big);

	/* Count: WB_MAX_FILES pass, one more does not. */
	big = malloc((WB_MAX_FILES + 1) * 40 + 64);
	strcpy(big, "\"files\":[");
	for (i = 0; i < WB_MAX_FILES; i++)
		sprintf(big + strlen(big), "%s{\"path\":\"f%zu\",\"content\":\"\"}", i ? "," : "", i);
	strcat(big, "]");
	CHECK(parse_with(big, &job) == 0 && job.nfiles == WB_MAX_FILES);
	wb_job_free(&job);
	big[strlen(big) - 1] = '\0';
	strcat(big, ",{\"path\":\"last\",\"content\":\"\"}]");
	INVALID_WITH(big, "files: at most 4096 entries");
	free(big);
}

/* WB_MAX_REFS files by ref are one job; one more is not. */
static void test_ref_count(void)
{
	char json[8192], err[256];
	size_t off = 0;
	struct wb_job job;

	for (int n = WB_MAX_REFS; n <= WB_MAX_REFS + 1; n++) {
		off = (size_t)snprintf(json, sizeof(json), "{\"argv\":[\"x\"],\"files\":[");
		for (int i = 0; i < n; i++)
			off += (size_t)snprintf(json + off, sizeof(json) - off, "%s{\"path\":\"f%d\",\"ref\":\"sha256:%s\"}",
						i ? "," : "", i, SHA_ABC);
		snprintf(json + off, sizeof(json) - off, "]}");
		memset(&job, 0, sizeof(job));
		if (n == WB_MAX_REFS) {
			CHECKF(wb_job_parse(json, strlen(json), &job, err, sizeof(err)) == 0, "%s", err);
		} else {
			CHECK(wb_job_parse(json, strlen(json), &job, err, sizeof(err)) < 0);
			CHECKF(strstr(err, "files[32].ref: at most 32 files by ref") != NULL, "%s", err);
		}
		wb_job_free(&job);
	}
}

static void test_argv(void)
{
	struct wb_job job;
	char *big;
	size_t i;

	CHECK(parse("{\"argv\":[\"prog\",\"\",\"x\"]}", &job) == 0);
	CHECK(job.argc == 3 && job.argv[1][0] == '\0' && !job.argv[3]);
	wb_job_free(&job);

	INVALID("{}", "argv: required");
	INVALID("{\"id\":\"x\"}", "argv: required");
	INVALID("{\"argv\":[]}", "argv: must be a non-empty array");
	INVALID("{\"argv\":\"/bin/true\"}", "argv: must be an array of strings");
	INVALID("{\"argv\":null}", "argv: must be an array of strings");
	INVALID("{\"argv\":[\"\"]}", "argv[0]: must not be empty");
	INVALID("{\"argv\":[1]}", "argv[0]: must be a string");
	INVALID("{\"argv\":[\"a\",null]}", "argv[1]: must be a string");

	/* Huge argv: WB_MAX_ARGS pass, one more does not. */
	big = malloc(WB_MAX_ARGS * 8 + 64);
	strcpy(big, "{\"argv\":[\"a\"");
	for (i = 1; i < WB_MAX_ARGS; i++)
		strcat(big, ",\"a\"");
	strcat(big, "]}");
	CHECK(parse(big, &job) == 0 && job.argc == WB_MAX_ARGS);
	wb_job_free(&job);
	strcpy(big + strlen(big) - 2, ",\"a\"]}");
	INVALID(big, "argv: at most 4096 entries");
	free(big);
}

static void test_scalars(void)
{
	struct wb_job job;

	CHECK(parse_with("\"id\":\"\",\"cwd\":\"/box/sub\",\"network\":true,\"policy\":\"my-policy_1.2\"", &job) == 0);
	CHECK(job.id && job.id[0] == '\0' && strcmp(job.cwd, "/box/sub") == 0);
	CHECK(job.network && strcmp(job.policy, "my-policy_1.2") == 0);
	wb_job_free(&job);
	CHECK(parse_with("\"cwd\":\"/a/..b/c..\"", &job) == 0);
	wb_job_free(&job);
	CHECK(parse_with("\"policy\":\"pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp\"", &job) == 0);
	wb_job_free(&job);

	INVALID_WITH("\"id\":5", "id: must be a string");
	INVALID_WITH("\"id\":null", "id: must be a string");
	INVALID_WITH("\"cwd\":\"box\"", "cwd: must be an absolute path");
	INVALID_WITH("\"cwd\":\"/box/../etc\"", "cwd: \"..\" components");
	INVALID_WITH("\"cwd\":\"/..\"", "cwd: \"..\" components");
	INVALID_WITH("\"cwd\":[]", "cwd: must be a string");
	INVALID_WITH("\"network\":\"yes\"", "network: must be true or false");
	INVALID_WITH("\"network\":0", "network:");
	INVALID_WITH("\"policy\":\"\"", "policy: must be");
	INVALID_WITH("\"policy\":\".hidden\"", "policy: must be");
	INVALID_WITH("\"policy\":\"../etc/x\"", "policy: must be");
	INVALID_WITH("\"policy\":\"a/b\"", "policy: must be");
	INVALID_WITH("\"policy\":\"c++\"", "policy: must be");
	INVALID_WITH("\"policy\":\"ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp\"", "policy: must be");
	INVALID_WITH("\"policy\":1", "policy: must be a string");
}

static void test_copy_out(void)
{
	struct wb_job job;

	/* Not path-checked here: the sandbox reports escaping paths per entry. */
	CHECK(parse_with("\"copy_out\":[\"out.txt\",\"../x\",\"/etc/passwd\"]", &job) == 0);
	CHECK(job.ncopy_out == 3 && strcmp(job.copy_out[1], "../x") == 0 && !job.copy_out[3]);
	wb_job_free(&job);

	INVALID_WITH("\"copy_out\":\"out.txt\"", "copy_out: must be an array of paths or {\"path\": P, \"keep\": true}");
	INVALID_WITH("\"copy_out\":[\"a\",\"\"]", "copy_out[1]: must be a non-empty string");
	INVALID_WITH("\"copy_out\":[1]", "copy_out[0]: must be a string or {\"path\": P, \"keep\": true}");

	/* keep: into the daemon's store. */
	CHECK(parse_with("\"copy_out\":[\"a\",{\"path\":\"b\",\"keep\":true},{\"path\":\"c\",\"keep\":false},{\"path\":\"d\"}]",
			 &job) == 0);
	CHECK(job.ncopy_out == 4 && strcmp(job.copy_out[1], "b") == 0 && strcmp(job.copy_out[3], "d") == 0 &&
	      !job.copy_out[4]);
	CHECK(job.copy_keep && !job.copy_keep[0] && job.copy_keep[1] && !job.copy_keep[2] && !job.copy_keep[3]);
	wb_job_free(&job);
	INVALID_WITH("\"copy_out\":[{\"keep\":true}]", "copy_out[0].path: a string is required");
	INVALID_WITH("\"copy_out\":[{\"path\":1}]", "copy_out[0].path: a string is required");
	INVALID_WITH("\"copy_out\":[{\"path\":\"a\",\"keep\":1}]", "copy_out[0].keep: must be true or false");
	INVALID_WITH("\"copy_out\":[{\"path\":\"a\",\"kept\":true}]", "copy_out[0]: unknown field \"kept\"");
	INVALID_WITH("\"copy_out\":[{\"path\":\"\",\"keep\":true}]", "copy_out[0]: must be a non-empty string");
}

/* SPEC "Interactive jobs": the interactor is a job of its own with only
 * argv, env, cwd, files, limits, policy and copy_out; no stdin beside it. */
static void test_interactor(void)
{
	struct wb_job job;

	CHECK(parse_with("\"interactor\":{\"argv\":[\"./i\",\"x\"],\"cwd\":\"/tmp\",\"policy\":\"c\","
			 "\"env\":{\"A\":\"1\"},\"limits\":{\"cpu_ms\":500},"
			 "\"files\":[{\"path\":\"secret\",\"content\":\"42\"}],\"copy_out\":[\"log\"]}",
			 &job) == 0);
	CHECK(job.interactor && job.interactor->argc == 2 && strcmp(job.interactor->argv[1], "x") == 0);
	CHECK(job.interactor && strcmp(job.interactor->cwd, "/tmp") == 0 && strcmp(job.interactor->policy, "c") == 0);
	CHECK(job.interactor && job.interactor->limits.cpu_ms == 500 && job.interactor->limits.wall_ms == 3000);
	CHECK(job.interactor && job.interactor->nfiles == 1 && job.interactor->ncopy_out == 1 &&
	      job.interactor->envc == 1 && !job.interactor->id && !job.interactor->interactor);
	CHECK(strcmp(job.policy, "default") == 0 && job.nfiles == 0);
	wb_job_free(&job);
	CHECK(parse_with("", &job) == 0 && job.interactor == NULL);
	wb_job_free(&job);

	INVALID_WITH("\"interactor\":[]", "interactor: must be an object");
	INVALID_WITH("\"interactor\":{}", "interactor: argv: required");
	INVALID_WITH("\"interactor\":{\"argv\":[\"i\"],\"stdin\":\"x\"}", "interactor: stdin: not allowed");
	INVALID_WITH("\"interactor\":{\"argv\":[\"i\"],\"network\":false}", "interactor: network: not allowed");
	INVALID_WITH("\"interactor\":{\"argv\":[\"i\"],\"id\":\"x\"}", "interactor: id: not allowed");
	INVALID_WITH("\"interactor\":{\"argv\":[\"i\"],\"interactor\":{\"argv\":[\"j\"]}}",
		     "interactor: interactor: not allowed");
	INVALID_WITH("\"interactor\":{\"argv\":[\"i\"],\"stdn\":1}", "interactor: unknown field \"stdn\"");
	INVALID_WITH("\"interactor\":{\"argv\":[\"i\"],\"limits\":{\"cpu_ms\":0}}", "interactor: limits.cpu_ms");
	INVALID_WITH("\"interactor\":{\"argv\":[\"i\"],\"files\":[{\"path\":\"/etc/x\",\"content\":\"\"}]}",
		     "interactor: files[0].path");
	INVALID_WITH("\"interactor\":{\"argv\":[\"i\"],\"policy\":\"../x\"}", "interactor: policy");
	INVALID_WITH("\"stdin\":\"x\",\"interactor\":{\"argv\":[\"i\"]}", "stdin: not with an interactor");
	INVALID_WITH("\"interactor\":{\"argv\":[\"i\"]},\"interactor\":{\"argv\":[\"j\"]}",
		     "duplicate field \"interactor\"");
}

static void test_json_level(void)
{
	static const char ok_prefix[] = "{\"argv\":[\"x\"]}GARBAGE";
	struct wb_job job;
	char err[WB_ERR_LEN];

	INVALID("{\"argv\":[\"/bin/true\"],\"argvv\":[]}", "unknown field \"argvv\"");
	INVALID("{\"argv\":[\"a\"],\"argv\":[\"b\"]}", "duplicate field \"argv\"");
	INVALID("{\"argv\":[\"a\"],\"a\\nb\":1}", "unknown field \"a\\x0ab\"");
	INVALID("{\"argv\":[\"a\"]} x", "invalid JSON: trailing data");
	INVALID("{\"argv\":[\"a\"]}{}", "invalid JSON: trailing data");
	INVALID("[]", "job: expected a JSON object");
	INVALID("\"job\"", "job: expected a JSON object");
	INVALID("42", "job: expected a JSON object");
	INVALID("null", "job: expected a JSON object");
	INVALID("", "invalid JSON");
	INVALID("   ", "invalid JSON");
	INVALID("{", "invalid JSON");
	INVALID("{\"argv\":[\"a\"],}", "invalid JSON");
	INVALID("{'argv':['a']}", "invalid JSON");
	INVALID_LEN("{\"argv\":[\"a\"]}\0", 15, "invalid JSON: NUL byte");
	INVALID_LEN("{\"argv\":[\"a\0b\"]}", 16, "invalid JSON: NUL byte");
	INVALID("{\"argv\":[\"a\"],\"stdin\":\"x\\u0000y\"}", "invalid JSON: \\u0000");
	INVALID("{\"argv\":[\"a\"],\"stdin\":\"x\ny\"}", "invalid JSON: control character");

	CHECK(parse(" \r\n\t{\"argv\":[\"a\"]} \n\r\t ", &job) == 0);
	wb_job_free(&job);
	/* Only len bytes are read. */
	CHECK(wb_job_parse(ok_prefix, 14, &job, err, sizeof err) == 0);
	wb_job_free(&job);

	/* Messages are cut to the caller's buffer, still NUL-terminated. */
	memset(err, 'x', sizeof err);
	CHECK(wb_job_parse("{}", 2, &job, err, 8) == -EINVAL && strcmp(err, "argv: r") == 0);
	CHECK(wb_job_parse("{}", 2, &job, NULL, 0) == -EINVAL);
	CHECK(wb_job_parse("{}", 2, &job, err, 1) == -EINVAL && err[0] == '\0');
}

static void test_validate(void)
{
	struct wb_job job;
	char err[WB_ERR_LEN];

	CHECK(wb_job_init(&job) == 0);
	CHECK(wb_job_validate(&job, err, sizeof err) == -EINVAL && strstr(err, "argv:"));
	CHECK(wb_strv_push(&job.argv, &job.argc, "/bin/true") == 0);
	CHECK(job.argc == 1 && job.argv[1] == NULL);
	CHECK(wb_job_validate(&job, err, sizeof err) == 0 && err[0] == '\0');

	job.limits.memory_kb = 1023;
	CHECK(wb_job_validate(&job, err, sizeof err) == -EINVAL &&
	      strcmp(err, "limits.memory_kb: must be an integer between 1024 and 67108864") == 0);
	job.limits.memory_kb = WB_DEFAULT_MEMORY_KB;
	job.limits.wall_ms = 0;
	CHECK(wb_job_validate(&job, err, sizeof err) == -EINVAL && strstr(err, "limits.wall_ms:"));
	job.limits.wall_ms = WB_DEFAULT_WALL_MS;

	free(job.policy);
	job.policy = strdup("no/slash");
	CHECK(wb_job_validate(&job, err, sizeof err) == -EINVAL && strstr(err, "policy:"));
	free(job.policy);
	job.policy = strdup("python");

	free(job.cwd);
	job.cwd = strdup("relative");
	CHECK(wb_job_validate(&job, err, sizeof err) == -EINVAL && strstr(err, "cwd:"));
	free(job.cwd);
	job.cwd = strdup("/box");

	CHECK(wb_strv_push(&job.env, &job.envc, "NOEQUALS") == 0);
	CHECK(wb_job_validate(&job, err, sizeof err) == -EINVAL && strstr(err, "env[3]:"));
	free(job.env[3]);
	job.env[3] = strdup("=x");
	CHECK(wb_job_validate(&job, err, sizeof err) == -EINVAL && strstr(err, "env[3]:"));
	free(job.env[3]);
	job.env[3] = strdup("X=");
	CHECK(wb_job_validate(&job, err, sizeof err) == 0);

	CHECK(wb_strv_push(&job.copy_out, &job.ncopy_out, "") == 0);
	CHECK(wb_job_validate(&job, err, sizeof err) == -EINVAL && strstr(err, "copy_out[0]:"));
	free(job.copy_out[0]);
	job.copy_out[0] = strdup("out");

	/* The CLI's --copy-in: same path and duplicate messages as JSON. */
	job.files = calloc(2, sizeof *job.files);
	job.nfiles = 2;
	job.files[0] = (struct wb_file){ .path = strdup("a.c"), .mode = 0644 };
	job.files[1] = (struct wb_file){ .path = strdup("/abs"), .mode = 0644 };
	CHECK(wb_job_validate(&job, err, sizeof err) == -EINVAL &&
	      strcmp(err, "files[1].path: absolute paths are not allowed") == 0);
	free(job.files[1].path);
	job.files[1].path = strdup("a.c");
	CHECK(wb_job_validate(&job, err, sizeof err) == -EINVAL &&
	      strcmp(err, "files[1].path: duplicate of files[0]") == 0);
	free(job.files[1].path);
	job.files[1].path = strdup("b.c");
	job.files[1].mode = 01777;
	CHECK(wb_job_validate(&job, err, sizeof err) == -EINVAL && strstr(err, "files[1].mode:"));
	job.files[1].mode = 0755;
	CHECK(wb_job_validate(&job, err, sizeof err) == 0);
	wb_job_free(&job);
	CHECK(is_zeroed(&job));
}

static void test_path_ok(void)
{
	static const char *const good[] = { "a", "a/b", "a.b", "..a", "a..", ".a/b.", "a b/c" };
	static const char *const bad[] = { "", "/", "/a", ".", "..", "a/.", "a/..", "./a", "../a",
					   "a//b", "a/", "a/./b", "a/../b" };
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		CHECKF(wb_job_path_ok(good[i]), "%s", good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECKF(!wb_job_path_ok(bad[i]), "%s", bad[i]);
	CHECK(!wb_job_path_ok(NULL));
}

/* Parses text placed so that its last byte is the last byte of a mapping
 * followed by an inaccessible page (picohttpparser's test.c): a parser that
 * reads past len, looking for a NUL perhaps, faults here. */
static int guarded_parse(char *page_end, const char *text, size_t len, struct wb_job *job)
{
	char err[WB_ERR_LEN];
	char *p = page_end - len;
	int r;

	memcpy(p, text, len);
	r = wb_job_parse(p, len, job, err, sizeof err);
	if (r == 0)
		wb_job_free(job);
	return r;
}

static void test_guard_page(void)
{
	static const char *const extra[] = {
		"{\"argv\":[\"a\"],\"limits\":{\"cpu_ms\":12",
		"{\"argv\":[\"a\"],\"stdin\":\"\\",
		"{\"argv\":[\"a\"],\"stdin\":\"\\u00",
		"{\"argv\":[\"a\"],\"stdin\":{\"base64\":\"Zm9v",
		"tru", "nul", "fals", "-", "1e", "\xef\xbb\xbf", "{\"argv\":[\"a\"]}  ",
	};
	long pg = sysconf(_SC_PAGESIZE);
	size_t size = 4 * (size_t)pg, len, i;
	struct wb_job job;
	char *map;

	map = mmap(NULL, size + (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "mmap failed, skipping guard-page test\n");
		return;
	}
	CHECK(mprotect(map + size, (size_t)pg, PROT_NONE) == 0);
	len = strlen(spec_example);
	CHECK(len < size);
	CHECK(guarded_parse(map + size, spec_example, len, &job) == 0);
	/* Every proper prefix (the text ends in "}\n") stops somewhere new: in a
	 * key, a number, an escape. */
	for (i = 0; i < len - 1; i++)
		CHECKF(guarded_parse(map + size, spec_example, i, &job) == -EINVAL, "prefix %zu", i);
	for (i = 0; i < sizeof extra / sizeof extra[0]; i++)
		guarded_parse(map + size, extra[i], strlen(extra[i]), &job);
	CHECK(guarded_parse(map + size, "{\"argv\":[\"a\"]}", 14, &job) == 0);
	munmap(map, size + (size_t)pg);
}

int main(void)
{
	test_ref_count();
	test_defaults();
	test_spec_example();
	test_env();
	test_stdin();
	test_wall_follows_cpu();
	test_limits();
	test_files();
	test_argv();
	test_scalars();
	test_copy_out();
	test_interactor();
	test_json_level();
	test_validate();
	test_path_ok();
	test_guard_page();
	return check_report("test_job");
}

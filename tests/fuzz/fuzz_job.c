/* fuzz_job.c: libFuzzer target for wb_job_parse. Besides memory errors it
 * checks the parser's promises: a parsed job passes wb_job_validate, a
 * refused one is left empty with a one-line message that fits the buffer. */
#include "core/job.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct wb_job zero;
	char err[WB_ERR_LEN];
	/* A short buffer now and then exercises message truncation. */
	size_t errlen = size % 7 == 0 ? 1 + size % 13 : sizeof err;
	struct wb_job job;
	int r;

	memset(err, 'x', sizeof err);
	r = wb_job_parse((const char *)data, size, &job, err, errlen);
	if (r == 0) {
		if (wb_job_validate(&job, err, sizeof err) != 0)
			abort();
		wb_job_free(&job);
		return 0;
	}
	if (r != -EINVAL && r != -ENOMEM)
		abort();
	if (memcmp(&job, &zero, sizeof job) != 0)
		abort();
	if (strnlen(err, errlen) >= errlen || strchr(err, '\n'))
		abort();
	wb_job_free(&job);
	return 0;
}

/* interactor.c: the judge's side of "guess the number", an interactive
 * problem (warmbox README, "Interactive problems").
 *
 * Reads "N X" from secret.txt in its working directory (its own sandbox's
 * /box, out of the solution's sight), 1 <= X <= N <= 10^9. Writes N; then
 * to each "? y" (1 <= y <= N) answers "<" if X < y, ">" if X > y, "=" if
 * X == y; the solution ends with "! x". At most 32 questions.
 *
 * Exit code, as testlib's: 0 accepted, 1 wrong answer, 2 presentation
 * error, 3 judge failure; one line on stderr says why. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_N 1000000000L
#define MAX_QUESTIONS 32

enum verdict { ACCEPTED = 0, WRONG_ANSWER = 1, PRESENTATION = 2, JUDGE_FAILURE = 3 };

__attribute__((format(printf, 2, 3), noreturn))
static void verdict(enum verdict v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit((int)v);
}

/* A solution that has ended cannot be told anything more: that is its
 * verdict's business, not a judge failure. */
static void say(const char *line)
{
	if (fputs(line, stdout) == EOF || fflush(stdout) == EOF)
		verdict(PRESENTATION, "presentation error: the solution stopped reading (%s)", strerror(errno));
}

static void read_secret(long *n, long *x)
{
	FILE *f = fopen("secret.txt", "r");

	if (!f)
		verdict(JUDGE_FAILURE, "judge failure: secret.txt: %s", strerror(errno));
	if (fscanf(f, "%ld %ld", n, x) != 2 || *n < 1 || *n > MAX_N || *x < 1 || *x > *n)
		verdict(JUDGE_FAILURE, "judge failure: secret.txt must hold N X with 1 <= X <= N <= %ld", MAX_N);
	fclose(f);
}

int main(void)
{
	char line[64], first[24], kind, extra;
	long n, x, y;
	int questions = 0;

	/* EPIPE instead of death by signal (warmbox already ignores SIGPIPE). */
	signal(SIGPIPE, SIG_IGN);
	read_secret(&n, &x);
	snprintf(first, sizeof(first), "%ld\n", n);
	say(first);
	for (;;) {
		if (!fgets(line, sizeof(line), stdin))
			verdict(PRESENTATION, "presentation error: the solution ended before its answer");
		/* A line too long to be a question is malformed; the last one
		 * may lack its newline, as testlib lets it. */
		if ((!strchr(line, '\n') && !feof(stdin)) || sscanf(line, "%c %ld %c", &kind, &y, &extra) != 2 ||
		    (kind != '?' && kind != '!'))
			verdict(PRESENTATION, "presentation error: expected \"? y\" or \"! x\", got \"%.20s\"", line);
		if (kind == '!') {
			if (y != x)
				verdict(WRONG_ANSWER, "wrong answer: %ld is not the number", y);
			verdict(ACCEPTED, "ok: guessed %ld in %d questions", x, questions);
		}
		if (++questions > MAX_QUESTIONS)
			verdict(WRONG_ANSWER, "wrong answer: more than %d questions", MAX_QUESTIONS);
		if (y < 1 || y > n)
			verdict(WRONG_ANSWER, "wrong answer: question %ld is outside 1..%ld", y, n);
		say(x < y ? "<\n" : x > y ? ">\n" : "=\n");
	}
}

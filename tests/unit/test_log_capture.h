/* Capturing what the code under test logs (stderr), for tests that check the messages. */
#ifndef TEST_LOG_CAPTURE_H
#define TEST_LOG_CAPTURE_H

/* Captures what is logged to stderr between begin and end into buf (NUL-terminated). */
void log_capture_begin(void);
void log_capture_end(char *buf, unsigned len);

/* How many lines of buf hold a message of that level ("error", "warning", ...). */
unsigned log_lines(const char *buf, const char *level);

#endif

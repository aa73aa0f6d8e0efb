/* Going to the background the way init scripts expect: the launching process exits only once
 * the daemon is ready (socket bound, pidfile written), with 0, or with 1 if the daemon failed. */
#ifndef IVS_DAEMON_H
#define IVS_DAEMON_H

/* Returns in the daemon with *ready_fd for ivs_daemon_ready; -errno (with *err) on failure. */
int ivs_daemonize(int *ready_fd, char **err) __attribute__((warn_unused_result));
/* Lets the launching process exit 0. */
void ivs_daemon_ready(int ready_fd);
/* Writes "PID\n" to path (0644). -errno with *err. */
int ivs_write_pidfile(const char *path, char **err) __attribute__((warn_unused_result));

#endif

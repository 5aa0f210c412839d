/*
 * hook-client: the fast path of `nextrust hook <event>`, which Claude Code
 * runs on every tool call (.claude/settings.json -> bin/nextrust-hook).
 *
 *   hook-client PLUGIN_DIR EVENT      (the hook payload on stdin)
 *
 * A Node process costs ~100 ms before it runs a line here, so the hooks are
 * served by a long-lived Node process (src/integrations/claude/hook-server.ts)
 * and this client only forwards: it reads stdin, sends event, cwd, environment
 * and payload over the server's Unix socket, and prints the answer's stdout and
 * stderr and exits with its exit code, exactly as `nextrust hook EVENT` would.
 *
 * When no server answers (none running, NEXTRUST_HOOK_SERVER=0, the socket
 * directory not private, a server out of date or shutting down) it runs
 * `node PLUGIN_DIR/bin/nextrust.js hook EVENT` with the same payload instead;
 * that one starts a server for the next calls.
 *
 * Limits (the same rules as src/integrations/claude/hook-protocol.ts):
 *  - It reads at most NEXTRUST_HOOK_MAX_PAYLOAD_BYTES (default 1 MiB) + 1
 *    bytes of stdin. A payload over the limit is answered here, unread and
 *    unsent: `pre` blocked (exit 2), any other event a non-blocking error
 *    (exit 1), one line on stderr, the bytes of the dispatcher's
 *    payloadTooLargeOutcome.
 *  - The whole exchange with the server (connect, send, answer) must end
 *    within NEXTRUST_HOOK_CALL_TIMEOUT_MS (default 10 s; the server answers
 *    by then itself) + 2 s; a server that accepts but does not read or does
 *    not answer in time is treated like no server: the hook runs through
 *    node (which applies the same time limit, and fails closed for `pre`).
 *  - An answer over 16 MiB is not taken either (node runs the hook).
 *
 * Wire format and socket location: src/integrations/claude/hook-protocol.ts
 * (change both together).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAGIC "NXHOOK1\n"
#define MAGIC_LEN 8
#define FALLBACK_STATUS 0xFFFFFFFFu
/* hook-protocol.ts: DEFAULT_MAX_PAYLOAD_BYTES, MAX_MAX_PAYLOAD_BYTES, DEFAULT_CALL_TIMEOUT_MS, MAX_CALL_TIMEOUT_MS, CLIENT_GRACE_MS */
#define DEFAULT_MAX_PAYLOAD 1048576ull
#define MAX_MAX_PAYLOAD 0xFFFFFFFEull
#define DEFAULT_CALL_TIMEOUT_MS 10000ull
#define MAX_CALL_TIMEOUT_MS 3600000ull
#define CLIENT_GRACE_MS 2000ull
/* Largest answer taken from the server (bytes). */
#define MAX_RESPONSE (16u << 20)

typedef struct {
  unsigned char *p;
  size_t n, cap;
} buf_t;

static int buf_add(buf_t *b, const void *d, size_t n) {
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->n + n) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
  }
  if (n) memcpy(b->p + b->n, d, n);
  b->n += n;
  return 0;
}

static int buf_u32(buf_t *b, uint32_t v) {
  unsigned char be[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
  return buf_add(b, be, 4);
}

static int buf_field(buf_t *b, const void *d, size_t n) {
  if (n > 0xFFFFFFFEu) return -1;
  return buf_u32(b, (uint32_t)n) || buf_add(b, d, n);
}

/* Reads fd to its end, or until more than `max` bytes are in b: 0 at the end, 1 over max (the rest unread), -1 on error. */
static int read_upto(int fd, buf_t *b, size_t max) {
  unsigned char chunk[65536];
  for (;;) {
    size_t want = sizeof chunk;
    if (max - b->n + 1 < want) want = max - b->n + 1; /* never more than max + 1 bytes in all */
    ssize_t r = read(fd, chunk, want);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return 0;
    if (buf_add(b, chunk, (size_t)r)) return -1;
    if (b->n > max) return 1;
  }
}

/* NAME's value when it is a decimal integer (digits only, at most 10) from 1 to max, else dflt: hook-protocol.ts envLimit. */
static unsigned long long env_limit(const char *name, unsigned long long dflt, unsigned long long max) {
  const char *v = getenv(name);
  if (!v || !*v || strlen(v) > 10) return dflt;
  unsigned long long n = 0;
  for (const char *c = v; *c; c++) {
    if (*c < '0' || *c > '9') return dflt;
    n = n * 10 + (unsigned long long)(*c - '0');
  }
  return n >= 1 && n <= max ? n : dflt;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for `events` or the deadline (CLOCK_MONOTONIC ms) passes: 0 ready, -1 timed out or failed. */
static int wait_fd(int fd, short events, long long deadline) {
  for (;;) {
    long long left = deadline - now_ms();
    if (left <= 0) return -1;
    struct pollfd p = {.fd = fd, .events = events};
    int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
    if (r < 0 && errno == EINTR) continue;
    return r > 0 ? 0 : -1; /* POLLHUP/POLLERR: the read or write that follows reports it */
  }
}

/* Sends all of d on the non-blocking socket fd by the deadline: 0, or -1 (timed out, server gone). */
static int send_all(int fd, const void *d, size_t n, long long deadline) {
  const unsigned char *p = d;
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (wait_fd(fd, POLLOUT, deadline)) return -1;
      continue;
    }
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Reads the non-blocking socket fd to its end by the deadline, at most max bytes: 0, or -1 (timed out, too long, failed). */
static int recv_all(int fd, buf_t *b, size_t max, long long deadline) {
  unsigned char chunk[65536];
  for (;;) {
    ssize_t r = recv(fd, chunk, sizeof chunk, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (wait_fd(fd, POLLIN, deadline)) return -1;
      continue;
    }
    if (r < 0) return -1;
    if (r == 0) return 0;
    if (b->n + (size_t)r > max || buf_add(b, chunk, (size_t)r)) return -1;
  }
}

static int write_all(int fd, const void *d, size_t n) {
  const unsigned char *p = d;
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static uint64_t fnv1a64(const char *s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 0x100000001b3ull;
  }
  return h;
}

/* The server's socket for this plugin checkout; -1 when there is no usable one. */
static int socket_path(const char *plugin, char *out, size_t outlen) {
  char dflt[PATH_MAX];
  const char *dir = getenv("NEXTRUST_HOOK_SOCKET_DIR");
  if (!dir || !*dir) {
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    size_t len = strlen(tmp);
    while (len && tmp[len - 1] == '/') len--;
    if (snprintf(dflt, sizeof dflt, "%.*s/nextrust-hooks-%u", (int)len, tmp, (unsigned)getuid()) >= (int)sizeof dflt) return -1;
    dir = dflt;
  }
  /* Only a private directory of ours: nobody else can have put a socket there. */
  struct stat st;
  if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077)) return -1;
  int n = snprintf(out, outlen, "%s/%016llx.sock", dir, (unsigned long long)fnv1a64(plugin));
  return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static uint32_t get_u32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* The hook through the server: its exit code, or -1 when not served (run it through node). */
static int via_server(const char *plugin, const char *event, const buf_t *in) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (socket_path(plugin, addr.sun_path, sizeof addr.sun_path)) return -1;
  long long deadline = now_ms() + (long long)(env_limit("NEXTRUST_HOOK_CALL_TIMEOUT_MS", DEFAULT_CALL_TIMEOUT_MS, MAX_CALL_TIMEOUT_MS) + CLIENT_GRACE_MS);
  /* Non-blocking: a server whose backlog is full (EAGAIN), or that stops reading or answering, costs at most the deadline. */
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) cwd[0] = 0;
  buf_t req = {0}, env = {0}, resp = {0};
  int bad = 0;
  for (char **e = environ; *e && !bad; e++) bad = buf_add(&env, *e, strlen(*e) + 1);
  bad = bad || buf_add(&req, MAGIC, MAGIC_LEN) || buf_field(&req, event, strlen(event)) || buf_field(&req, cwd, strlen(cwd)) ||
        buf_field(&req, env.p, env.n) || buf_field(&req, in->p, in->n);
  bad = bad || send_all(fd, req.p, req.n, deadline) || shutdown(fd, SHUT_WR) || recv_all(fd, &resp, MAX_RESPONSE, deadline);
  close(fd);
  free(req.p);
  free(env.p);
  /* A server that died or answered garbage mid-call: the hook must still run (the guard above all). */
  const unsigned char *p = resp.p, *end = resp.p + resp.n;
  if (bad || resp.n < MAGIC_LEN + 12 || memcmp(p, MAGIC, MAGIC_LEN)) goto not_served;
  p += MAGIC_LEN;
  uint32_t status = get_u32(p);
  p += 4;
  uint32_t out_n = get_u32(p);
  p += 4;
  if ((size_t)(end - p) < (size_t)out_n + 4) goto not_served;
  const unsigned char *out = p;
  p += out_n;
  uint32_t err_n = get_u32(p);
  p += 4;
  if ((size_t)(end - p) != err_n || (status > 255 && status != FALLBACK_STATUS)) goto not_served;
  if (status == FALLBACK_STATUS) goto not_served;
  write_all(1, out, out_n);
  write_all(2, p, err_n);
  free(resp.p);
  return (int)status;
not_served:
  free(resp.p);
  return -1;
}

/* The hook through `node PLUGIN_DIR/bin/nextrust.js hook EVENT`, the payload piped to it (POSIX calls only). */
static int via_node(const char *plugin, const char *event, const buf_t *in) {
  char bin[PATH_MAX];
  if (snprintf(bin, sizeof bin, "%s/bin/nextrust.js", plugin) >= (int)sizeof bin) {
    fprintf(stderr, "nextrust hook %s: plugin path too long\n", event);
    return 1;
  }
  int pipefd[2];
  if (pipe(pipefd) != 0) {
    fprintf(stderr, "nextrust hook %s: pipe: %s\n", event, strerror(errno));
    return 1;
  }
  fcntl(pipefd[1], F_SETFD, FD_CLOEXEC); /* node must not inherit the write end (it would never see EOF) */
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "nextrust hook %s: fork: %s\n", event, strerror(errno));
    return 1;
  }
  if (pid == 0) {
    if (dup2(pipefd[0], 0) < 0) _exit(127);
    if (pipefd[0] != 0) close(pipefd[0]);
    signal(SIGPIPE, SIG_DFL); /* an ignored signal would survive exec */
    execlp("node", "node", bin, "hook", event, (char *)NULL);
    fprintf(stderr, "nextrust hook %s: cannot run node: %s\n", event, strerror(errno));
    _exit(127);
  }
  close(pipefd[0]);
  write_all(pipefd[1], in->p, in->n); /* EPIPE (SIGPIPE ignored) when node exits without reading: fine */
  close(pipefd[1]);
  int st;
  while (waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: hook-client PLUGIN_DIR EVENT  (the Claude Code hook payload on stdin)\n");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  buf_t in = {0};
  unsigned long long limit = env_limit("NEXTRUST_HOOK_MAX_PAYLOAD_BYTES", DEFAULT_MAX_PAYLOAD, MAX_MAX_PAYLOAD);
  int over = read_upto(0, &in, (size_t)limit);
  if (over < 0) {
    fprintf(stderr, "nextrust hook %s: cannot read stdin: %s\n", argv[2], strerror(errno));
    return 1;
  }
  if (over) {
    /* Not read further, not sent: the same answer as the dispatcher's payloadTooLargeOutcome. */
    if (strcmp(argv[2], "pre") == 0) {
      fprintf(stderr, "nextrust security guard: blocked: the hook payload is over %llu bytes (NEXTRUST_HOOK_MAX_PAYLOAD_BYTES), so the command cannot be checked\n", limit);
      return 2;
    }
    fprintf(stderr, "nextrust hook %s: the hook payload is over %llu bytes (NEXTRUST_HOOK_MAX_PAYLOAD_BYTES): not read, nothing done\n", argv[2], limit);
    return 1;
  }
  char plugin[PATH_MAX];
  if (!realpath(argv[1], plugin)) {
    fprintf(stderr, "nextrust hook %s: plugin directory %s: %s\n", argv[2], argv[1], strerror(errno));
    return 1;
  }
  const char *use = getenv("NEXTRUST_HOOK_SERVER");
  if (!use || strcmp(use, "0") != 0) {
    int code = via_server(plugin, argv[2], &in);
    if (code >= 0) return code;
  }
  return via_node(plugin, argv[2], &in);
}

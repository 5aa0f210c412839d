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
 * Wire format and socket location: src/integrations/claude/hook-protocol.ts
 * (change both together).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include <unistd.h>

extern char **environ;

#define MAGIC "NXHOOK1\n"
#define MAGIC_LEN 8
#define FALLBACK_STATUS 0xFFFFFFFFu

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

static int read_all(int fd, buf_t *b) {
  unsigned char chunk[65536];
  for (;;) {
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return 0;
    if (buf_add(b, chunk, (size_t)r)) return -1;
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
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  fcntl(fd, F_SETFD, FD_CLOEXEC);
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
  bad = bad || write_all(fd, req.p, req.n) || shutdown(fd, SHUT_WR) || read_all(fd, &resp);
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
  if (read_all(0, &in)) {
    fprintf(stderr, "nextrust hook %s: cannot read stdin: %s\n", argv[2], strerror(errno));
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

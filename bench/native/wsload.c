/* WebSocket echo load client in C: N connections, each keeping one message in flight.
 *
 * The same measurement as bench/wsload.py (which stays as the fallback where no C compiler is
 * found), but cheap enough per message that one core of load saturates a Python server instead
 * of the other way round. One thread, epoll, non-blocking sockets. Each connection sends a
 * pre-masked frame, waits for the whole echo, records the round trip in a histogram and sends
 * again. With --depth K each connection keeps K messages in flight: every echo that comes back
 * is replaced by a new message, and the new messages of one read go out in one write. Prints
 * one JSON object with the keys of bench/wsload.py.
 *
 *   cc -O2 -o wsload bench/native/wsload.c
 *   ./wsload --port 8000 --connections 64 --size 32 --duration 5 [--depth 1]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Latency histogram: 1 us buckets up to 1 s; slower round trips land in the last bucket. */
#define HIST_BUCKETS 1000000
#define MAX_DEPTH 256

enum { OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

typedef struct {
  int fd;
  int upgraded;
  uint8_t *in;         /* received bytes not yet consumed */
  size_t in_len, in_cap;
  const uint8_t *out;  /* bytes being written (a run of the shared frames, or a pong) */
  size_t out_len, out_off;
  int owed;            /* echoes received whose replacement has not been sent yet */
  uint8_t pong[2 + 4 + 125];
  size_t pong_len;     /* a pong waiting for the current write to finish */
  double sent_at[MAX_DEPTH];  /* ring of send times of the messages in flight */
  unsigned head, count;
} Conn;

static struct {
  const char *host, *path;
  int port, connections, size, binary, depth;
  double duration;
} opt = {"127.0.0.1", "/ws", 0, 64, 32, 0, 1, 5.0};

static uint32_t *hist;
static uint64_t messages, short_replies, errors;
static char first_error[200];
static int sending;
static uint8_t *messages_run; /* MAX_DEPTH copies of the frame, back to back */
static size_t message_len;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fail(const char *why) {
  if (errors++ == 0) snprintf(first_error, sizeof first_error, "%s", why);
}

static void die(const char *why) {
  printf("{\"error\": \"%s: %s\"}\n", why, strerror(errno));
  exit(0);
}

/* A client frame (RFC 6455 5.2): FIN + opcode, masked length, key, masked payload. */
static size_t client_frame(uint8_t *dst, int opcode, const uint8_t *payload, size_t n) {
  static const uint8_t key[4] = {0x5a, 0x17, 0xc3, 0x9e};
  size_t h = 0;
  dst[h++] = (uint8_t)(0x80 | opcode);
  if (n < 126) {
    dst[h++] = (uint8_t)(0x80 | n);
  } else if (n < 65536) {
    dst[h++] = 0x80 | 126;
    dst[h++] = (uint8_t)(n >> 8);
    dst[h++] = (uint8_t)n;
  } else {
    dst[h++] = 0x80 | 127;
    for (int i = 7; i >= 0; --i) dst[h++] = (uint8_t)((uint64_t)n >> (8 * i));
  }
  memcpy(dst + h, key, 4);
  h += 4;
  for (size_t i = 0; i < n; ++i) dst[h + i] = payload[i] ^ key[i & 3];
  return h + n;
}

/* Writes what is pending; returns 0 when all of it went out, 1 when the socket is full. */
static int flush(Conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN) return 1;
      fail("send failed");
      return -1;
    }
    c->out_off += (size_t)w;
  }
  c->out = NULL;
  c->out_len = c->out_off = 0;
  return 0;
}

/* Starts writing `len` bytes of `buf`; what the socket does not take now goes on EPOLLOUT. */
static void start_write(Conn *c, int epfd, const uint8_t *buf, size_t len) {
  c->out = buf;
  c->out_len = len;
  c->out_off = 0;
  if (flush(c) == 1) {
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
  }
}

/* Sends a waiting pong, then the owed messages in one write, unless a write is under way. */
static void send_owed(Conn *c, int epfd) {
  if (c->out == NULL && c->pong_len) {
    size_t len = c->pong_len;
    c->pong_len = 0;
    start_write(c, epfd, c->pong, len);
  }
  if (c->out != NULL || c->owed == 0 || !sending) return;
  double t = now();
  for (int i = 0; i < c->owed; ++i) c->sent_at[(c->head + c->count++) % MAX_DEPTH] = t;
  size_t len = message_len * (size_t)c->owed;
  c->owed = 0;
  start_write(c, epfd, messages_run, len);
}

static void record(Conn *c, size_t length) {
  if (length != (size_t)opt.size) ++short_replies;
  if (!sending || c->count == 0) return;
  double us = (now() - c->sent_at[c->head]) * 1e6;
  c->head = (c->head + 1) % MAX_DEPTH;
  --c->count;
  size_t bucket = us < 0 ? 0 : (size_t)us;
  if (bucket >= HIST_BUCKETS) bucket = HIST_BUCKETS - 1;
  ++hist[bucket];
  ++messages;
  ++c->owed;
}

/* Consumes the handshake answer, then every complete frame in c->in. */
static void consume(Conn *c, int epfd) {
  size_t pos = 0;
  if (!c->upgraded) {
    uint8_t *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (end == NULL) return;
    if (c->in_len < 12 || memcmp(c->in, "HTTP/1.1 101", 12) != 0) {
      fail("handshake not answered with 101");
      close(c->fd);
      c->fd = -1;
      return;
    }
    c->upgraded = 1;
    pos = (size_t)(end - c->in) + 4;
  }
  while (c->in_len - pos >= 2) {
    const uint8_t *f = c->in + pos;
    int opcode = f[0] & 0x0F;
    uint64_t length = f[1] & 0x7F;
    size_t head = 2;
    if (length == 126) {
      if (c->in_len - pos < 4) break;
      length = ((uint64_t)f[2] << 8) | f[3];
      head = 4;
    } else if (length == 127) {
      if (c->in_len - pos < 10) break;
      length = 0;
      for (int i = 0; i < 8; ++i) length = (length << 8) | f[2 + i];
      head = 10;
    }
    if (c->in_len - pos < head + length) break;
    pos += head + length;
    if ((opcode == OP_TEXT || opcode == OP_BINARY) && (f[0] & 0x80)) {
      record(c, (size_t)length);
    } else if (opcode == OP_PING && length <= 125 && c->out != c->pong) {
      c->pong_len = client_frame(c->pong, OP_PONG, f + head, (size_t)length);
    } else if (opcode == OP_CLOSE) {
      fail("server closed the connection");
    }
  }
  memmove(c->in, c->in + pos, c->in_len - pos);
  c->in_len -= pos;
  send_owed(c, epfd);
}

static void on_readable(Conn *c, int epfd) {
  for (;;) {
    if (c->in_cap - c->in_len < 65536) {
      c->in_cap = c->in_cap * 2 + 65536;
      c->in = realloc(c->in, c->in_cap);
      if (c->in == NULL) die("out of memory");
    }
    size_t room = c->in_cap - c->in_len;
    ssize_t r = recv(c->fd, c->in + c->in_len, room, 0);
    if (r > 0) {
      c->in_len += (size_t)r;
      consume(c, epfd);
      if (c->fd < 0 || (size_t)r < room) return; /* drained: a short read */
      continue;
    }
    if (r < 0 && errno == EAGAIN) return;
    fail(r == 0 ? "connection closed by the server" : "recv failed");
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    return;
  }
}

static int connect_one(struct sockaddr_in *addr) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  if (connect(fd, (struct sockaddr *)addr, sizeof *addr) < 0) die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char req[512];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                   opt.path, opt.host);
  if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) die("send handshake");
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

static double percentile(double q) {
  uint64_t want = (uint64_t)(q * (double)messages);
  if (want >= messages && messages) want = messages - 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < HIST_BUCKETS; ++i) {
    seen += hist[i];
    if (seen > want) return (i + 0.5) / 1000.0;
  }
  return 0.0;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec * 1e-6;
}

/* Runs the loop until `until` (monotonic seconds). */
static void pump(int epfd, double until) {
  struct epoll_event events[256];
  for (;;) {
    double left = until - now();
    if (left <= 0) return;
    int n = epoll_wait(epfd, events, 256, (int)(left * 1000) + 1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; ++i) {
      Conn *c = events[i].data.ptr;
      if (c->fd < 0) continue;
      if (events[i].events & EPOLLOUT && c->out && flush(c) == 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        send_owed(c, epfd);
      }
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c, epfd);
    }
  }
}

static void usage(void) {
  fprintf(stderr,
          "usage: wsload --port N [--host 127.0.0.1] [--path /ws] [--connections 64] "
          "[--size 32] [--duration 5] [--depth 1] [--binary]\n");
  exit(2);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--binary")) { opt.binary = 1; continue; }
    if (v == NULL) usage();
    if (!strcmp(a, "--host")) opt.host = v;
    else if (!strcmp(a, "--path")) opt.path = v;
    else if (!strcmp(a, "--port")) opt.port = atoi(v);
    else if (!strcmp(a, "--connections")) opt.connections = atoi(v);
    else if (!strcmp(a, "--size")) opt.size = atoi(v);
    else if (!strcmp(a, "--duration")) opt.duration = atof(v);
    else if (!strcmp(a, "--depth")) opt.depth = atoi(v);
    else usage();
    ++i;
  }
  if (opt.port <= 0 || opt.connections <= 0 || opt.size < 0 || opt.duration <= 0 ||
      opt.depth < 1 || opt.depth > MAX_DEPTH)
    usage();

  hist = calloc(HIST_BUCKETS, sizeof *hist);
  uint8_t *payload = malloc((size_t)opt.size + 1);
  messages_run = malloc(((size_t)opt.size + 14) * (size_t)opt.depth);
  Conn *conns = calloc((size_t)opt.connections, sizeof *conns);
  if (!hist || !payload || !messages_run || !conns) die("out of memory");
  memset(payload, 'x', (size_t)opt.size);
  message_len =
      client_frame(messages_run, opt.binary ? OP_BINARY : OP_TEXT, payload, (size_t)opt.size);
  for (int i = 1; i < opt.depth; ++i)
    memcpy(messages_run + message_len * (size_t)i, messages_run, message_len);

  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
  if (inet_pton(AF_INET, opt.host, &addr.sin_addr) != 1) {
    errno = EINVAL;
    die("--host must be an IPv4 address");
  }
  int epfd = epoll_create1(0);
  for (int i = 0; i < opt.connections; ++i) {
    conns[i].fd = connect_one(&addr);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
    epoll_ctl(epfd, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }
  /* Handshakes: wait (bounded) until every connection is upgraded. */
  double deadline = now() + 10;
  for (;;) {
    int ready = 0;
    for (int i = 0; i < opt.connections; ++i) ready += conns[i].upgraded;
    if (ready == opt.connections || errors || now() > deadline) break;
    pump(epfd, now() + 0.05);
  }
  if (errors || now() > deadline) {
    printf("{\"error\": \"handshake: %s\"}\n", errors ? first_error : "timed out");
    return 0;
  }

  sending = 1;
  double cpu_started = cpu_seconds();
  double started = now();
  for (int i = 0; i < opt.connections; ++i) {
    conns[i].owed = opt.depth;
    send_owed(&conns[i], epfd);
  }
  pump(epfd, started + opt.duration);
  sending = 0;
  double elapsed = now() - started;
  double cpu_used = cpu_seconds() - cpu_started;

  uint8_t close_frame[8];
  const uint8_t code[2] = {0x03, 0xE8}; /* 1000 */
  size_t close_len = client_frame(close_frame, OP_CLOSE, code, 2);
  for (int i = 0; i < opt.connections; ++i) {
    if (conns[i].fd < 0) continue;
    send(conns[i].fd, close_frame, close_len, MSG_NOSIGNAL);
    close(conns[i].fd);
  }
  printf("{\"msgs_per_s\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"messages\": %llu, "
         "\"client_cpu\": %.3f, \"errors\": %llu, \"error_samples\": [",
         messages / elapsed, percentile(0.50), percentile(0.99), (unsigned long long)messages,
         cpu_used / elapsed, (unsigned long long)(errors + short_replies));
  if (errors) printf("\"%s\"", first_error);
  printf("], \"client\": \"native\"}\n");
  return 0;
}

/*
 * openloop: a fixed-rate (open-loop) HTTP/1.1 load generator for scripts/bench/gateway.ts.
 *
 * N keep-alive connections share one schedule: request k is due at t0 + k / RATE and goes to
 * connection k % N, so each connection polls every N / RATE seconds and the total offered rate
 * is RATE whatever the server does. When a connection's previous response has not arrived by
 * its next due time, the request waits on that connection (HTTP/1.1, no pipelining) and is sent
 * as soon as the response arrives. Latency is measured from the DUE time, not from the moment
 * the request could be written, so a stall is charged to every request scheduled during it
 * (no coordinated omission). The latency from the actual write ("service") is reported too.
 * Body bytes are counted and discarded in the kernel (recv MSG_TRUNC), not copied, so the
 * generator takes as little as it can of the CPU it shares with the server.
 *
 * Usage: openloop -R RATE -c CONNECTIONS -d SECONDS [-H 'Name: value']... [-p PATH]...
 *                 [-t DRAIN_SECONDS] HOST:PORT
 * Paths are used in turn (request k uses path k % count). Prints one JSON object on stdout.
 * Requests still unanswered DRAIN_SECONDS (default 5) after the last due time are counted as
 * "unfinished" and enter the distribution with their latency so far (a lower bound).
 *
 * Build: cc -O2 -o openloop openloop.c (Linux: epoll, epoll_pwait2; glibc >= 2.35).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { S_HEAD, S_BODY, S_CHUNK_SIZE, S_CHUNK_DATA, S_CHUNK_CRLF, S_TRAILER };

typedef struct {
  int fd;
  int busy;               /* a request is written or being written, its response not complete */
  uint64_t due;           /* due time of the request in flight, ns */
  uint64_t sent;          /* when it was written, ns */
  uint64_t *queue;        /* due times of requests waiting for this connection */
  size_t qhead, qlen, qcap;
  size_t path;            /* next path index for this connection's request */
  const char *wbuf;
  size_t wlen, woff;
  int state;
  char head[16384];
  size_t hlen;
  long long remaining;
  int status;
  int close_after;
  char line[256];
  size_t llen;
} Conn;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

static struct sockaddr_storage addr;
static socklen_t addrlen;
static int ep;
static char **requests;
static size_t *request_lens;
static size_t npaths;

/* Results. */
static double *lat;      /* ms from due time */
static double *svc;      /* ms from write */
static size_t nlat, caplat;
static uint64_t completed, non2xx, socket_errors, late_sends, bytes_read, reconnects;

static void record(uint64_t due, uint64_t sent, uint64_t at) {
  if (nlat == caplat) {
    caplat = caplat ? caplat * 2 : 1 << 16;
    lat = realloc(lat, caplat * sizeof *lat);
    svc = realloc(svc, caplat * sizeof *svc);
    if (!lat || !svc) die("realloc");
  }
  lat[nlat] = (double)(at - due) / 1e6;
  svc[nlat] = sent ? (double)(at - sent) / 1e6 : -1;
  nlat++;
}

static void conn_open(Conn *c) {
  c->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) die("socket");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr *)&addr, addrlen) < 0 && errno != EINPROGRESS) die("connect");
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
  c->state = S_HEAD;
  c->hlen = 0;
}

static void conn_flush(Conn *c) {
  while (c->woff < c->wlen) {
    ssize_t n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ENOTCONN) return; /* EPOLLOUT resumes */
      return; /* the read side sees the error */
    }
    c->woff += (size_t)n;
  }
}

static void conn_send(Conn *c, uint64_t due, uint64_t now) {
  c->busy = 1;
  c->due = due;
  c->sent = now;
  if (now > due + 1000000ull) late_sends++;
  c->wbuf = requests[c->path];
  c->wlen = request_lens[c->path];
  c->woff = 0;
  c->path = (c->path + 1) % npaths;
  c->state = S_HEAD;
  c->hlen = 0;
  conn_flush(c);
}

static void dispatch(Conn *c, uint64_t due, uint64_t now) {
  if (!c->busy) {
    conn_send(c, due, now);
    return;
  }
  if (c->qlen == c->qcap) {
    size_t cap = c->qcap ? c->qcap * 2 : 16;
    uint64_t *q = malloc(cap * sizeof *q);
    if (!q) die("malloc");
    for (size_t i = 0; i < c->qlen; i++) q[i] = c->queue[(c->qhead + i) % c->qcap];
    free(c->queue);
    c->queue = q;
    c->qcap = cap;
    c->qhead = 0;
  }
  c->queue[(c->qhead + c->qlen) % c->qcap] = due;
  c->qlen++;
}

static void next_from_queue(Conn *c, uint64_t now) {
  if (c->qlen == 0) return;
  uint64_t due = c->queue[c->qhead];
  c->qhead = (c->qhead + 1) % c->qcap;
  c->qlen--;
  conn_send(c, due, now);
}

static void response_done(Conn *c, uint64_t now) {
  completed++;
  if (c->status < 200 || c->status >= 300) non2xx++;
  record(c->due, c->sent, now);
  c->busy = 0;
  c->state = S_HEAD;
  c->hlen = 0;
  if (c->close_after) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    reconnects++;
    conn_open(c);
  }
  next_from_queue(c, now);
}

static void conn_fail(Conn *c, uint64_t now) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  if (c->busy) socket_errors++;
  c->busy = 0;
  reconnects++;
  conn_open(c);
  next_from_queue(c, now);
}

/* Parses the status line and the headers we need; returns 0 on a malformed head. */
static int parse_head(Conn *c) {
  c->head[c->hlen] = 0;
  if (strncmp(c->head, "HTTP/1.", 7) != 0) return 0;
  c->status = atoi(c->head + 9);
  c->remaining = -1;
  c->close_after = 0;
  int chunked = 0;
  char *line = strstr(c->head, "\r\n");
  while (line && line[2] != '\r') {
    line += 2;
    char *end = strstr(line, "\r\n");
    if (!end) break;
    if (strncasecmp(line, "content-length:", 15) == 0) c->remaining = atoll(line + 15);
    else if (strncasecmp(line, "transfer-encoding:", 18) == 0 && strcasestr(line, "chunked") < end)
      chunked = strcasestr(line, "chunked") != NULL;
    else if (strncasecmp(line, "connection:", 11) == 0 && strcasestr(line, "close") &&
             strcasestr(line, "close") < end)
      c->close_after = 1;
    line = end;
  }
  if (c->status == 204 || c->status == 304 || (c->status >= 100 && c->status < 200)) {
    c->remaining = 0;
    return 1;
  }
  if (chunked) {
    c->state = S_CHUNK_SIZE;
    c->llen = 0;
    return 1;
  }
  if (c->remaining < 0) return 0; /* read-until-close bodies are not used by the gateway */
  c->state = S_BODY;
  return 1;
}

/* Feeds received bytes through the response parser. Returns 0 on a protocol error. */
static int feed(Conn *c, const char *p, size_t n, uint64_t now) {
  while (n > 0) {
    if (!c->busy) return 0; /* bytes nobody asked for */
    switch (c->state) {
    case S_HEAD: {
      size_t room = sizeof c->head - 1 - c->hlen;
      if (room == 0) return 0;
      size_t take = n < room ? n : room;
      size_t from = c->hlen >= 3 ? c->hlen - 3 : 0;
      memcpy(c->head + c->hlen, p, take);
      c->hlen += take;
      char *end = memmem(c->head + from, c->hlen - from, "\r\n\r\n", 4);
      if (!end) {
        p += take;
        n -= take;
        break;
      }
      size_t used_total = (size_t)(end + 4 - c->head);
      size_t used_now = used_total - (c->hlen - take);
      c->hlen = used_total;
      p += used_now;
      n -= used_now;
      if (!parse_head(c)) return 0;
      if (c->state == S_HEAD) response_done(c, now); /* no body */
      else if (c->state == S_BODY && c->remaining == 0) response_done(c, now);
      break;
    }
    case S_BODY: {
      size_t take = (long long)n < c->remaining ? n : (size_t)c->remaining;
      c->remaining -= (long long)take;
      p += take;
      n -= take;
      if (c->remaining == 0) response_done(c, now);
      break;
    }
    case S_CHUNK_SIZE:
    case S_TRAILER: {
      char ch = *p++;
      n--;
      if (c->llen < sizeof c->line - 1) c->line[c->llen++] = ch;
      if (ch != '\n') break;
      c->line[c->llen] = 0;
      int empty = c->llen <= 2;
      c->llen = 0;
      if (c->state == S_TRAILER) {
        if (empty) response_done(c, now);
        break;
      }
      long long size = strtoll(c->line, NULL, 16);
      if (size == 0) c->state = S_TRAILER;
      else {
        c->remaining = size;
        c->state = S_CHUNK_DATA;
      }
      break;
    }
    case S_CHUNK_DATA: {
      size_t take = (long long)n < c->remaining ? n : (size_t)c->remaining;
      c->remaining -= (long long)take;
      p += take;
      n -= take;
      if (c->remaining == 0) {
        c->state = S_CHUNK_CRLF;
        c->remaining = 2;
      }
      break;
    }
    case S_CHUNK_CRLF:
      p++;
      n--;
      if (--c->remaining == 0) {
        c->state = S_CHUNK_SIZE;
        c->llen = 0;
      }
      break;
    }
  }
  return 1;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void print_dist(const char *name, double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp);
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += v[i];
#define PCT(q) (n ? v[(size_t)((q) * (double)(n - 1) + 0.5)] : 0)
  printf("\"%s\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,\"mean\":%.3f}", name,
         PCT(0.5), PCT(0.9), PCT(0.99), PCT(0.999), n ? v[n - 1] : 0, n ? sum / (double)n : 0);
#undef PCT
}

static void usage(void) {
  fprintf(stderr, "usage: openloop -R RATE -c CONNECTIONS -d SECONDS [-H 'Name: value']... "
                  "[-p PATH]... [-t DRAIN_SECONDS] HOST:PORT\n");
  exit(2);
}

int main(int argc, char **argv) {
  double rate = 0, seconds = 0, drain = 5;
  int nconn = 0;
  const char *headers[64];
  int nheaders = 0;
  const char *paths[1024];
  int opt;
  while ((opt = getopt(argc, argv, "R:c:d:H:p:t:")) != -1) {
    switch (opt) {
    case 'R': rate = atof(optarg); break;
    case 'c': nconn = atoi(optarg); break;
    case 'd': seconds = atof(optarg); break;
    case 't': drain = atof(optarg); break;
    case 'H':
      if (nheaders == 64) usage();
      headers[nheaders++] = optarg;
      break;
    case 'p':
      if (npaths == 1024) usage();
      paths[npaths++] = optarg;
      break;
    default: usage();
    }
  }
  if (optind != argc - 1 || rate <= 0 || nconn <= 0 || seconds <= 0) usage();
  char *target = strdup(argv[optind]);
  char *colon = strrchr(target, ':');
  if (!colon) usage();
  *colon = 0;
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
  if (getaddrinfo(target, colon + 1, &hints, &res) != 0) {
    fprintf(stderr, "openloop: cannot resolve %s\n", argv[optind]);
    return 2;
  }
  memcpy(&addr, res->ai_addr, res->ai_addrlen);
  addrlen = res->ai_addrlen;
  freeaddrinfo(res);
  *colon = ':';
  if (npaths == 0) paths[npaths++] = "/";
  requests = calloc(npaths, sizeof *requests);
  request_lens = calloc(npaths, sizeof *request_lens);
  for (size_t i = 0; i < npaths; i++) {
    size_t cap = 512 + strlen(paths[i]) + strlen(target);
    for (int h = 0; h < nheaders; h++) cap += strlen(headers[h]) + 2;
    requests[i] = malloc(cap);
    int len = snprintf(requests[i], cap, "GET %s HTTP/1.1\r\nHost: %s\r\n", paths[i], target);
    for (int h = 0; h < nheaders; h++) len += snprintf(requests[i] + len, cap - len, "%s\r\n", headers[h]);
    len += snprintf(requests[i] + len, cap - len, "\r\n");
    request_lens[i] = (size_t)len;
  }

  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  Conn *conns = calloc((size_t)nconn, sizeof *conns);
  if (!conns) die("calloc");
  for (int i = 0; i < nconn; i++) {
    conns[i].path = (size_t)i % npaths;
    conn_open(&conns[i]);
  }

  const uint64_t total = (uint64_t)(rate * seconds + 0.5);
  const double interval = 1e9 / rate;
  const uint64_t t0 = now_ns() + 100000000ull; /* 100 ms for the connections to open */
  const uint64_t last_due = t0 + (uint64_t)((double)(total ? total - 1 : 0) * interval);
  const uint64_t deadline = last_due + (uint64_t)(drain * 1e9);
  struct rusage ru0;
  getrusage(RUSAGE_SELF, &ru0);
  static char buf[1 << 18];
  struct epoll_event events[256];
  uint64_t k = 0, last_completion = t0;
  for (;;) {
    uint64_t now = now_ns();
    while (k < total) {
      uint64_t due = t0 + (uint64_t)((double)k * interval);
      if (due > now) break;
      dispatch(&conns[k % (uint64_t)nconn], due, now);
      k++;
    }
    if (k == total) {
      int idle = 1;
      for (int i = 0; i < nconn && idle; i++) idle = !conns[i].busy && conns[i].qlen == 0;
      if (idle || now >= deadline) break;
    }
    uint64_t wake = k < total ? t0 + (uint64_t)((double)k * interval) : deadline;
    uint64_t wait = wake > now ? wake - now : 0;
    struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000ull), .tv_nsec = (long)(wait % 1000000000ull)};
    int n = epoll_pwait2(ep, events, 256, &ts, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_pwait2");
    }
    now = now_ns();
    for (int i = 0; i < n; i++) {
      Conn *c = events[i].data.ptr;
      if (events[i].events & EPOLLOUT) conn_flush(c);
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        for (;;) {
          if (c->busy && c->state == S_BODY && c->remaining > 0) {
            /* Body bytes are only counted: discard them in the kernel instead of copying. */
            ssize_t r = recv(c->fd, buf, (size_t)c->remaining, MSG_TRUNC | MSG_DONTWAIT);
            if (r > 0) {
              bytes_read += (uint64_t)r;
              c->remaining -= r;
              last_completion = now;
              if (c->remaining == 0) response_done(c, now);
              continue;
            }
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
            conn_fail(c, now);
            break;
          }
          /* Heads are read in small pieces so that bodies take the discarding path above. */
          ssize_t r = read(c->fd, buf, c->state == S_HEAD ? 4096 : sizeof buf);
          if (r > 0) {
            bytes_read += (uint64_t)r;
            int fd = c->fd;
            if (!feed(c, buf, (size_t)r, now)) {
              conn_fail(c, now);
              break;
            }
            last_completion = now;
            if (c->fd != fd) break; /* reconnected after Connection: close */
            continue;
          }
          if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
          conn_fail(c, now); /* EOF or error */
          break;
        }
      }
    }
  }
  uint64_t end = now_ns();
  struct rusage ru1;
  getrusage(RUSAGE_SELF, &ru1);
  /* What never got an answer enters the distribution with its latency so far. */
  uint64_t unfinished = 0;
  for (int i = 0; i < nconn; i++) {
    Conn *c = &conns[i];
    if (c->busy) {
      record(c->due, c->sent, end);
      unfinished++;
    }
    for (size_t j = 0; j < c->qlen; j++) {
      record(c->queue[(c->qhead + j) % c->qcap], 0, end);
      unfinished++;
    }
  }
  uint64_t span = (last_completion > last_due ? last_completion : last_due) - t0;
  double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
               (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
               (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
               (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
  printf("{\"rate\":%.1f,\"connections\":%d,\"seconds\":%.1f,\"scheduled\":%llu,\"completed\":%llu,"
         "\"achievedRps\":%.1f,\"non2xx\":%llu,\"socketErrors\":%llu,\"unfinished\":%llu,"
         "\"lateSends\":%llu,\"bytes\":%llu,\"cpuSeconds\":%.2f,",
         rate, nconn, seconds, (unsigned long long)total, (unsigned long long)completed,
         span ? (double)completed / ((double)span / 1e9) : 0, (unsigned long long)non2xx,
         (unsigned long long)socket_errors, (unsigned long long)unfinished,
         (unsigned long long)late_sends, (unsigned long long)bytes_read, cpu);
  print_dist("latencyMs", lat, nlat);
  printf(",");
  /* Service time exists only for requests that were written. */
  size_t m = 0;
  for (size_t i = 0; i < nlat; i++)
    if (svc[i] >= 0) svc[m++] = svc[i];
  print_dist("serviceMs", svc, m);
  printf("}\n");
  return 0;
}

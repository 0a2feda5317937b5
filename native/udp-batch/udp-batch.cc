// Batched UDP socket I/O for the media plane (docs/media.md, "Batched socket I/O").
//
// One "set" per JavaScript thread (the media worker's engine) holds all of that thread's RTP/RTCP
// sockets in one epoll instance, watched by one uv_poll_t on the epoll fd. When the epoll fd is
// readable the set reads every ready socket into a receive arena shared with JavaScript (an
// ArrayBuffer of fixed-size slots) and records, per datagram, the socket, the source address, the
// length, the slot and (for sockets opened with receive times) how long it waited since the kernel
// received it, in a metadata Int32Array; then it makes ONE call into JavaScript for the whole wake.
// Sends are queued by JavaScript into a send arena + metadata and written at the end of the batch.
// Reads and writes go through the set's io_uring, all sockets' in one io_uring_enter, or, without
// a ring, with recvmmsg(2) and sendmmsg(2), one call per socket.
//
// Thread safety: no process-wide state. Every set belongs to the napi_env that created it (the
// per-env instance data lists them) and is closed by an async cleanup hook when that env (a
// worker) is torn down, so the uv handle is closed on its own loop before the loop goes away.
//
// Linux only (epoll, io_uring, recvmmsg, sendmmsg); binding.gyp builds nothing elsewhere.

#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <linux/io_uring.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

namespace udp_batch {

// Receive metadata, one record of int32 per datagram (slot i of the arena holds datagram i):
//   [0] socket index  [1] source port  [2] family (4|6)  [3..6] address words  [7] length (-1: truncated)
//   [8] age: microseconds from the kernel's receive timestamp (SO_TIMESTAMPNS) to this wake, -1 when
//       the socket was opened without receive times or the kernel gave none
//   [9] the arena slot holding the datagram (records are in delivery order; slots may skip)
constexpr int kRecvStride = 10;
// Send metadata, one record per queued datagram:
//   [0] socket index  [1] port  [2] family (4|6)  [3..6] address words  [7] arena offset  [8] length
constexpr int kSendStride = 9;
// At most this many datagrams per recvmmsg/sendmmsg call (one socket at a time).
constexpr int kMaxMsgs = 64;
// At most this many datagrams read from one socket per wake; the rest wait for the next wake
// (level-triggered: the socket is reported again). A thread that fell behind then reads its
// sockets' backlogs in turns of 320 ms of 20 ms audio, so the two streams of a recording reach it
// interleaved much as they were sent (the recording server places packets by arrival and keeps
// 500 ms for late ones), and one flooded socket does not hold the others back.
constexpr int kMaxRecvPerSocket = 16;
constexpr int kMaxEvents = 256;
// Error-queue entries read per socket and wake (each is one ICMP error for a datagram we sent).
constexpr int kMaxErrqueue = 64;

struct Socket {
  int fd = -1;
  int family = 0;
  bool receive_times = false;
};

// Control space of one received datagram: its SCM_TIMESTAMPNS.
constexpr size_t kControlBytes = CMSG_SPACE(sizeof(timespec));

// ------------------------------------------------------------------ io_uring

// One submission/completion ring per set (io_uring(7), set up with raw system calls: no liburing).
// A flush puts every queued datagram of every socket into the ring as one IORING_OP_SENDMSG each
// and submits them with ONE io_uring_enter, which also waits for their completions; a wake does the
// same with IORING_OP_RECVMSG for the ready sockets (ReceiveRing). UDP reads and sends with
// MSG_DONTWAIT on non-blocking sockets complete inline, during that call, in submission order (so
// per socket in queue order): a read with nothing there and a send into a full buffer complete with
// -EAGAIN, as recvmmsg and sendmmsg would fail, and are handled the same way. Without a ring (kernel
// older than 5.18, io_uring disabled by sysctl or refused by a seccomp filter, as in Docker's
// default profile), recvmmsg and sendmmsg per socket do the work.
constexpr unsigned kRingEntries = 256;

// Setup flags newer than some build hosts' kernel headers (values from the kernel's ABI; a kernel
// that does not know them refuses the setup with EINVAL and the set goes on without a ring).
#ifndef IORING_SETUP_SUBMIT_ALL
#define IORING_SETUP_SUBMIT_ALL (1U << 7)
#endif
#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN (1U << 8)
#endif
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif

struct Ring {
  int fd = -1;
  unsigned sq_entries = 0;
  unsigned* sq_tail = nullptr;
  unsigned* sq_mask = nullptr;
  unsigned* cq_head = nullptr;
  unsigned* cq_tail = nullptr;
  unsigned* cq_mask = nullptr;
  io_uring_sqe* sqes = nullptr;
  io_uring_cqe* cqes = nullptr;
  void* sq_ptr = nullptr;
  size_t sq_len = 0;
  void* cq_ptr = nullptr;
  size_t cq_len = 0;
  size_t sqes_len = 0;
};

void RingClose(Ring* r) {
  if (r->sqes != nullptr) munmap(r->sqes, r->sqes_len);
  if (r->cq_ptr != nullptr && r->cq_ptr != r->sq_ptr) munmap(r->cq_ptr, r->cq_len);
  if (r->sq_ptr != nullptr) munmap(r->sq_ptr, r->sq_len);
  if (r->fd >= 0) close(r->fd);
  *r = Ring();
}

// Sets the ring up; returns 0 or the errno that refused it (the ring is then left closed).
int RingSetup(Ring* r) {
  io_uring_params p;
  int fd = -1;
  // SUBMIT_ALL (5.18): an SQE that fails to prepare completes with its error and the rest are still
  // submitted, so the ring never keeps unsubmitted entries. SINGLE_ISSUER and COOP_TASKRUN are
  // hints (one thread submits; no interrupt for task work) a kernel may not know.
  const unsigned flag_sets[2] = {IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER,
                                 IORING_SETUP_SUBMIT_ALL};
  int err = 0;
  for (unsigned flags : flag_sets) {
    memset(&p, 0, sizeof(p));
    p.flags = flags;
    fd = static_cast<int>(syscall(__NR_io_uring_setup, kRingEntries, &p));
    if (fd >= 0) break;
    err = errno;
    if (err != EINVAL) return err;
  }
  if (fd < 0) return err;
  r->fd = fd;
  r->sq_entries = p.sq_entries;
  r->sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  r->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  const bool single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single) r->sq_len = r->cq_len = std::max(r->sq_len, r->cq_len);
  void* sq = mmap(nullptr, r->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  if (sq == MAP_FAILED) {
    err = errno;
    RingClose(r);
    return err;
  }
  r->sq_ptr = sq;
  void* cq = sq;
  if (!single) {
    cq = mmap(nullptr, r->cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
    if (cq == MAP_FAILED) {
      err = errno;
      RingClose(r);
      return err;
    }
  }
  r->cq_ptr = cq;
  r->sqes_len = p.sq_entries * sizeof(io_uring_sqe);
  void* sqes = mmap(nullptr, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (sqes == MAP_FAILED) {
    err = errno;
    RingClose(r);
    return err;
  }
  r->sqes = static_cast<io_uring_sqe*>(sqes);
  uint8_t* sqb = static_cast<uint8_t*>(sq);
  uint8_t* cqb = static_cast<uint8_t*>(cq);
  r->sq_tail = reinterpret_cast<unsigned*>(sqb + p.sq_off.tail);
  r->sq_mask = reinterpret_cast<unsigned*>(sqb + p.sq_off.ring_mask);
  unsigned* array = reinterpret_cast<unsigned*>(sqb + p.sq_off.array);
  for (unsigned i = 0; i < p.sq_entries; i++) array[i] = i;  // slot i of the ring is SQE i
  r->cq_head = reinterpret_cast<unsigned*>(cqb + p.cq_off.head);
  r->cq_tail = reinterpret_cast<unsigned*>(cqb + p.cq_off.tail);
  r->cq_mask = reinterpret_cast<unsigned*>(cqb + p.cq_off.ring_mask);
  r->cqes = reinterpret_cast<io_uring_cqe*>(cqb + p.cq_off.cqes);
  return 0;
}

// The next free SQE (the caller never queues more than sq_entries before RingSubmitAndWait).
io_uring_sqe* RingNext(Ring* r, unsigned* tail) {
  io_uring_sqe* sqe = &r->sqes[*tail & *r->sq_mask];
  memset(sqe, 0, sizeof(*sqe));
  (*tail)++;
  return sqe;
}

// Publishes SQEs up to `tail` (n of them), submits them and waits for their n completions, handing
// each (user_data, res) to `done`. Returns false when the ring failed (the caller falls back);
// `reaped` then says how many completions were handed over before it did.
template <typename Done>
bool RingSubmitAndWait(Ring* r, unsigned tail, unsigned n, Done done, unsigned* reaped_out) {
  __atomic_store_n(r->sq_tail, tail, __ATOMIC_RELEASE);
  unsigned to_submit = n;
  unsigned reaped = 0;
  *reaped_out = 0;
  while (reaped < n) {
    unsigned head = *r->cq_head;
    unsigned ctail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
    while (head != ctail && reaped < n) {
      const io_uring_cqe& c = r->cqes[head & *r->cq_mask];
      done(c.user_data, c.res);
      head++;
      reaped++;
    }
    __atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
    *reaped_out = reaped;
    if (reaped == n) break;
    long rc = syscall(__NR_io_uring_enter, r->fd, to_submit, n - reaped, IORING_ENTER_GETEVENTS, nullptr, 0);
    if (rc < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EBUSY) continue;
      return false;
    }
    to_submit -= std::min(to_submit, static_cast<unsigned>(rc));
  }
  return true;
}

struct Instance;

struct Set {
  napi_env env = nullptr;
  Instance* instance = nullptr;
  uv_poll_t* poll = nullptr;
  int epfd = -1;
  bool closed = false;
  bool in_batch = false;
  bool referenced = false;
  int open_sockets = 0;
  std::vector<Socket> sockets;
  std::vector<int> free_slots;
  // closed during a JavaScript batch callback: reused only after it (the batch may still name them)
  std::vector<int> deferred_free;

  napi_ref refs[6] = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  napi_ref callback = nullptr;
  napi_async_context async_context = nullptr;
  napi_async_cleanup_hook_handle cleanup = nullptr;

  uint8_t* recv_arena = nullptr;
  size_t recv_slots = 0;
  size_t slot_size = 0;
  int32_t* recv_meta = nullptr;
  uint8_t* send_arena = nullptr;
  size_t send_arena_len = 0;
  int32_t* send_meta = nullptr;
  size_t send_max = 0;
  int32_t* failures = nullptr;
  size_t failures_max = 0;
  size_t failure_count = 0;
  int32_t* scratch = nullptr;  // parseAddress output: family, a0..a3

  // per-flush grouping of queued datagrams by socket (stamped, never cleared)
  std::vector<uint32_t> stamp;
  std::vector<int> head;
  std::vector<int> tail;
  std::vector<int> next;
  std::vector<int> touched;
  uint32_t flush_epoch = 0;

  Ring ring;
  int ring_error = 0;  // why there is no ring (errno), 0 when there is one or it was not asked for
  bool ring_asked = false;
  // per queued datagram of a ring flush: its message, buffer and destination
  std::vector<msghdr> ring_msgs;
  std::vector<iovec> ring_iovs;
  std::vector<sockaddr_storage> ring_addrs;
  std::vector<int> ring_socks;
  // per receive slot of a ring read: its message, buffer, source, control data, result and socket
  std::vector<msghdr> ring_rmsgs;
  std::vector<iovec> ring_riovs;
  std::vector<sockaddr_storage> ring_raddrs;
  std::vector<uint8_t> ring_rcontrols;
  std::vector<int> ring_rres;
  std::vector<int> ring_rsock;

  mmsghdr msgs[kMaxMsgs];
  iovec iovs[kMaxMsgs];
  sockaddr_storage addrs[kMaxMsgs];
  alignas(cmsghdr) uint8_t controls[kMaxMsgs][kControlBytes];
};

struct Instance {
  std::vector<Set*> sets;
};

// ------------------------------------------------------------------ helpers

napi_value Undefined(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

napi_value Int(napi_env env, int64_t n) {
  napi_value v;
  napi_create_int64(env, n, &v);
  return v;
}

void SetString(napi_env env, napi_value obj, const char* key, const char* value) {
  napi_value v;
  napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
}

// Throws an Error shaped like Node's system errors: message "<syscall> <CODE> <address>:<port>",
// and `code`, `errno` (negative), `syscall`, `address`, `port`; the media plane reads `code`.
void ThrowSystemError(napi_env env, int err, const char* syscall, const std::string& address, int port) {
  int uverr = uv_translate_sys_error(err);
  const char* code = uv_err_name(uverr);
  std::string msg = std::string(syscall) + " " + code;
  if (!address.empty()) msg += " " + address + ":" + std::to_string(port);
  napi_value message, error, code_value;
  napi_create_string_utf8(env, msg.c_str(), msg.size(), &message);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
  napi_create_error(env, code_value, message, &error);
  napi_set_named_property(env, error, "errno", Int(env, uverr));
  SetString(env, error, "syscall", syscall);
  if (!address.empty()) {
    SetString(env, error, "address", address.c_str());
    napi_set_named_property(env, error, "port", Int(env, port));
  }
  napi_throw(env, error);
}

bool GetArgs(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < want) {
    napi_throw_type_error(env, nullptr, "udp-batch: missing arguments");
    return false;
  }
  return true;
}

Set* GetSet(napi_env env, napi_value v) {
  void* data = nullptr;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == nullptr) {
    napi_throw_type_error(env, nullptr, "udp-batch: not a socket set");
    return nullptr;
  }
  Set* set = static_cast<Set*>(data);
  if (set->closed) {
    napi_throw_error(env, "ERR_SOCKET_DGRAM_NOT_RUNNING", "udp-batch: socket set is closed");
    return nullptr;
  }
  return set;
}

int32_t GetInt(napi_env env, napi_value v) {
  int32_t n = 0;
  napi_get_value_int32(env, v, &n);
  return n;
}

// The backing store of an ArrayBuffer or a typed array / Buffer (its view's bytes).
bool GetBytes(napi_env env, napi_value v, uint8_t** data, size_t* length) {
  bool is_ab = false;
  napi_is_arraybuffer(env, v, &is_ab);
  if (is_ab) {
    void* d = nullptr;
    if (napi_get_arraybuffer_info(env, v, &d, length) != napi_ok) return false;
    *data = static_cast<uint8_t*>(d);
    return true;
  }
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (!is_ta) return false;
  napi_typedarray_type type;
  size_t count = 0, offset = 0;
  void* d = nullptr;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &count, &d, &ab, &offset) != napi_ok) return false;
  size_t elem = 1;
  switch (type) {
    case napi_int16_array:
    case napi_uint16_array:
      elem = 2;
      break;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      elem = 4;
      break;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      elem = 8;
      break;
    default:
      elem = 1;
  }
  *data = static_cast<uint8_t*>(d);
  *length = count * elem;
  return true;
}

// Parses an IP literal into family + four words (IPv4: word 0 in host order; IPv6: the 16 bytes).
int ParseAddress(const char* text, int32_t* words) {
  in_addr a4;
  if (inet_pton(AF_INET, text, &a4) == 1) {
    words[0] = static_cast<int32_t>(ntohl(a4.s_addr));
    words[1] = words[2] = words[3] = 0;
    return 4;
  }
  in6_addr a6;
  if (inet_pton(AF_INET6, text, &a6) == 1) {
    memcpy(words, &a6, 16);
    return 6;
  }
  return 0;
}

// Builds the destination for a socket of `socket_family`; false when it cannot reach it.
bool BuildSockaddr(int socket_family, const int32_t* rec, sockaddr_storage* out, socklen_t* len) {
  int family = rec[2];
  int port = rec[1];
  if (port <= 0 || port > 65535) return false;
  memset(out, 0, sizeof(sockaddr_in6));
  if (socket_family == 4) {
    if (family != 4) return false;
    sockaddr_in* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    sin->sin_addr.s_addr = htonl(static_cast<uint32_t>(rec[3]));
    *len = sizeof(sockaddr_in);
    return true;
  }
  sockaddr_in6* sin6 = reinterpret_cast<sockaddr_in6*>(out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(static_cast<uint16_t>(port));
  if (family == 6) {
    memcpy(&sin6->sin6_addr, rec + 3, 16);
  } else if (family == 4) {
    // an IPv4 destination from an IPv6 socket: the v4-mapped address (::ffff:a.b.c.d)
    uint8_t* b = sin6->sin6_addr.s6_addr;
    b[10] = 0xff;
    b[11] = 0xff;
    uint32_t a = htonl(static_cast<uint32_t>(rec[3]));
    memcpy(b + 12, &a, 4);
  } else {
    return false;
  }
  *len = sizeof(sockaddr_in6);
  return true;
}

void RecordFailure(Set* set, int index) {
  if (set->failures_max == 0) return;
  size_t at = std::min(set->failure_count, set->failures_max - 1);
  set->failures[at] = index;
  if (set->failure_count < set->failures_max) set->failure_count++;
}

void UpdateRef(Set* set) {
  // the set keeps the thread's loop alive only while it has sockets (like a bound dgram socket)
  bool want = set->open_sockets > 0;
  if (want == set->referenced || set->poll == nullptr) return;
  if (want) uv_ref(reinterpret_cast<uv_handle_t*>(set->poll));
  else uv_unref(reinterpret_cast<uv_handle_t*>(set->poll));
  set->referenced = want;
}

// ------------------------------------------------------------------ receive

// A pending socket error: read and dropped, so that level-triggered epoll does not report it again.
// IP_RECVERR is off, as on node:dgram's sockets: an ICMP port unreachable for a datagram we sent
// (RTCP to a party that takes none, RTP in flight at a call's end) is not an error of ours, and an
// unconnected socket does not see it; this only clears what the kernel may still set.
void ClearErrors(Set* set, int index) {
  int fd = set->sockets[index].fd;
  int err = 0;
  socklen_t len = sizeof(err);
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  for (int i = 0; i < kMaxErrqueue; i++) {
    char data[64];
    char control[512];
    iovec iov = {data, sizeof(data)};
    msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) break;
  }
}

// Writes receive record `record` for the datagram in arena slot `slot`, read from socket `index`
// with header `h` (its source address and control data); `now`: this wake's time, for the age of a
// datagram the kernel stamped (nullptr: the socket takes no receive times).
void WriteRecord(Set* set, size_t record, size_t slot, int index, const msghdr& h, int length, bool truncated, const timespec* now) {
  int32_t* rec = set->recv_meta + record * kRecvStride;
  rec[0] = index;
  const sockaddr* sa = static_cast<const sockaddr*>(h.msg_name);
  if (sa->sa_family == AF_INET6) {
    const sockaddr_in6* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    rec[1] = ntohs(sin6->sin6_port);
    rec[2] = 6;
    memcpy(rec + 3, &sin6->sin6_addr, 16);
  } else {
    const sockaddr_in* sin = reinterpret_cast<const sockaddr_in*>(sa);
    rec[1] = ntohs(sin->sin_port);
    rec[2] = 4;
    rec[3] = static_cast<int32_t>(ntohl(sin->sin_addr.s_addr));
    rec[4] = rec[5] = rec[6] = 0;
  }
  rec[7] = truncated ? -1 : length;
  rec[8] = -1;
  rec[9] = static_cast<int32_t>(slot);
  if (now == nullptr) return;
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
    timespec ts;
    memcpy(&ts, CMSG_DATA(c), sizeof(ts));
    int64_t age = (static_cast<int64_t>(now->tv_sec) - ts.tv_sec) * 1000000 + (now->tv_nsec - ts.tv_nsec) / 1000;
    // a clock step between the stamp and now: an age outside [0, ~35 min] is unknown
    rec[8] = age >= 0 && age <= INT32_MAX ? static_cast<int32_t>(age) : -1;
    break;
  }
}

// Points a read's header at arena slot `slot`, the source address storage and, for a socket with
// receive times, the control space for its timestamp.
void PrepareRead(Set* set, size_t slot, msghdr* h, iovec* iov, sockaddr_storage* addr, uint8_t* control) {
  iov->iov_base = set->recv_arena + slot * set->slot_size;
  iov->iov_len = set->slot_size;
  memset(h, 0, sizeof(*h));
  h->msg_iov = iov;
  h->msg_iovlen = 1;
  h->msg_name = addr;
  h->msg_namelen = sizeof(sockaddr_storage);
  if (control != nullptr) {
    h->msg_control = control;
    h->msg_controllen = kControlBytes;
  }
}

// Reads up to `limit` datagrams (and the arena's free slots) from one socket with recvmmsg into
// slots `slot`... as records `record`...; returns how many it read.
size_t Receive(Set* set, int index, size_t record, size_t slot, size_t limit = kMaxRecvPerSocket) {
  size_t room = set->recv_slots - slot;
  int n = static_cast<int>(std::min({room, limit, static_cast<size_t>(kMaxMsgs)}));
  if (n <= 0) return 0;
  const bool times = set->sockets[index].receive_times;
  for (int j = 0; j < n; j++) {
    PrepareRead(set, slot + j, &set->msgs[j].msg_hdr, &set->iovs[j], &set->addrs[j], times ? set->controls[j] : nullptr);
    set->msgs[j].msg_len = 0;
  }
  int got;
  do {
    got = recvmmsg(set->sockets[index].fd, set->msgs, n, MSG_DONTWAIT, nullptr);
  } while (got < 0 && errno == EINTR);
  if (got <= 0) return 0;  // EAGAIN, or a pending ICMP error (read from the error queue)
  timespec now = {0, 0};
  if (times) clock_gettime(CLOCK_REALTIME, &now);  // after the read: every stamp is older
  for (int j = 0; j < got; j++) {
    const msghdr& h = set->msgs[j].msg_hdr;
    WriteRecord(set, record + j, slot + j, index, h, static_cast<int>(set->msgs[j].msg_len), (h.msg_flags & MSG_TRUNC) != 0, times ? &now : nullptr);
  }
  return static_cast<size_t>(got);
}

void ReleaseDeferred(Set* set) {
  for (int i : set->deferred_free) set->free_slots.push_back(i);
  set->deferred_free.clear();
}

// The ring's receive: the ready sockets' reads go into the ring, one IORING_OP_RECVMSG per datagram,
// and ONE io_uring_enter runs them all (each completes inline: the data is there, or -EAGAIN). A
// socket gets two reads when the arena has room for two per ready socket, else one; a socket whose
// reads all returned a datagram may hold more (a burst, a flood) and is read on with recvmmsg into
// the free slots, up to kMaxRecvPerSocket in all, as without a ring. Returns the records written,
// in order per socket.
// false: the ring failed (closed; the caller reads without it).
bool ReceiveRing(Set* set, const int* ready, int n, size_t* count_out) {
  Ring* r = &set->ring;
  size_t room = std::min<size_t>(set->recv_slots, r->sq_entries);
  if (set->ring_rmsgs.size() < room) {
    set->ring_rmsgs.resize(room);
    set->ring_riovs.resize(room);
    set->ring_raddrs.resize(room);
    set->ring_rcontrols.resize(room * kControlBytes);
    set->ring_rres.resize(room);
    set->ring_rsock.resize(room);
  }
  const size_t per = static_cast<size_t>(n) * 2 <= room ? 2 : 1;
  unsigned tail = *r->sq_tail;
  size_t slots = 0;
  for (int i = 0; i < n && slots + per <= room; i++) {
    int index = ready[i];
    const bool times = set->sockets[index].receive_times;
    for (size_t k = 0; k < per; k++, slots++) {
      msghdr& h = set->ring_rmsgs[slots];
      PrepareRead(set, slots, &h, &set->ring_riovs[slots], &set->ring_raddrs[slots], times ? &set->ring_rcontrols[slots * kControlBytes] : nullptr);
      set->ring_rsock[slots] = index;
      io_uring_sqe* sqe = RingNext(r, &tail);
      sqe->opcode = IORING_OP_RECVMSG;
      sqe->fd = set->sockets[index].fd;
      sqe->addr = reinterpret_cast<uint64_t>(&h);
      sqe->len = 1;
      // MSG_TRUNC: a datagram larger than the slot completes with its whole length (then dropped)
      sqe->msg_flags = MSG_DONTWAIT | MSG_TRUNC;
      sqe->user_data = slots;
    }
  }
  if (slots == 0) {
    *count_out = 0;
    return true;
  }
  std::vector<int>& res = set->ring_rres;
  unsigned reaped = 0;
  if (!RingSubmitAndWait(r, tail, static_cast<unsigned>(slots), [&res](uint64_t slot, int result) { res[slot] = result; }, &reaped)) {
    set->ring_error = errno != 0 ? errno : EIO;
    RingClose(r);
    return false;
  }
  timespec now = {0, 0};
  clock_gettime(CLOCK_REALTIME, &now);  // after the reads: every stamp is older
  size_t count = 0;
  size_t next_slot = slots;
  for (size_t first = 0; first < slots; first += per) {
    int index = set->ring_rsock[first];
    const bool times = set->sockets[index].receive_times;
    size_t got = 0;
    for (size_t k = first; k < first + per; k++) {
      if (res[k] < 0) continue;  // -EAGAIN: nothing (more) to read; a pending ICMP error was read
      const msghdr& h = set->ring_rmsgs[k];
      const bool truncated = static_cast<size_t>(res[k]) > set->slot_size || (h.msg_flags & MSG_TRUNC) != 0;
      WriteRecord(set, count++, k, index, h, res[k], truncated, times ? &now : nullptr);
      got++;
    }
    if (got == per && next_slot < set->recv_slots) {
      size_t more = Receive(set, index, count, next_slot, kMaxRecvPerSocket - per);
      count += more;
      next_slot += more;
    }
  }
  *count_out = count;
  return true;
}

void OnReadable(uv_poll_t* handle, int status, int events) {
  Set* set = static_cast<Set*>(handle->data);
  if (set == nullptr || set->closed) return;
  epoll_event ready[kMaxEvents];
  int n = epoll_wait(set->epfd, ready, kMaxEvents, 0);
  if (n <= 0) return;
  size_t count = 0;
  set->failure_count = 0;
  int readable[kMaxEvents];
  int nreadable = 0;
  for (int i = 0; i < n; i++) {
    int index = static_cast<int>(ready[i].data.u32);
    if (index < 0 || static_cast<size_t>(index) >= set->sockets.size() || set->sockets[index].fd < 0) continue;
    if ((ready[i].events & EPOLLERR) != 0) ClearErrors(set, index);
    if ((ready[i].events & EPOLLIN) != 0) readable[nreadable++] = index;
  }
  // a socket left ready (arena full) stays readable: level-triggered epoll reports it again, after
  // the others (the ready list rotates), on the loop's next turn
  if (set->ring.fd < 0 || !ReceiveRing(set, readable, nreadable, &count)) {
    for (int i = 0; i < nreadable && count < set->recv_slots; i++) count += Receive(set, readable[i], count, count);
  }
  if (count == 0 && set->failure_count == 0) return;

  napi_env env = set->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[2], result;
  napi_get_reference_value(env, set->callback, &cb);
  napi_get_global(env, &recv);
  argv[0] = Int(env, static_cast<int64_t>(count));
  argv[1] = Int(env, static_cast<int64_t>(set->failure_count));
  set->in_batch = true;
  // make_callback: runs the microtasks and nextTick queue after the batch, like any I/O callback
  napi_status st = napi_make_callback(env, set->async_context, recv, cb, 2, argv, &result);
  set->in_batch = false;
  ReleaseDeferred(set);
  if (st == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

// ------------------------------------------------------------------ send

// Sends queued datagrams [0, count): grouped by socket (order kept per socket), one sendmmsg per
// socket and up to kMaxMsgs datagrams. Returns the failures written to the failures array.
// The socket of queued datagram `rec`, or -1 when it names none that is open (counted on the
// socket's slot when the index is one).
int SendSocket(Set* set, const int32_t* rec) {
  int s = rec[0];
  size_t nsock = set->sockets.size();
  if (s >= 0 && static_cast<size_t>(s) < nsock && set->sockets[s].fd >= 0) return s;
  if (s >= 0 && static_cast<size_t>(s) < nsock) RecordFailure(set, s);
  return -1;
}

// Points a send's header at queued datagram `rec` in the send arena and its destination; false
// when the record is out of the arena or its address does not fit the socket's family.
bool PrepareSend(Set* set, const int32_t* rec, int family, msghdr* h, iovec* iov, sockaddr_storage* addr) {
  int32_t off = rec[7];
  int32_t len = rec[8];
  socklen_t alen = 0;
  if (off < 0 || len < 0 || static_cast<size_t>(off) + static_cast<size_t>(len) > set->send_arena_len || !BuildSockaddr(family, rec, addr, &alen)) {
    return false;
  }
  iov->iov_base = set->send_arena + off;
  iov->iov_len = static_cast<size_t>(len);
  memset(h, 0, sizeof(*h));
  h->msg_name = addr;
  h->msg_namelen = alen;
  h->msg_iov = iov;
  h->msg_iovlen = 1;
  return true;
}

// The ring's flush: one SENDMSG per datagram, in queue order, up to sq_entries per io_uring_enter.
// false when the ring failed (it is then closed and the set goes on with sendmmsg).
bool FlushRing(Set* set, size_t count) {
  Ring* r = &set->ring;
  if (set->ring_msgs.size() < r->sq_entries) {
    set->ring_msgs.resize(r->sq_entries);
    set->ring_iovs.resize(r->sq_entries);
    set->ring_addrs.resize(r->sq_entries);
    set->ring_socks.resize(r->sq_entries);
  }
  auto done = [set](uint64_t s, int res) {
    if (res < 0) RecordFailure(set, static_cast<int>(s));
  };
  size_t i = 0;
  while (i < count) {
    unsigned tail = *r->sq_tail;
    unsigned n = 0;
    for (; i < count && n < r->sq_entries; i++) {
      const int32_t* rec = set->send_meta + i * kSendStride;
      int s = SendSocket(set, rec);
      if (s < 0) continue;
      msghdr& h = set->ring_msgs[n];
      if (!PrepareSend(set, rec, set->sockets[s].family, &h, &set->ring_iovs[n], &set->ring_addrs[n])) {
        RecordFailure(set, s);
        continue;
      }
      io_uring_sqe* sqe = RingNext(r, &tail);
      sqe->opcode = IORING_OP_SENDMSG;
      sqe->fd = set->sockets[s].fd;
      sqe->addr = reinterpret_cast<uint64_t>(&h);
      sqe->len = 1;
      sqe->msg_flags = MSG_DONTWAIT;
      sqe->user_data = static_cast<uint64_t>(s);
      set->ring_socks[n] = s;
      n++;
    }
    if (n == 0) continue;
    unsigned reaped = 0;
    if (!RingSubmitAndWait(r, tail, n, done, &reaped)) {
      // the ring failed (cannot happen with valid SQEs; a kernel error): it is closed, the set goes
      // on with sendmmsg, and every datagram it did not confirm is counted as a send failure
      set->ring_error = errno != 0 ? errno : EIO;
      RingClose(r);
      for (unsigned j = reaped; j < n; j++) RecordFailure(set, set->ring_socks[j]);
      for (size_t j = i; j < count; j++) RecordFailure(set, set->send_meta[j * kSendStride]);
      return false;
    }
  }
  return true;
}

size_t Flush(Set* set, size_t count) {
  set->failure_count = 0;
  if (count > set->send_max) count = set->send_max;
  if (count == 0) return 0;
  if (set->ring.fd >= 0) {
    FlushRing(set, count);
    return set->failure_count;
  }
  size_t nsock = set->sockets.size();
  if (set->stamp.size() < nsock) {
    set->stamp.resize(nsock, 0);
    set->head.resize(nsock, -1);
    set->tail.resize(nsock, -1);
  }
  if (set->next.size() < set->send_max) set->next.resize(set->send_max, -1);
  uint32_t epoch = ++set->flush_epoch;
  if (epoch == 0) {  // wrapped: reset the stamps
    std::fill(set->stamp.begin(), set->stamp.end(), 0);
    epoch = set->flush_epoch = 1;
  }
  set->touched.clear();
  for (size_t i = 0; i < count; i++) {
    int s = SendSocket(set, set->send_meta + i * kSendStride);
    if (s < 0) continue;
    set->next[i] = -1;
    if (set->stamp[s] != epoch) {
      set->stamp[s] = epoch;
      set->head[s] = static_cast<int>(i);
      set->touched.push_back(s);
    } else {
      set->next[set->tail[s]] = static_cast<int>(i);
    }
    set->tail[s] = static_cast<int>(i);
  }
  for (int s : set->touched) {
    const Socket& sock = set->sockets[s];
    int at = set->head[s];
    while (at >= 0) {
      int k = 0;
      while (at >= 0 && k < kMaxMsgs) {
        const int32_t* rec = set->send_meta + static_cast<size_t>(at) * kSendStride;
        if (PrepareSend(set, rec, sock.family, &set->msgs[k].msg_hdr, &set->iovs[k], &set->addrs[k])) k++;
        else RecordFailure(set, s);
        at = set->next[at];
      }
      int pos = 0;
      while (pos < k) {
        int sent = sendmmsg(sock.fd, set->msgs + pos, static_cast<unsigned>(k - pos), MSG_DONTWAIT);
        if (sent > 0) {
          pos += sent;
        } else if (sent < 0 && errno == EINTR) {
          continue;
        } else {
          // EAGAIN/ENOBUFS (send buffer full), ECONNREFUSED (a pending ICMP error), ...: this
          // datagram is lost; count it and go on with the next one
          RecordFailure(set, s);
          pos++;
        }
      }
    }
  }
  return set->failure_count;
}

// ------------------------------------------------------------------ lifecycle

void CloseFd(Set* set, int index) {
  Socket& sock = set->sockets[index];
  if (sock.fd < 0) return;
  epoll_ctl(set->epfd, EPOLL_CTL_DEL, sock.fd, nullptr);
  close(sock.fd);
  sock.fd = -1;
  sock.family = 0;
  set->open_sockets--;
}

void DeleteRefs(Set* set) {
  for (napi_ref& r : set->refs) {
    if (r != nullptr) napi_delete_reference(set->env, r);
    r = nullptr;
  }
  if (set->callback != nullptr) napi_delete_reference(set->env, set->callback);
  set->callback = nullptr;
  if (set->async_context != nullptr) napi_async_destroy(set->env, set->async_context);
  set->async_context = nullptr;
}

void OnPollClosed(uv_handle_t* handle) {
  Set* set = static_cast<Set*>(handle->data);
  delete reinterpret_cast<uv_poll_t*>(handle);
  if (set == nullptr) return;
  napi_async_cleanup_hook_handle hook = set->cleanup;
  set->cleanup = nullptr;
  set->poll = nullptr;
  // the set itself stays allocated: its JavaScript external may still be reachable (it is then
  // "closed", and every call on it throws); freed by the instance data's finalizer
  if (hook != nullptr) napi_remove_async_cleanup_hook(hook);
}

// Closes every socket and the poll handle; idempotent. `from_cleanup`: the env is going away.
void CloseSet(Set* set, bool from_cleanup) {
  if (set->closed) return;
  set->closed = true;
  for (size_t i = 0; i < set->sockets.size(); i++) CloseFd(set, static_cast<int>(i));
  if (set->epfd >= 0) close(set->epfd);
  set->epfd = -1;
  RingClose(&set->ring);
  if (!from_cleanup) DeleteRefs(set);
  if (set->poll != nullptr) {
    uv_poll_stop(set->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(set->poll), OnPollClosed);
  } else if (set->cleanup != nullptr) {
    napi_remove_async_cleanup_hook(set->cleanup);
    set->cleanup = nullptr;
  }
}

void OnEnvCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  Set* set = static_cast<Set*>(arg);
  // references and async contexts go with the env; only the OS resources and the handle are ours
  CloseSet(set, true);
}

void FinalizeInstance(napi_env env, void* data, void* hint) {
  Instance* instance = static_cast<Instance*>(data);
  for (Set* set : instance->sets) {
    if (set->poll != nullptr) {
      // not closed yet (cannot happen after the cleanup hook): never free a live handle's data
      set->poll->data = nullptr;
      continue;
    }
    delete set;
  }
  delete instance;
}

Instance* GetInstance(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  if (data != nullptr) return static_cast<Instance*>(data);
  Instance* instance = new Instance();
  napi_set_instance_data(env, instance, FinalizeInstance, nullptr);
  return instance;
}

// ------------------------------------------------------------------ JavaScript API

// createSet(recvArena, slotSize, recvMeta, sendArena, sendMeta, failures, scratch, onBatch, ioUring)
// ioUring: read and send through an io_uring when the kernel gives one (ioUringError says whether it did).
napi_value CreateSet(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!GetArgs(env, info, 9, argv)) return nullptr;
  Set* set = new Set();
  set->env = env;
  uint8_t* d = nullptr;
  size_t len = 0;
  int bytes_args[6] = {0, 2, 3, 4, 5, 6};
  uint8_t* ptrs[6];
  size_t lens[6];
  for (int i = 0; i < 6; i++) {
    if (!GetBytes(env, argv[bytes_args[i]], &d, &len)) {
      delete set;
      napi_throw_type_error(env, nullptr, "udp-batch: createSet expects ArrayBuffers or typed arrays");
      return nullptr;
    }
    ptrs[i] = d;
    lens[i] = len;
  }
  set->slot_size = static_cast<size_t>(std::max(GetInt(env, argv[1]), 64));
  set->recv_arena = ptrs[0];
  set->recv_slots = std::min(lens[0] / set->slot_size, lens[1] / (sizeof(int32_t) * kRecvStride));
  set->recv_meta = reinterpret_cast<int32_t*>(ptrs[1]);
  set->send_arena = ptrs[2];
  set->send_arena_len = lens[2];
  set->send_meta = reinterpret_cast<int32_t*>(ptrs[3]);
  set->send_max = lens[3] / (sizeof(int32_t) * kSendStride);
  set->failures = reinterpret_cast<int32_t*>(ptrs[4]);
  set->failures_max = lens[4] / sizeof(int32_t);
  set->scratch = reinterpret_cast<int32_t*>(ptrs[5]);
  if (set->recv_slots == 0 || set->send_max == 0 || lens[5] < 5 * sizeof(int32_t)) {
    delete set;
    napi_throw_range_error(env, nullptr, "udp-batch: buffers too small");
    return nullptr;
  }
  napi_valuetype type;
  napi_typeof(env, argv[7], &type);
  if (type != napi_function) {
    delete set;
    napi_throw_type_error(env, nullptr, "udp-batch: onBatch must be a function");
    return nullptr;
  }
  // the arenas stay alive (and in place: ArrayBuffer stores do not move) as long as the set
  for (int i = 0; i < 6; i++) napi_create_reference(env, argv[bytes_args[i]], 1, &set->refs[i]);
  napi_create_reference(env, argv[7], 1, &set->callback);
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "UdpBatch", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &set->async_context);

  set->epfd = epoll_create1(EPOLL_CLOEXEC);
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  if (set->epfd < 0 || loop == nullptr) {
    int err = errno;
    DeleteRefs(set);
    if (set->epfd >= 0) close(set->epfd);
    delete set;
    ThrowSystemError(env, err, "epoll_create1", "", 0);
    return nullptr;
  }
  set->poll = new uv_poll_t();
  set->poll->data = set;
  int rc = uv_poll_init(loop, set->poll, set->epfd);
  if (rc == 0) rc = uv_poll_start(set->poll, UV_READABLE, OnReadable);
  if (rc != 0) {
    close(set->epfd);
    delete set->poll;
    DeleteRefs(set);
    delete set;
    napi_throw_error(env, nullptr, "udp-batch: cannot watch the epoll fd");
    return nullptr;
  }
  uv_unref(reinterpret_cast<uv_handle_t*>(set->poll));
  bool want_ring = false;
  napi_get_value_bool(env, argv[8], &want_ring);
  set->ring_asked = want_ring;
  if (want_ring) set->ring_error = RingSetup(&set->ring);
  set->instance = GetInstance(env);
  set->instance->sets.push_back(set);
  napi_add_async_cleanup_hook(env, OnEnvCleanup, set, &set->cleanup);
  napi_value external;
  napi_create_external(env, set, nullptr, nullptr, &external);
  return external;
}

// openSocket(set, address, port, bufferBytes, receiveTimes) -> socket index; throws a system error
// (code EADDRINUSE, EACCES, EADDRNOTAVAIL, EMFILE, ...) like dgram's bind. receiveTimes: the kernel
// stamps each datagram (SO_TIMESTAMPNS) and the receive metadata carries its age.
napi_value OpenSocket(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!GetArgs(env, info, 5, argv)) return nullptr;
  Set* set = GetSet(env, argv[0]);
  if (set == nullptr) return nullptr;
  char address[64];
  size_t alen = 0;
  if (napi_get_value_string_utf8(env, argv[1], address, sizeof(address), &alen) != napi_ok) {
    napi_throw_type_error(env, nullptr, "udp-batch: address must be a string");
    return nullptr;
  }
  int port = GetInt(env, argv[2]);
  int buffer_bytes = GetInt(env, argv[3]);
  bool receive_times = false;
  napi_get_value_bool(env, argv[4], &receive_times);
  int32_t words[4];
  int family = ParseAddress(address, words);
  if (family == 0 || port < 0 || port > 65535) {
    ThrowSystemError(env, EINVAL, "bind", address, port);
    return nullptr;
  }
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ThrowSystemError(env, errno, "socket", address, port);
    return nullptr;
  }
  int on = 1;
  if (family == 6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
  }
  if (buffer_bytes > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof(buffer_bytes));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof(buffer_bytes));
  }
  if (receive_times) {
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
  }
  sockaddr_storage ss;
  socklen_t slen = 0;
  int32_t rec[kSendStride] = {0, port, family, words[0], words[1], words[2], words[3], 0, 0};
  BuildSockaddr(family, rec, &ss, &slen);
  if (port == 0) {
    // port 0 (an ephemeral port, tests): BuildSockaddr refuses it, so fill the port in by hand
    memset(&ss, 0, sizeof(ss));
    if (family == 4) {
      sockaddr_in* sin = reinterpret_cast<sockaddr_in*>(&ss);
      sin->sin_family = AF_INET;
      sin->sin_addr.s_addr = htonl(static_cast<uint32_t>(words[0]));
      slen = sizeof(sockaddr_in);
    } else {
      sockaddr_in6* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
      sin6->sin6_family = AF_INET6;
      memcpy(&sin6->sin6_addr, words, 16);
      slen = sizeof(sockaddr_in6);
    }
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), slen) != 0) {
    int err = errno;
    close(fd);
    ThrowSystemError(env, err, "bind", address, port);
    return nullptr;
  }
  int index;
  if (!set->free_slots.empty()) {
    index = set->free_slots.back();
    set->free_slots.pop_back();
  } else {
    index = static_cast<int>(set->sockets.size());
    set->sockets.push_back(Socket());
  }
  epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.events = EPOLLIN;  // EPOLLERR is always reported
  ev.data.u32 = static_cast<uint32_t>(index);
  if (epoll_ctl(set->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    int err = errno;
    close(fd);
    set->free_slots.push_back(index);
    ThrowSystemError(env, err, "epoll_ctl", address, port);
    return nullptr;
  }
  set->sockets[index].fd = fd;
  set->sockets[index].family = family;
  set->sockets[index].receive_times = receive_times;
  set->open_sockets++;
  UpdateRef(set);
  return Int(env, index);
}

// localPort(set, index) -> the bound port
napi_value LocalPort(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!GetArgs(env, info, 2, argv)) return nullptr;
  Set* set = GetSet(env, argv[0]);
  if (set == nullptr) return nullptr;
  int index = GetInt(env, argv[1]);
  if (index < 0 || static_cast<size_t>(index) >= set->sockets.size() || set->sockets[index].fd < 0) return Int(env, -1);
  sockaddr_storage ss;
  socklen_t slen = sizeof(ss);
  if (getsockname(set->sockets[index].fd, reinterpret_cast<sockaddr*>(&ss), &slen) != 0) return Int(env, -1);
  if (ss.ss_family == AF_INET6) return Int(env, ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port));
  return Int(env, ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port));
}

// closeSocket(set, index): idempotent
napi_value CloseSocket(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!GetArgs(env, info, 2, argv)) return nullptr;
  void* data = nullptr;
  napi_get_value_external(env, argv[0], &data);
  Set* set = static_cast<Set*>(data);
  if (set == nullptr || set->closed) return Undefined(env);
  int index = GetInt(env, argv[1]);
  if (index < 0 || static_cast<size_t>(index) >= set->sockets.size() || set->sockets[index].fd < 0) return Undefined(env);
  CloseFd(set, index);
  if (set->in_batch) set->deferred_free.push_back(index);
  else set->free_slots.push_back(index);
  UpdateRef(set);
  return Undefined(env);
}

// flush(set, count) -> failures written to the failures array
napi_value FlushJs(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!GetArgs(env, info, 2, argv)) return nullptr;
  Set* set = GetSet(env, argv[0]);
  if (set == nullptr) return nullptr;
  int count = GetInt(env, argv[1]);
  return Int(env, static_cast<int64_t>(Flush(set, count > 0 ? static_cast<size_t>(count) : 0)));
}

// parseAddress(set, text) -> family (4|6, 0: not an IP literal); the words go to scratch[1..4]
napi_value ParseAddressJs(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!GetArgs(env, info, 2, argv)) return nullptr;
  Set* set = GetSet(env, argv[0]);
  if (set == nullptr) return nullptr;
  char text[64];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[1], text, sizeof(text), &len) != napi_ok || len >= sizeof(text) - 1) return Int(env, 0);
  int family = ParseAddress(text, set->scratch + 1);
  set->scratch[0] = family;
  return Int(env, family);
}

// formatAddress(family, a0, a1, a2, a3) -> the address as text (inet_ntop: '::1', '::ffff:1.2.3.4')
napi_value FormatAddress(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!GetArgs(env, info, 5, argv)) return nullptr;
  int family = GetInt(env, argv[0]);
  int32_t words[4];
  for (int i = 0; i < 4; i++) words[i] = GetInt(env, argv[i + 1]);
  char text[INET6_ADDRSTRLEN];
  if (family == 4) {
    in_addr a4;
    a4.s_addr = htonl(static_cast<uint32_t>(words[0]));
    inet_ntop(AF_INET, &a4, text, sizeof(text));
  } else {
    in6_addr a6;
    memcpy(&a6, words, 16);
    inet_ntop(AF_INET6, &a6, text, sizeof(text));
  }
  napi_value out;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &out);
  return out;
}

// closeSet(set): closes every socket and stops watching; the set cannot be used after it
// ioUringError(set) -> '' when the set reads and sends through its io_uring, 'off' when it was not asked
// to, else the error code that refused or ended the ring (ENOSYS, EPERM, ...).
napi_value IoUringError(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!GetArgs(env, info, 1, argv)) return nullptr;
  Set* set = GetSet(env, argv[0]);
  if (set == nullptr) return nullptr;
  const char* text = "";
  if (!set->ring_asked) text = "off";
  else if (set->ring.fd < 0) text = uv_err_name(uv_translate_sys_error(set->ring_error != 0 ? set->ring_error : EIO));
  napi_value v;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v);
  return v;
}

napi_value CloseSetJs(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!GetArgs(env, info, 1, argv)) return nullptr;
  void* data = nullptr;
  napi_get_value_external(env, argv[0], &data);
  if (data != nullptr) CloseSet(static_cast<Set*>(data), false);
  return Undefined(env);
}

napi_value Init(napi_env env, napi_value exports) {
  struct {
    const char* name;
    napi_callback fn;
  } fns[] = {
      {"createSet", CreateSet},   {"openSocket", OpenSocket},       {"localPort", LocalPort},
      {"closeSocket", CloseSocket}, {"flush", FlushJs},             {"parseAddress", ParseAddressJs},
      {"formatAddress", FormatAddress}, {"closeSet", CloseSetJs},      {"ioUringError", IoUringError},
  };
  for (auto& f : fns) {
    napi_value v;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &v);
    napi_set_named_property(env, exports, f.name, v);
  }
  napi_set_named_property(env, exports, "recvStride", Int(env, kRecvStride));
  napi_set_named_property(env, exports, "sendStride", Int(env, kSendStride));
  return exports;
}

}  // namespace udp_batch

NAPI_MODULE_INIT() {
  return udp_batch::Init(env, exports);
}

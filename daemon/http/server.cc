// The only translation unit that compiles Boost.Beast (builds are slow here).
#include "daemon/http/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "daemon/log.h"

namespace kv::daemon {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using UnixProtocol = net::local::stream_protocol;
using TcpStream = beast::tcp_stream;
using UnixStream = beast::basic_stream<UnixProtocol>;
using Clock = std::chrono::steady_clock;

namespace server_internal {

constexpr size_t kReadChunk = 16 << 10;
// After a response that closes the connection (an error, Connection: close),
// the server stops sending, then reads and drops what the client still sends
// for up to this long and this much, so the client sees the response rather
// than a reset.
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr size_t kLingerBytes = 1 << 20;
// Connections over the cap that are being answered 503 at once; past this
// they are closed without an answer.
constexpr int kMaxRejecting = 64;
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
constexpr char kServerRoute[] = "(server)";


bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Optional whitespace around a field value goes, as Beast's fields drop it.
std::string_view TrimOws(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

void AppendUint(std::string* out, uint64_t n) {
  char buf[20];
  int len = 0;
  do {
    buf[len++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n > 0);
  while (len > 0) out->push_back(buf[--len]);
}

void AppendField(std::string* out, std::string_view name, std::string_view value) {
  out->append(name).append(": ").append(value).append("\r\n");
}

// Parses a request straight into an HttpRequest, without building a Beast
// message first (one copy of each field instead of two, no field nodes).
// Beast's basic_parser does the parsing and enforces the header and body
// limits; this only stores what it reports.
class RequestParser : public http::basic_parser<true> {
 public:
  RequestParser(HttpRequest* out, http::verb* verb, unsigned* version)
      : out_(out), verb_(verb), version_(version) {}

 private:
  void on_request_impl(http::verb method, beast::string_view method_str, beast::string_view target,
                       int version, beast::error_code&) override {
    *verb_ = method;
    *version_ = static_cast<unsigned>(version);
    out_->method.assign(method_str.data(), method_str.size());
    out_->target.assign(target.data(), target.size());
  }
  void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}
  void on_field_impl(http::field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    std::string_view v = TrimOws(std::string_view(value.data(), value.size()));
    out_->headers.Add(std::string(name.data(), name.size()), std::string(v));
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         beast::error_code& ec) override {
    if (!length) return;
    if (*length > out_->body.max_size()) {
      ec = http::error::buffer_overflow;
      return;
    }
    out_->body.reserve(static_cast<size_t>(*length));
  }
  size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    out_->body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, beast::error_code&) override {
    out_->body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  HttpRequest* out_;
  http::verb* verb_;
  unsigned* version_;
};

void AppendJsonString(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// An error the server itself answers, in the API's error shape.
HttpResponse ServerError(int status, std::string_view code, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.route = kServerRoute;
  response.headers.Set("Content-Type", "application/json");
  std::string body = "{\"error\":";
  AppendJsonString(&body, message);
  body.append(",\"code\":");
  AppendJsonString(&body, code);
  body.append(",\"status\":").append(std::to_string(status)).append("}");
  response.body = std::move(body);
  return response;
}

template <class Protocol>
std::string RemoteName(const typename Protocol::socket& socket) {
  if constexpr (std::is_same_v<Protocol, tcp>) {
    beast::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (ec) return "tcp";
    if (ep.address().is_v6()) {
      return "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
    }
    return ep.address().to_string() + ":" + std::to_string(ep.port());
  } else {
    (void)socket;
    return "unix";
  }
}

class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  // Both post to the session's I/O thread; callable from any thread.
  virtual void Drain() = 0;
  virtual void ForceClose() = 0;
  // On the I/O thread, for the response the session has prepared
  // (PendingResponses): send it, or send `error` instead.
  virtual void SendPrepared() = 0;
  virtual void ReplacePrepared(HttpResponse error) = 0;
};

// The responses an I/O thread has prepared and not sent yet. They go out
// together once the thread has run the handlers that were ready, after one
// Handler::Flush() (group commit: one write of RocksDB's log for every
// write they acknowledge, as Redis writes its AOF once per pass of its event
// loop). When Flush fails, each of those requests is answered with the
// error instead (507 for a full disk, else 500): never acknowledge a write
// that is not in the log. Its outcome is unknown then: RocksDB holds it in
// memory and may still write it when it recovers.
class PendingResponses {
 public:
  // On the session's I/O thread (each runs one io_context).
  static void Add(std::shared_ptr<SessionBase> session, const net::any_io_executor& executor,
                  Handler* handler) {
    thread_local PendingResponses pending;
    pending.sessions_.push_back(std::move(session));
    if (pending.scheduled_) return;
    pending.scheduled_ = true;
    net::post(executor, [p = &pending, handler] { p->SendAll(handler); });
  }

 private:
  void SendAll(Handler* handler) {
    scheduled_ = false;
    std::vector<std::shared_ptr<SessionBase>> batch;
    batch.swap(sessions_);
    Status flushed = handler->Flush();
    if (!flushed.ok()) {
      logging::Error("answering " + std::to_string(batch.size()) +
                     " request(s) with an error: " + flushed.message());
    }
    for (auto& session : batch) {
      if (flushed.ok()) {
        session->SendPrepared();
        continue;
      }
      const bool full = flushed.code() == Status::Code::kNoSpace;
      session->ReplacePrepared(ServerError(
          full ? 507 : 500, full ? "INSUFFICIENT_STORAGE" : "INTERNAL_ERROR",
          flushed.message() + "; whether this request took effect is unknown"));
    }
    if (sessions_.empty() && sessions_.capacity() < batch.capacity()) {
      batch.clear();
      sessions_.swap(batch);  // keep the larger buffer
    }
  }

  std::vector<std::shared_ptr<SessionBase>> sessions_;
  bool scheduled_ = false;
};

// What the server's parts share. Sessions and listeners hold it by
// shared_ptr, so it outlives every one of them.
struct State {
  ServerOptions options;
  Handler* handler = nullptr;
  Metrics* metrics = nullptr;
  std::atomic<bool> draining{false};
  std::atomic<int> rejecting{0};

  std::mutex mu;
  std::condition_variable cv;  // signalled when a session or producer ends
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;  // guarded by mu
  size_t producers = 0;                                                   // guarded by mu
  size_t deferred = 0;  // HttpResponse::deferred calls running; guarded by mu

  // Counts the session in, unless the cap is reached.
  bool Register(const std::shared_ptr<SessionBase>& session) {
    std::lock_guard<std::mutex> lock(mu);
    if (sessions.size() >= options.max_connections) return false;
    sessions.emplace(session.get(), session);
    return true;
  }
  void Unregister(SessionBase* session) {
    {
      std::lock_guard<std::mutex> lock(mu);
      sessions.erase(session);
    }
    cv.notify_all();
  }
  std::vector<std::weak_ptr<SessionBase>> Snapshot() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::weak_ptr<SessionBase>> out;
    out.reserve(sessions.size());
    for (auto& [ptr, weak] : sessions) out.push_back(weak);
    return out;
  }
};

template <class Stream>
class Session : public SessionBase {
 public:
  Session(std::shared_ptr<State> state, Stream stream, Transport transport, std::string remote)
      : state_(std::move(state)),
        stream_(std::move(stream)),
        executor_(stream_.get_executor()),
        transport_(transport),
        remote_(std::move(remote)) {
    request_.transport = transport_;
    request_.remote = remote_;
  }

  ~Session() override {
    if (registered_) {
      state_->Unregister(this);
      if (state_->metrics) state_->metrics->ConnectionClosed();
    }
    if (rejecting_) state_->rejecting.fetch_sub(1);
  }

  // REQUIRES: State::Register(this) returned true. Starts serving.
  void Start() {
    registered_ = true;
    if (state_->metrics) state_->metrics->ConnectionOpened();
    net::dispatch(executor_, [self = Self()] { self->ReadRequest(); });
  }

  // Answers 503 (over the connection cap) and closes.
  void Reject() {
    if (state_->metrics) state_->metrics->ConnectionRejected();
    if (state_->rejecting.fetch_add(1) >= kMaxRejecting) {
      state_->rejecting.fetch_sub(1);
      net::dispatch(executor_, [self = Self()] { self->Close(); });
      return;
    }
    rejecting_ = true;
    net::dispatch(executor_, [self = Self()] {
      self->WriteResponse(ServerError(503, "UNAVAILABLE", "kvd has too many open connections"),
                          /*keep_alive=*/false);
    });
  }

  void Drain() override {
    net::post(executor_, [self = Self()] { self->OnDrain(); });
  }

  void ForceClose() override {
    net::post(executor_, [self = Self()] {
      self->MarkStreamClosed();
      self->Close();
    });
  }

  // The StreamWriter handed to a stream producer (runs on its thread).
  class Writer : public StreamWriter {
   public:
    explicit Writer(Session* session) : session_(session) {}
    bool Write(std::string_view chunk) override { return session_->StreamWrite(chunk); }
    bool Closed() const override { return session_->StreamClosed(); }
    void SetOnClosed(std::function<void()> on_closed) override {
      std::lock_guard<std::mutex> lock(session_->stream_mu_);
      session_->on_stream_closed_ = std::move(on_closed);
    }

   private:
    Session* session_;
  };

 private:
  enum class Phase { kIdle, kReading, kHandling, kWriting, kStreaming, kClosing };

  std::shared_ptr<Session> Self() {
    return std::static_pointer_cast<Session>(shared_from_this());
  }

  std::chrono::milliseconds Ms(int64_t ms) const { return std::chrono::milliseconds(ms); }

  // ---- reading a request ---------------------------------------------------

  void ReadRequest() {
    if (draining_ || state_->draining.load()) return Close();
    ResetRequest();
    parser_.emplace(&request_, &verb_, &version_);
    parser_->header_limit(static_cast<std::uint32_t>(state_->options.max_header_bytes));
    // The body limit is set once the headers are in (see OnHeader).
    parser_->body_limit(boost::none);
    deadline_set_ = false;
    start_ = Clock::time_point();
    if (buffer_.size() > 0) return ReadHeader();
    // Idle: wait for the first byte of the next request.
    phase_ = Phase::kIdle;
    stream_.expires_after(Ms(state_->options.idle_timeout_ms));
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = Self()](beast::error_code ec, size_t n) {
                              self->OnFirstBytes(ec, n);
                            });
  }

  void OnFirstBytes(beast::error_code ec, size_t n) {
    if (ec) {
      if (ec == beast::error::timeout) logging::Debug("closing idle connection from " + remote_);
      return Close();
    }
    buffer_.commit(n);
    ReadHeader();
  }

  // Parses what is already buffered, up to the end of the headers
  // (header_only) or of the message. Most requests arrive whole in the first
  // read, so this saves a trip through the I/O loop per request.
  void ParseBuffered(bool header_only, beast::error_code& ec) {
    while (buffer_.size() > 0 &&
           !(header_only ? parser_->is_header_done() : parser_->is_done())) {
      size_t n = parser_->put(buffer_.data(), ec);
      buffer_.consume(n);
      if (ec == http::error::need_more) {
        ec = {};
        return;
      }
      if (ec || n == 0) return;
    }
  }

  // One deadline for the whole request, from its first byte.
  void ArmReadDeadline() {
    if (deadline_set_) return;
    deadline_set_ = true;
    stream_.expires_after(Ms(state_->options.read_timeout_ms));
  }

  void ReadHeader() {
    phase_ = Phase::kReading;
    beast::error_code ec;
    ParseBuffered(/*header_only=*/true, ec);
    if (ec) return OnReadError(ec);
    if (parser_->is_header_done()) return OnHeader({});
    ArmReadDeadline();
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = Self()](beast::error_code rec, size_t) { self->OnHeader(rec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    start_ = Clock::now();
    is_head_ = verb_ == http::verb::head;
    keep_alive_ = parser_->keep_alive();
    if (!ParseTarget(request_.target, &request_)) {
      return SendError(400, "BAD_REQUEST", "malformed request target");
    }

    uint64_t limit = state_->options.max_body_bytes;
    bool handler_limit = false;
    if (!IsBuiltin(request_.path)) {
      try {
        if (auto l = state_->handler->BodyLimit(request_)) {
          limit = *l;
          handler_limit = true;
        }
      } catch (...) {
        logging::Error("request handler threw while checking the body limit of " +
                       request_.method + " " + request_.raw_path);
        return SendError(500, "INTERNAL_ERROR", "internal error");
      }
    }
    limit_ = limit;
    limit_is_value_ = handler_limit;
    if (auto length = parser_->content_length(); length && *length > limit) {
      return SendTooLarge();
    }
    parser_->body_limit(limit);
    if (parser_->is_done()) return OnRequest();

    auto expect = request_.headers.Get("Expect");
    if (version_ >= 11 && expect && IEquals(*expect, "100-continue")) {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      ArmReadDeadline();
      net::async_write(stream_, net::buffer(kContinue, sizeof kContinue - 1),
                       [self = Self()](beast::error_code wec, size_t) {
                         if (wec) return self->Close();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    beast::error_code ec;
    ParseBuffered(/*header_only=*/false, ec);
    if (ec) return OnReadError(ec);
    if (parser_->is_done()) return OnRequest();
    ArmReadDeadline();
    http::async_read(stream_, buffer_, *parser_,
                     [self = Self()](beast::error_code rec, size_t) {
                       if (rec) return self->OnReadError(rec);
                       self->OnRequest();
                     });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      return SendError(431, "HEADERS_TOO_LARGE",
                       "request headers are larger than the limit of " +
                           std::to_string(state_->options.max_header_bytes) + " bytes");
    }
    if (ec == http::error::body_limit) return SendTooLarge();
    if (ec == beast::error::timeout) {
      logging::Info("read timeout: closing the connection from " + remote_);
      return Close();
    }
    if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return SendError(400, "BAD_REQUEST", "malformed HTTP request (" + ec.message() + ")");
    }
    Close();  // the client went away, or the server closed the socket
  }

  // ---- answering -----------------------------------------------------------

  static bool IsBuiltin(const std::string& path) { return path == "/healthz" || path == "/metrics"; }

  HttpResponse Dispatch() {
    if (request_.path == "/healthz" || request_.path == "/metrics") {
      bool healthz = request_.path == "/healthz";
      if (request_.method != "GET" && request_.method != "HEAD") {
        HttpResponse r = ServerError(405, "METHOD_NOT_ALLOWED",
                                     "method " + request_.method + " is not allowed here");
        r.headers.Set("Allow", "GET, HEAD");
        r.route = request_.path;
        return r;
      }
      HttpResponse r;
      r.route = request_.path;
      if (healthz) {
        r.headers.Set("Content-Type", "application/json");
        r.body = "{\"status\":\"ok\"}";
      } else {
        r.headers.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        r.body = state_->metrics ? state_->metrics->Render() : std::string();
      }
      return r;
    }
    try {
      return state_->handler->Handle(request_);
    } catch (...) {
      // Never log the exception's text: it may quote a value.
      logging::Error("request handler threw on " + request_.method + " " + request_.raw_path);
      return ServerError(500, "INTERNAL_ERROR", "internal error");
    }
  }

  void OnRequest() {
    phase_ = Phase::kHandling;
    HttpResponse response = Dispatch();
    ReleaseLargeBody();
    if (response.deferred) return StartDeferred(std::move(response.deferred));
    Respond(std::move(response));
  }

  void Respond(HttpResponse response) {
    Record(response);
    bool keep_alive = keep_alive_ && !draining_ && !state_->draining.load();
    if (response.stream && !is_head_) return StartStream(std::move(response));
    WriteResponse(std::move(response), keep_alive);
  }

  // Runs `work` on a thread of its own; its response comes back to this
  // connection's I/O thread, which serves its other connections meanwhile.
  // The session stays in kHandling: a drain lets it finish.
  void StartDeferred(std::function<HttpResponse()> work) {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      ++state_->deferred;
    }
    try {
      std::thread(&Session::RunDeferred, Self(), state_, std::move(work),
                  request_.method + " " + request_.raw_path)
          .detach();
    } catch (...) {
      logging::Error("cannot start a thread for " + request_.method + " " + request_.raw_path);
      {
        std::lock_guard<std::mutex> lock(state_->mu);
        --state_->deferred;
      }
      state_->cv.notify_all();
      Respond(ServerError(503, "UNAVAILABLE", "kvd cannot start a thread for this request"));
    }
  }

  // On the deferred work's own thread.
  static void RunDeferred(std::shared_ptr<Session> self, std::shared_ptr<State> state,
                          std::function<HttpResponse()> work, std::string what) {
    HttpResponse response;
    try {
      response = work();
    } catch (...) {
      logging::Error("request handler threw on " + what);
      response = ServerError(500, "INTERNAL_ERROR", "internal error");
    }
    response.deferred = nullptr;
    work = nullptr;  // drop what it captured before the server may go
    net::post(self->executor_,
              [s = self, r = std::move(response)]() mutable { s->Respond(std::move(r)); });
    self.reset();
    {
      std::lock_guard<std::mutex> lock(state->mu);
      --state->deferred;
    }
    state->cv.notify_all();
  }

  void Record(const HttpResponse& response) {
    auto latency = Clock::now() - start_;
    if (state_->metrics) state_->metrics->RecordRequest(response.route, response.status, latency);
    if (logging::Enabled(LogLevel::kDebug)) {
      logging::Debug(request_.method + " " + request_.raw_path + " " +
                     std::to_string(response.status) + " " +
                     std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(latency)
                                        .count()) +
                     "us " + remote_);
    }
  }

  // A response the server makes itself; the connection closes after it.
  void SendError(int status, std::string_view code, std::string message) {
    if (start_ == Clock::time_point()) start_ = Clock::now();
    logging::Info(std::to_string(status) + " for " +
                  (request_.method.empty() ? std::string("a request")
                                           : request_.method + " " + request_.raw_path) +
                  " from " + remote_ + ": " + message);
    HttpResponse response = ServerError(status, code, message);
    Record(response);
    WriteResponse(std::move(response), /*keep_alive=*/false);
  }

  void SendTooLarge() {
    SendError(413, "OBJECT_TOO_LARGE",
              std::string(limit_is_value_ ? "value" : "request body") +
                  " is larger than the limit of " + std::to_string(limit_) + " bytes");
  }

  template <class Message>
  void CopyHeaders(const HttpResponse& response, Message& msg, bool keep_content_length) {
    for (const auto& [name, value] : response.headers.fields()) {
      if (IEquals(name, "Connection") || IEquals(name, "Transfer-Encoding")) continue;
      if (IEquals(name, "Content-Length") && !keep_content_length) continue;
      msg.insert(beast::string_view(name.data(), name.size()),
                 beast::string_view(value.data(), value.size()));
    }
  }

  // Prepares the response and queues it: it goes out with the others of
  // this pass of the event loop, after the handler's Flush().
  void WriteResponse(HttpResponse response, bool keep_alive) {
    Prepare(std::move(response), keep_alive);
    // Nothing unflushed now: nothing this response shows can be (a read
    // saw only what was written before this check).
    if (!state_->handler->FlushNeeded()) return SendPrepared();
    PendingResponses::Add(Self(), executor_, state_->handler);
  }

  // Serializes the status line and the header straight into head_ (what
  // Beast's serializer would write for the same message, fields in the same
  // order); SendPrepared() writes head and body with one gather write.
  void Prepare(HttpResponse response, bool keep_alive) {
    phase_ = Phase::kWriting;
    int status = response.status;
    if (status < 100 || status > 999) status = 500;
    const bool http10 = version_ == 10;
    const bool bodiless_status = status < 200 || status == 204 || status == 304;
    const bool empty_body = is_head_ || bodiless_status;
    head_.clear();
    head_.append(http10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    AppendUint(&head_, static_cast<uint64_t>(status));
    head_.push_back(' ');
    beast::string_view reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)));
    head_.append(reason.data(), reason.size()).append("\r\n");
    bool handler_length = false;
    for (const auto& [name, value] : response.headers.fields()) {
      if (IEquals(name, "Connection") || IEquals(name, "Transfer-Encoding")) continue;
      if (IEquals(name, "Content-Length")) {
        handler_length = true;
        if (!(empty_body && is_head_)) continue;
      }
      AppendField(&head_, name, TrimOws(value));
    }
    // Beast's keep_alive(): HTTP/1.1 says "close", HTTP/1.0 says "keep-alive".
    const char* connection = nullptr;
    if (!http10 && !keep_alive) connection = "close";
    if (http10 && keep_alive) connection = "keep-alive";
    if (empty_body) {
      if (is_head_ && !bodiless_status && !handler_length) {
        head_.append("Content-Length: ");
        AppendUint(&head_, response.body.size());
        head_.append("\r\n");
      }
      if (connection) AppendField(&head_, "Connection", connection);
      body_.clear();
    } else {
      if (connection) AppendField(&head_, "Connection", connection);
      head_.append("Content-Length: ");
      AppendUint(&head_, response.body.size());
      head_.append("\r\n");
      body_ = std::move(response.body);
    }
    head_.append("\r\n");
    prepared_keep_alive_ = keep_alive;
  }

  void SendPrepared() override {
    std::array<net::const_buffer, 2> buffers = {net::buffer(head_), net::buffer(body_)};
    stream_.expires_after(Ms(state_->options.write_timeout_ms));
    net::async_write(stream_, buffers,
                     [self = Self(), keep_alive = prepared_keep_alive_](beast::error_code ec,
                                                                        size_t) {
                       if (ec) return self->Close();
                       self->ReleaseLargeBody();
                       if (!keep_alive) return self->LingeringClose();
                       self->ReadRequest();
                     });
  }

  void ReplacePrepared(HttpResponse error) override {
    Prepare(std::move(error), prepared_keep_alive_);
    SendPrepared();
  }

  // Empties the request for the next one, keeping the small buffers.
  void ResetRequest() {
    request_.method.clear();
    request_.target.clear();
    request_.path.clear();
    request_.raw_path.clear();
    request_.query.clear();
    request_.headers.Clear();
    request_.body.clear();
    verb_ = http::verb::unknown;
    version_ = 11;
  }

  // Large bodies are not kept around between requests.
  void ReleaseLargeBody() {
    constexpr size_t kKeep = 64 << 10;
    if (request_.body.capacity() > kKeep) std::string().swap(request_.body);
    if (body_.capacity() > kKeep) std::string().swap(body_);
  }

  // ---- closing -------------------------------------------------------------

  void Close() {
    phase_ = Phase::kClosing;
    beast::error_code ec;
    stream_.socket().shutdown(net::socket_base::shutdown_both, ec);
    stream_.close();
  }

  // Stop sending, then read and drop what the client still sends (briefly),
  // so that closing does not reset the connection under the response.
  void LingeringClose() {
    phase_ = Phase::kClosing;
    beast::error_code ec;
    stream_.socket().shutdown(net::socket_base::shutdown_send, ec);
    if (ec) return Close();
    linger_left_ = kLingerBytes;
    stream_.expires_after(kLingerTime);
    Discard();
  }

  void Discard() {
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = Self()](beast::error_code ec, size_t n) {
                              if (ec || n >= self->linger_left_) return self->Close();
                              self->linger_left_ -= n;
                              self->Discard();
                            });
  }

  void OnDrain() {
    draining_ = true;
    switch (phase_) {
      case Phase::kIdle:
        Close();  // aborts the read waiting for a next request
        break;
      case Phase::kStreaming:
        MarkStreamClosed();  // the producer returns, then the stream ends
        break;
      default:
        break;  // a request in flight finishes; its response closes the connection
    }
  }

  // ---- streaming -----------------------------------------------------------

  void StartStream(HttpResponse response) {
    phase_ = Phase::kWriting;
    stream_response_.emplace();
    stream_response_->version(11);
    int status = response.status < 200 || response.status > 999 ? 500 : response.status;
    stream_response_->result(static_cast<unsigned>(status));
    CopyHeaders(response, *stream_response_, false);
    stream_response_->keep_alive(false);
    stream_response_->chunked(true);
    stream_serializer_.emplace(*stream_response_);
    producer_ = std::move(response.stream);
    stream_.expires_after(Ms(state_->options.write_timeout_ms));
    http::async_write_header(stream_, *stream_serializer_,
                             [self = Self()](beast::error_code ec, size_t) {
                               self->OnStreamHeader(ec);
                             });
  }

  void OnStreamHeader(beast::error_code ec) {
    if (ec) return Close();
    phase_ = Phase::kStreaming;
    if (draining_) stream_closed_ = true;
    stream_.expires_never();
    ArmStreamRead();
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      ++state_->producers;
    }
    try {
      std::thread(&Session::RunProducer, Self(), state_, std::move(producer_)).detach();
    } catch (...) {
      logging::Error("cannot start a thread for a streaming response");
      {
        std::lock_guard<std::mutex> lock(state_->mu);
        --state_->producers;
      }
      state_->cv.notify_all();
      MarkStreamClosed();
      finish_requested_ = true;
      DoFinish();
    }
  }

  // On the producer's own thread.
  static void RunProducer(std::shared_ptr<Session> self, std::shared_ptr<State> state,
                          std::function<void(StreamWriter&)> producer) {
    {
      Writer writer(self.get());
      try {
        producer(writer);
      } catch (...) {
        logging::Error("streaming response producer threw an exception");
      }
      producer = nullptr;  // drop what it captured before the server may go
      std::lock_guard<std::mutex> lock(self->stream_mu_);
      self->on_stream_closed_ = nullptr;
    }
    net::post(self->executor_, [s = self] { s->OnProducerDone(); });
    self.reset();
    {
      std::lock_guard<std::mutex> lock(state->mu);
      --state->producers;
    }
    state->cv.notify_all();
  }

  // Keeps a read pending while streaming, to notice the client going away.
  void ArmStreamRead() {
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = Self()](beast::error_code ec, size_t) {
                              if (ec) return self->MarkStreamClosed();
                              self->ArmStreamRead();  // drop what a client sends mid-stream
                            });
  }

  void MarkStreamClosed() {
    std::function<void()> on_closed;
    {
      std::lock_guard<std::mutex> lock(stream_mu_);
      stream_closed_ = true;
      on_closed = on_stream_closed_;
    }
    stream_cv_.notify_all();
    if (on_closed) on_closed();  // wakes a producer waiting for something to send
  }

  bool StreamClosed() const { return stream_closed_.load() || state_->draining.load(); }

  // Producer thread: hands the chunk to the I/O thread and waits until it is written.
  bool StreamWrite(std::string_view chunk) {
    if (chunk.empty()) return !StreamClosed();
    std::unique_lock<std::mutex> lock(stream_mu_);
    if (stream_closed_ || state_->draining.load()) return false;
    static const char kHex[] = "0123456789abcdef";
    char size[20];
    int len = 0;
    for (size_t n = chunk.size(); n > 0; n >>= 4) size[len++] = kHex[n & 15];
    out_.clear();
    while (len > 0) out_.push_back(size[--len]);
    out_.append("\r\n").append(chunk).append("\r\n");
    write_busy_ = true;
    net::post(executor_, [self = Self()] { self->WriteChunk(); });
    stream_cv_.wait(lock, [&] { return !write_busy_ || stream_closed_; });
    return !stream_closed_;
  }

  void WriteChunk() {
    if (finish_done_) {
      {
        std::lock_guard<std::mutex> lock(stream_mu_);
        write_busy_ = false;
        stream_closed_ = true;
      }
      stream_cv_.notify_all();
      return;
    }
    stream_.expires_after(Ms(state_->options.write_timeout_ms));  // the read has no deadline
    net::async_write(stream_, net::buffer(out_), [self = Self()](beast::error_code ec, size_t) {
      self->OnChunkWritten(ec);
    });
  }

  void OnChunkWritten(beast::error_code ec) {
    {
      std::lock_guard<std::mutex> lock(stream_mu_);
      write_busy_ = false;
      if (ec) {
        stream_closed_ = true;
        write_failed_ = true;
      }
    }
    stream_cv_.notify_all();
    if (finish_requested_) DoFinish();
  }

  void OnProducerDone() {
    finish_requested_ = true;
    bool busy;
    {
      std::lock_guard<std::mutex> lock(stream_mu_);
      busy = write_busy_;
    }
    if (!busy) DoFinish();  // else OnChunkWritten finishes
  }

  // Ends the chunked body and closes the connection.
  void DoFinish() {
    if (finish_done_) return;
    finish_done_ = true;
    if (write_failed_ || !stream_.socket().is_open()) return Close();
    static constexpr char kLastChunk[] = "0\r\n\r\n";
    stream_.expires_after(Ms(state_->options.write_timeout_ms));
    net::async_write(stream_, net::buffer(kLastChunk, sizeof kLastChunk - 1),
                     [self = Self()](beast::error_code, size_t) { self->Close(); });
  }

  std::shared_ptr<State> state_;
  Stream stream_;
  net::any_io_executor executor_;  // the connection's io_context (one thread)
  const Transport transport_;
  const std::string remote_;

  // I/O thread only.
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  HttpRequest request_;  // reused from one request to the next
  http::verb verb_ = http::verb::unknown;
  std::string head_;  // the response's status line and header
  std::string body_;  // the response's body while it is written
  bool prepared_keep_alive_ = false;  // of the response in head_ and body_
  Phase phase_ = Phase::kIdle;
  bool registered_ = false;
  bool rejecting_ = false;
  bool draining_ = false;
  bool is_head_ = false;
  bool keep_alive_ = false;
  unsigned version_ = 11;  // of the request being answered
  uint64_t limit_ = 0;
  bool limit_is_value_ = false;
  size_t linger_left_ = 0;
  bool deadline_set_ = false;
  Clock::time_point start_;
  std::optional<http::response<http::empty_body>> stream_response_;
  std::optional<http::response_serializer<http::empty_body>> stream_serializer_;
  std::function<void(StreamWriter&)> producer_;
  bool finish_requested_ = false;
  bool finish_done_ = false;
  bool write_failed_ = false;  // set under stream_mu_, read on the I/O thread

  // Shared between the I/O thread and the producer thread.
  std::mutex stream_mu_;
  std::condition_variable stream_cv_;
  std::atomic<bool> stream_closed_{false};
  bool write_busy_ = false;  // guarded by stream_mu_
  std::function<void()> on_stream_closed_;  // StreamWriter::SetOnClosed; guarded by stream_mu_
  std::string out_;          // the chunk being written; touched only while !write_busy_ by the producer
};

// The I/O threads: one io_context per thread, each connection on one of them
// (round robin), so a connection's handlers never run concurrently and the
// threads do not wake each other for every request.
struct IoPool {
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::atomic<size_t> next{0};

  explicit IoPool(int threads) {
    for (int i = 0; i < std::max(1, threads); ++i) {
      contexts.push_back(std::make_unique<net::io_context>(1));
    }
  }
  net::io_context& Next() { return *contexts[next.fetch_add(1) % contexts.size()]; }
};

class ListenerBase {
 public:
  virtual ~ListenerBase() = default;
  virtual void Start() = 0;
  virtual void Close() = 0;  // thread-safe
};

template <class Protocol, class Stream>
class Listener : public ListenerBase,
                 public std::enable_shared_from_this<Listener<Protocol, Stream>> {
 public:
  using Acceptor = typename Protocol::acceptor;
  using Socket = typename Protocol::socket;

  Listener(IoPool& pool, Acceptor acceptor, std::shared_ptr<State> state, Transport transport,
           std::string name)
      : pool_(pool),
        acceptor_(std::move(acceptor)),
        timer_(acceptor_.get_executor()),
        state_(std::move(state)),
        transport_(transport),
        name_(std::move(name)) {}

  void Start() override {
    net::dispatch(acceptor_.get_executor(), [self = this->shared_from_this()] { self->Accept(); });
  }

  void Close() override {
    net::post(acceptor_.get_executor(), [self = this->shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
      self->timer_.cancel();
    });
  }

 private:
  void Accept() {
    if (!acceptor_.is_open()) return;
    acceptor_.async_accept(pool_.Next(),
                           [self = this->shared_from_this()](beast::error_code ec, Socket socket) {
                             self->OnAccept(ec, std::move(socket));
                           });
  }

  void OnAccept(beast::error_code ec, Socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      // E.g. EMFILE: log, and try again a little later rather than spin.
      logging::Warn("accept on " + name_ + " failed: " + ec.message());
      timer_.expires_after(kAcceptRetry);
      timer_.async_wait([self = this->shared_from_this()](beast::error_code tec) {
        if (!tec) self->Accept();
      });
      return;
    }
    if (state_->draining.load()) return;  // the socket closes as it goes
    if constexpr (std::is_same_v<Protocol, tcp>) {
      beast::error_code oec;
      socket.set_option(tcp::no_delay(true), oec);
    }
    std::string remote = RemoteName<Protocol>(socket);
    auto session = std::make_shared<Session<Stream>>(state_, Stream(std::move(socket)),
                                                     transport_, std::move(remote));
    if (state_->Register(session)) {
      session->Start();
    } else {
      logging::Warn("connection cap of " + std::to_string(state_->options.max_connections) +
                    " reached: refusing a connection on " + name_);
      session->Reject();
    }
    Accept();
  }

  IoPool& pool_;
  Acceptor acceptor_;
  net::steady_timer timer_;
  std::shared_ptr<State> state_;
  const Transport transport_;
  const std::string name_;
};

// The one place both stream types are compiled.
template class Session<TcpStream>;
template class Session<UnixStream>;
template class Listener<tcp, TcpStream>;
template class Listener<UnixProtocol, UnixStream>;

// ---- Unix socket files -----------------------------------------------------

// Creates the missing directories of `dir` with mode 0700.
Status MakePrivateDirs(const std::filesystem::path& dir) {
  if (dir.empty()) return Status::Ok();
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Status::IOError(dir.string() + " is not a directory");
    return Status::Ok();
  }
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    Status s = MakePrivateDirs(dir.parent_path());
    if (!s.ok()) return s;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::IOError("cannot create directory " + dir.string() + ": " + std::strerror(errno));
  }
  ::chmod(dir.c_str(), 0700);  // whatever the umask
  return Status::Ok();
}

// Refuses a socket directory in which another user could replace the socket
// with their own (and so receive what kv sends to kvd): one owned by another
// user than kvd's or root, or writable by others without the sticky bit
// (/tmp is fine: there only a file's owner may remove it).
Status CheckSocketDir(const std::filesystem::path& dir) {
  struct stat st;
  if (::stat(dir.empty() ? "." : dir.c_str(), &st) != 0) {
    return Status::IOError("cannot stat " + dir.string() + ": " + std::strerror(errno));
  }
  if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    return Status::IOError(
        "the socket's directory " + dir.string() + " belongs to uid " + std::to_string(st.st_uid) +
        ", who could replace kvd's socket: use a directory of your own (--socket)");
  }
  if ((st.st_mode & S_IWOTH) != 0 && (st.st_mode & S_ISVTX) == 0) {
    return Status::IOError(
        "the socket's directory " + dir.string() +
        " is writable by every user, who could replace kvd's socket: use a directory of your "
        "own (--socket)");
  }
  return Status::Ok();
}

// Leaves `path` free to bind: removes a socket nobody listens on, refuses a
// live one and anything that is not a socket.
Status ClaimSocketPath(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::IOError("cannot stat " + path + ": " + std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Status::InvalidArgument(path + " exists and is not a socket");
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  ::close(fd);
  if (rc == 0 || err == EAGAIN || err == EINPROGRESS) {
    return Status::Unavailable("another kvd is already listening on " + path);
  }
  if (err != ECONNREFUSED && err != ENOENT) {
    return Status::IOError("cannot check socket " + path + ": " + std::strerror(err));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::IOError("cannot remove stale socket " + path + ": " + std::strerror(errno));
  }
  logging::Info("removed stale socket " + path);
  return Status::Ok();
}

}  // namespace server_internal

using namespace server_internal;

// ---- addresses -------------------------------------------------------------

Result<TcpAddress> ParseTcpAddress(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("bad listen address \"" + std::string(text) + "\": " + why);
  };
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("expected [IPv6]:PORT");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("expected HOST:PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("write an IPv6 address as [ADDR]:PORT");
  }
  if (host.empty()) return bad("missing host");
  if (port.empty() || port.size() > 5) return bad("expected a port number 0-65535");
  uint32_t p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return bad("expected a port number 0-65535");
    p = p * 10 + static_cast<uint32_t>(c - '0');
  }
  if (p > 65535) return bad("expected a port number 0-65535");

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string host_str(host);
  int rc = ::getaddrinfo(host_str.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr) return bad(std::string("cannot resolve host: ") + gai_strerror(rc));
  TcpAddress out;
  out.port = static_cast<uint16_t>(p);
  char buf[INET6_ADDRSTRLEN] = {0};
  if (res->ai_family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(res->ai_addr);
    ::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
    out.loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(res->ai_addr);
    ::inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
    out.loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
                   (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && sin6->sin6_addr.s6_addr[12] == 127);
  }
  ::freeaddrinfo(res);
  out.ip = buf;
  return out;
}

// ---- Server ----------------------------------------------------------------

class Server::Impl {
 public:
  explicit Impl(ServerOptions options)
      : state_(std::make_shared<State>()), pool_(options.io_threads) {
    state_->options = std::move(options);
  }

  ~Impl() { (void)Shutdown(); }

  // An inherited socket: served as it is, its file left to whoever made it.
  Status AdoptUnix() {
    UnixProtocol::acceptor acceptor(*pool_.contexts[0]);
    beast::error_code ec;
    acceptor.assign(UnixProtocol(), state_->options.unix_socket_fd, ec);
    if (ec) return Status::IOError("cannot use the inherited socket: " + ec.message());
    listeners_.push_back(std::make_shared<Listener<UnixProtocol, UnixStream>>(
        pool_, std::move(acceptor), state_, Transport::kUnixSocket,
        "unix " + state_->options.unix_socket));
    return Status::Ok();
  }

  Status AdoptTcp() {
    tcp::acceptor acceptor(*pool_.contexts[0]);
    beast::error_code ec;
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    ::getsockname(state_->options.tcp_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    acceptor.assign(addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), state_->options.tcp_fd, ec);
    if (ec) return Status::IOError("cannot use the inherited TCP socket: " + ec.message());
    auto local = acceptor.local_endpoint(ec);
    if (ec) return Status::IOError("cannot use the inherited TCP socket: " + ec.message());
    tcp_port_ = local.port();
    tcp_endpoint_ = local.address().is_v6()
                        ? "[" + local.address().to_string() + "]:" + std::to_string(tcp_port_)
                        : local.address().to_string() + ":" + std::to_string(tcp_port_);
    listeners_.push_back(std::make_shared<Listener<tcp, TcpStream>>(
        pool_, std::move(acceptor), state_, Transport::kTcp, "tcp " + tcp_endpoint_));
    return Status::Ok();
  }

  Status BindUnix() {
    if (state_->options.unix_socket_fd >= 0) return AdoptUnix();
    const std::string& path = state_->options.unix_socket;
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
      return Status::InvalidArgument("socket path is too long (" + std::to_string(path.size()) +
                                     " bytes, at most " +
                                     std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                                     "): " + path);
    }
    Status s = MakePrivateDirs(std::filesystem::path(path).parent_path());
    if (!s.ok()) return s;
    s = CheckSocketDir(std::filesystem::path(path).parent_path());
    if (!s.ok()) return s;
    s = ClaimSocketPath(path);
    if (!s.ok()) return s;
    UnixProtocol::acceptor acceptor(*pool_.contexts[0]);
    beast::error_code ec;
    acceptor.open(UnixProtocol(), ec);
    if (!ec) acceptor.bind(UnixProtocol::endpoint(path), ec);
    if (ec) return Status::IOError("cannot bind " + path + ": " + ec.message());
    if (::chmod(path.c_str(), 0600) != 0) {
      return Status::IOError("cannot chmod " + path + ": " + std::strerror(errno));
    }
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
      socket_dev_ = st.st_dev;
      socket_ino_ = st.st_ino;
    }
    socket_bound_ = true;
    acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return Status::IOError("cannot listen on " + path + ": " + ec.message());
    listeners_.push_back(std::make_shared<Listener<UnixProtocol, UnixStream>>(
        pool_, std::move(acceptor), state_, Transport::kUnixSocket, "unix " + path));
    return Status::Ok();
  }

  Status BindTcp() {
    if (state_->options.tcp_fd >= 0) return AdoptTcp();
    Result<TcpAddress> address = ParseTcpAddress(state_->options.tcp_listen);
    if (!address.ok()) return address.status();
    beast::error_code ec;
    auto ip = net::ip::make_address(address->ip, ec);
    if (ec) return Status::InvalidArgument("bad listen address " + address->ip);
    tcp::endpoint endpoint(ip, address->port);
    tcp::acceptor acceptor(*pool_.contexts[0]);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::IOError("cannot listen on tcp " + state_->options.tcp_listen + ": " +
                             ec.message());
    }
    auto local = acceptor.local_endpoint(ec);
    tcp_port_ = local.port();
    tcp_endpoint_ = ip.is_v6() ? "[" + ip.to_string() + "]:" + std::to_string(tcp_port_)
                               : ip.to_string() + ":" + std::to_string(tcp_port_);
    listeners_.push_back(std::make_shared<Listener<tcp, TcpStream>>(
        pool_, std::move(acceptor), state_, Transport::kTcp, "tcp " + tcp_endpoint_));
    return Status::Ok();
  }

  void Start(Handler& handler, Metrics* metrics) {
    state_->handler = &handler;
    state_->metrics = metrics;
    for (auto& ioc : pool_.contexts) work_.emplace_back(ioc->get_executor());
    for (auto& l : listeners_) l->Start();
    for (auto& ioc : pool_.contexts) {
      threads_.emplace_back([ctx = ioc.get()] {
        for (;;) {
          try {
            ctx->run();
            return;
          } catch (...) {
            logging::Error("an I/O thread caught an exception; going on");
          }
        }
      });
    }
    started_ = true;
  }

  Status Shutdown() {
    if (shut_down_) return Status::Ok();
    shut_down_ = true;
    Status result;
    if (started_) {
      state_->draining = true;
      for (auto& l : listeners_) l->Close();
      for (auto& weak : state_->Snapshot()) {
        if (auto s = weak.lock()) s->Drain();
      }
      auto all_done = [&] {
        return state_->sessions.empty() && state_->producers == 0 && state_->deferred == 0;
      };
      bool clean;
      {
        const auto drain = std::chrono::milliseconds(state_->options.drain_timeout_ms);
        std::unique_lock<std::mutex> lock(state_->mu);
        clean = state_->cv.wait_for(lock, drain, all_done);
        if (!clean && state_->deferred > 0) {
          // Deferred work (a backup) cannot be stopped halfway: let it end,
          // however long it takes, and its client have the answer.
          logging::Info("waiting for " + std::to_string(state_->deferred) +
                        " request(s) still running (a backup) before stopping");
          state_->cv.wait(lock, [&] { return state_->deferred == 0; });
          clean = state_->cv.wait_for(lock, drain, all_done);
        }
      }
      if (!clean) {
        size_t open;
        {
          std::lock_guard<std::mutex> lock(state_->mu);
          open = state_->sessions.size();
        }
        logging::Warn("drain deadline passed with " + std::to_string(open) +
                      " connection(s) open: closing them");
        for (auto& weak : state_->Snapshot()) {
          if (auto s = weak.lock()) s->ForceClose();
        }
        std::unique_lock<std::mutex> lock(state_->mu);
        state_->cv.wait_for(lock, std::chrono::seconds(1), all_done);
      }
      work_.clear();
      for (auto& ioc : pool_.contexts) ioc->stop();
      for (auto& t : threads_) t.join();
      threads_.clear();
      // Stream producers see Closed(); they must return before the handler goes.
      std::unique_lock<std::mutex> lock(state_->mu);
      if (!state_->cv.wait_for(lock, std::chrono::seconds(5),
                               [&] { return state_->producers == 0; })) {
        result = Status::Timeout("a streaming response did not stop");
        logging::Error("a streaming response did not stop within 5 s of shutdown");
      }
      // Deferred work started after the wait above uses the handler too.
      state_->cv.wait(lock, [&] { return state_->deferred == 0; });
    }
    RemoveSocketFile();
    return result;
  }

  void RemoveSocketFile() {
    if (!socket_bound_) return;
    socket_bound_ = false;
    const std::string& path = state_->options.unix_socket;
    struct stat st;
    // Only our own socket: a kvd started since may have replaced it.
    if (::lstat(path.c_str(), &st) == 0 && st.st_dev == socket_dev_ && st.st_ino == socket_ino_) {
      ::unlink(path.c_str());
    }
  }

  std::shared_ptr<State> state_;
  IoPool pool_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::shared_ptr<ListenerBase>> listeners_;
  std::vector<std::thread> threads_;
  bool started_ = false;
  bool shut_down_ = false;
  bool socket_bound_ = false;
  dev_t socket_dev_ = 0;
  ino_t socket_ino_ = 0;
  uint16_t tcp_port_ = 0;
  std::string tcp_endpoint_;
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  if (!impl_) return;
  (void)impl_->Shutdown();
  // Sessions still queued in the io_context go with it, before the state.
  impl_->listeners_.clear();
  impl_->pool_.contexts.clear();
}

Result<std::unique_ptr<Server>> Server::Bind(ServerOptions options) {
  if (options.unix_socket.empty() && options.tcp_listen.empty() && options.tcp_fd < 0) {
    return Status::InvalidArgument("no listener: give a Unix socket path or a TCP address");
  }
  auto impl = std::make_unique<Impl>(std::move(options));
  if (!impl->state_->options.unix_socket.empty()) {
    Status s = impl->BindUnix();
    if (!s.ok()) {
      impl->RemoveSocketFile();
      return s;
    }
  }
  if (!impl->state_->options.tcp_listen.empty() || impl->state_->options.tcp_fd >= 0) {
    Status s = impl->BindTcp();
    if (!s.ok()) {
      impl->RemoveSocketFile();
      return s;
    }
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

void Server::Start(Handler& handler, Metrics* metrics) { impl_->Start(handler, metrics); }

Status Server::Shutdown() { return impl_->Shutdown(); }

uint16_t Server::tcp_port() const { return impl_->tcp_port_; }

std::string Server::tcp_endpoint() const { return impl_->tcp_endpoint_; }

const std::string& Server::unix_socket() const { return impl_->state_->options.unix_socket; }

}  // namespace kv::daemon

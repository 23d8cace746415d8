// NOTE: <utility> before Asio: Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include "http/http.hpp"
#include "http/tls.hpp"

#include <boost/asio.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <type_traits>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace statgov::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string mime_for(const std::filesystem::path& p) {
  auto ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".woff") return "font/woff";
  if (ext == ".ttf") return "font/ttf";
  return "application/octet-stream";
}

std::optional<std::string> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

// Per-address token buckets. Guarded by mu; pruned when it grows large.
class RateLimiter {
 public:
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}
  bool allow(const std::string& addr) {
    if (rate_ <= 0) return true;
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    if (buckets_.size() > 100000) buckets_.clear();  // crude bound on memory under address spraying
    auto& b = buckets_[addr];
    if (b.last.time_since_epoch().count() == 0) b = {burst_, now};
    double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
    b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last{};
  };
  double rate_, burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

struct Server::Impl {
  const Router& router;
  ServerOptions opt;
  RateLimiter limiter{opt.rate_per_second, opt.rate_burst};
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  // Handlers run on this pool, never on the io threads: a handler may block for milliseconds (a
  // submit waits for its group commit), and an io thread that blocks stalls every connection it
  // would otherwise serve. The pool's queue is first in, first out, so under overload requests
  // wait their turn instead of some connections starving while others are served.
  std::unique_ptr<asio::thread_pool> handlers;
  std::filesystem::path static_root;
  std::unique_ptr<TlsContext> tls;  // set by start() when opt.tls is

  // The far end of one connection: its address and, over TLS, its client certificate.
  struct Peer {
    std::string remote;
    ClientCert cert = ClientCert::none;
    std::string cert_cn, cert_serial;
  };

  Impl(const Router& r, ServerOptions o) : router(r), opt(std::move(o)) {}

  Response serve_static(const Request& req) {
    if (req.method != "GET" && req.method != "HEAD") {
      return Response::error(405, "METHOD_NOT_ALLOWED", "不支持此请求方法", "Method not allowed");
    }
    std::filesystem::path rel = std::filesystem::path(req.path).relative_path().lexically_normal();
    // Reject anything that climbs out of the root ("..") and hidden files (.env, .git) before
    // touching the filesystem.
    bool hidden = false;
    for (const auto& part : rel) hidden = hidden || (!part.empty() && part.string()[0] == '.');
    if (hidden) {
      return Response::error(404, "NOT_FOUND", "请求的资源不存在", "No such resource");
    }
    std::filesystem::path file = static_root / rel;
    std::error_code ec;
    bool regular = !rel.empty() && std::filesystem::is_regular_file(file, ec);
    bool asset = rel.string().rfind("assets/", 0) == 0;
    if (!regular) {
      if (asset || rel.has_extension()) return Response::error(404, "NOT_FOUND", "请求的资源不存在", "No such resource");
      file = static_root / "index.html";  // single-page app: the client routes the path
    }
    auto body = read_file(file);
    if (!body) return Response::error(404, "NOT_FOUND", "请求的资源不存在", "No such resource");
    Response r;
    r.content_type = mime_for(file);
    r.body = std::move(*body);
    if (asset) r.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
    else r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  }

  // A synchronous handler, on the handler pool. NOTE: handlers return errors as values; an
  // exception here is a bug, logged and answered with 500 rather than taking the process down.
  static Response call(const Router::Route& route, Request& req) {
    try {
      return route.handler(req);
    } catch (const std::exception& e) {
      spdlog::error("handler threw on {} {}: {}", req.method, req.path, e.what());
      return Response::error(500, "INTERNAL", "服务器内部错误", "Internal server error");
    }
  }

  // An asynchronous handler; `respond` is called at most once even if the handler throws after
  // answering.
  static void call_async(const Router::Route& route, Request& req, const Respond& respond) {
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Respond once = [answered, respond](Response r) {
      if (!answered->exchange(true)) respond(std::move(r));
    };
    try {
      route.async(req, once);
    } catch (const std::exception& e) {
      spdlog::error("handler threw on {} {}: {}", req.method, req.path, e.what());
      once(Response::error(500, "INTERNAL", "服务器内部错误", "Internal server error"));
    }
  }

  // Answers a request through `respond`: at once on this io thread when the answer is known
  // (rate limit, no such route) or the route runs here; otherwise on the handler pool.
  void serve(Request& req, const Respond& respond) {
    if (!limiter.allow(req.remote_ip)) {
      auto r = Response::error(429, "RATE_LIMITED", "请求过于频繁，请稍后再试", "Too many requests; slow down");
      r.headers.emplace_back("Retry-After", "1");
      return respond(std::move(r));
    }
    bool api = req.path.rfind(opt.api_prefix, 0) == 0 || req.path == "/healthz";
    if (!api && !static_root.empty()) {
      asio::post(*handlers, [this, &req, respond] { respond(serve_static(req)); });
      return;
    }
    Response miss;
    const Router::Route* route = router.match(req, miss);
    if (!route) return respond(std::move(miss));
    if (route->async && route->run_on == RunOn::io_thread) return call_async(*route, req, respond);
    asio::post(*handlers, [&req, route, respond] {
      if (route->async) call_async(*route, req, respond);
      else respond(call(*route, req));
    });
  }

  // Requests answered later whose Respond still exists (see InFlight). wait() waits for them:
  // a writer thread may still be about to post an answer to the io_context.
  std::mutex in_flight_mu;
  std::condition_variable in_flight_cv;
  int in_flight = 0;  // guarded by in_flight_mu
  struct InFlight {
    explicit InFlight(Impl& i) : im(i) {
      std::lock_guard lock(im.in_flight_mu);
      ++im.in_flight;
    }
    ~InFlight() {
      std::lock_guard lock(im.in_flight_mu);
      if (--im.in_flight == 0) im.in_flight_cv.notify_all();
    }
    Impl& im;
  };

  // Serves the request and resumes the calling session on its own executor with the response.
  // `req` lives in the session's frame, which stays suspended until then. The answer may come
  // from an io thread, the handler pool or the store's writer thread.
  asio::awaitable<Response> dispatch(Request& req) {
    auto io = co_await asio::this_coro::executor;
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Response)>(
        [this, &req, io](auto done) {
          auto resume = std::make_shared<decltype(done)>(std::move(done));
          auto token = std::make_shared<InFlight>(*this);
          Respond respond = [io, resume, token](Response r) {
            asio::post(io, [resume, r = std::move(r)]() mutable { std::move(*resume)(std::move(r)); });
          };
          serve(req, respond);
        },
        asio::use_awaitable);
  }

  // Fills the request's client certificate fields from the connection. A certificate revoked
  // after the handshake is caught here, on the connection's next request.
  void set_client_cert(Request& req, const Peer& peer) {
    req.client_cert = peer.cert;
    req.client_cert_cn = peer.cert_cn;
    req.client_cert_serial = peer.cert_serial;
    if (req.client_cert == ClientCert::verified && tls->is_revoked(req.client_cert_serial)) {
      req.client_cert = ClientCert::revoked;
    }
  }

  // One connection: plain HTTP, or TLS when configured (then a plain HTTP request gets a clear
  // 400 before the connection closes, instead of a handshake error the client cannot read).
  asio::awaitable<void> accept(tcp::socket socket) {
    beast::tcp_stream plain(std::move(socket));
    Peer peer;
    {
      boost::system::error_code ec;
      auto ep = plain.socket().remote_endpoint(ec);
      if (!ec) peer.remote = ep.address().to_string();
    }
    if (!tls) {
      co_await session(plain, std::move(peer));
      co_return;
    }
    // NOTE: the handshake timeout covers detection and handshake together: a client that sends
    // nothing, or a byte at a time, loses its slot after it.
    plain.expires_after(tls->options().handshake_timeout);
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    bool is_tls = co_await beast::async_detect_ssl(plain, buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    if (!is_tls) {
      static const std::string body =
          Response::error(400, "TLS_REQUIRED", "此端口仅接受 HTTPS 连接，请使用 https://",
                          "This port speaks HTTPS only; use https://")
              .body;
      std::string head = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n"
                         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
      std::string out = head + body;
      co_await asio::async_write(plain, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
      plain.socket().shutdown(tcp::socket::shutdown_send, ec);
      // Read what the client still sends until it closes (bounded): closing with unread data
      // would send a reset that can destroy the answer before the client reads it.
      char sink[4096];
      while (!ec) {
        co_await plain.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
      }
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(plain), tls->context());
    PeerVerify verify;
    if (tls->wants_client_cert()) {
      tls->prepare(stream.native_handle());
      // Ask for a certificate but do not insist (no FAIL_IF_NO_PEER_CERT): enterprises log in
      // with passwords; the API decides who needs one.
      stream.set_verify_mode(asio::ssl::verify_peer);
      stream.set_verify_callback([&verify](bool preverified, asio::ssl::verify_context& vc) {
        return note_verification(preverified, vc.native_handle(), verify);
      });
    }
    std::size_t used = co_await stream.async_handshake(asio::ssl::stream_base::server, buffer.data(),
                                                       asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      spdlog::debug("TLS handshake with {} failed: {}", peer.remote, ec.message());
      co_return;
    }
    buffer.consume(used);
    read_peer_certificate(stream.native_handle(), verify, peer.cert, peer.cert_cn, peer.cert_serial);
    co_await session(stream, std::move(peer));
  }

  static asio::awaitable<void> close(beast::tcp_stream& stream) {
    boost::system::error_code ignore;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignore);
    co_return;
  }

  static asio::awaitable<void> close(beast::ssl_stream<beast::tcp_stream>& stream) {
    // close_notify, bounded: a client that never answers must not hold the coroutine.
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
    boost::system::error_code ignore;
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ignore));
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ignore);
  }

  template <typename Stream>
  asio::awaitable<void> session(Stream& stream, Peer peer) {
    beast::flat_buffer buffer;
    const std::string& remote = peer.remote;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(opt.max_body);
      parser.header_limit(64 * 1024);
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(60));
      boost::system::error_code ec;
      co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      Response resp;
      bool keep_alive = false;
      int version = 11;
      if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
          ec == asio::error::connection_reset) {
        break;
      }
      if (ec) {
        if (ec == bhttp::error::body_limit) {
          resp = Response::error(413, "TOO_LARGE", "请求内容过大", "Request body too large");
        } else {
          resp = Response::error(400, "BAD_HTTP", "HTTP 请求格式错误", "Malformed HTTP request");
        }
      } else {
        auto& msg = parser.get();
        version = msg.version();
        keep_alive = msg.keep_alive();
        Request req;
        req.method = std::string(msg.method_string());
        req.target = std::string(msg.target());
        auto q = req.target.find('?');
        req.path = url_decode(std::string_view(req.target).substr(0, q), false);
        if (q != std::string::npos) req.query = parse_query(std::string_view(req.target).substr(q + 1));
        for (const auto& f : msg) req.headers[std::string(f.name_string())] = std::string(f.value());
        req.body = std::move(msg.body());
        req.remote_ip = remote;
        if (!opt.trusted_proxies.empty()) {  // serve --trusted-proxy (http/forwarded.hpp)
          std::vector<std::string_view> xff;
          for (auto [f, end] = msg.equal_range("X-Forwarded-For"); f != end; ++f) xff.emplace_back(f->value().data(), f->value().size());
          req.remote_ip = opt.trusted_proxies.client_address(remote, xff);
        }
        set_client_cert(req, peer);
        auto t0 = std::chrono::steady_clock::now();
        resp = co_await dispatch(req);
        resp.finish();  // on this io thread
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
        spdlog::debug("{} {} {} {}us", req.method, req.path, resp.status, us);
        if (req.method == "HEAD") resp.body.clear();
      }
      if (resp.stream) {
        co_await stream_events(stream, std::move(resp.stream));
        break;
      }
      if (bodiless(resp.status)) resp.body.clear();
      const std::string head = response_head(resp, version, keep_alive);
      boost::system::error_code wec;
      if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
        // NOTE: not one gathered write on TLS: Beast's flat_stream sends a short first buffer alone
        // and, handed the rest by asio::async_write, stalled after the head whenever the body was
        // over 16 KiB (the browser test's bundles never arrived). Head, then body.
        co_await asio::async_write(stream, asio::buffer(head), asio::redirect_error(asio::use_awaitable, wec));
        if (!wec && !resp.body.empty()) {
          co_await asio::async_write(stream, asio::buffer(resp.body), asio::redirect_error(asio::use_awaitable, wec));
        }
      } else {
        const std::array<asio::const_buffer, 2> out{asio::buffer(head), asio::buffer(resp.body)};
        co_await asio::async_write(stream, out, asio::redirect_error(asio::use_awaitable, wec));
      }
      if (wec || !keep_alive) break;
    }
    co_await close(stream);
  }

  // 1xx, 204 and 304 answers have no body and no Content-Length (RFC 9110 8.6).
  static bool bodiless(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

  // The status line and header fields of a response, as Beast's serializer wrote them (same
  // fields, Content-Length and Connection as message::prepare_payload and keep_alive set them),
  // built in one string: building a Beast message per response (one allocation per field) and
  // serialising it showed in the issue #6 profile. The body is written after it as it is.
  std::string response_head(const Response& resp, int version, bool keep_alive) const {
    // The web client needs no inline script and no third-party origin; Element Plus sets inline styles.
    static constexpr std::string_view kFixed =
        "X-Content-Type-Options: nosniff\r\n"
        "X-Frame-Options: DENY\r\n"
        "Referrer-Policy: same-origin\r\n"
        "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'\r\n";
    // NOTE: a value is never allowed to end the field early: CR and LF become spaces.
    auto field = [](std::string& out, std::string_view name, std::string_view value) {
      out.append(name);
      out.append(": ");
      for (char c : value) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
      out.append("\r\n");
    };
    std::string h;
    h.reserve(kFixed.size() + 192 + resp.content_type.size());
    h.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    h.append(std::to_string(resp.status));
    h.push_back(' ');
    const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(resp.status));
    h.append(reason.data(), reason.size());
    h.append("\r\nServer: statgov\r\n");
    if (!resp.content_type.empty()) field(h, "Content-Type", resp.content_type);
    h.append(kFixed);
    if (opt.hsts || tls) h.append("Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n");
    for (const auto& [k, v] : resp.headers) field(h, k, v);
    if (!bodiless(resp.status)) field(h, "Content-Length", std::to_string(resp.body.size()));
    if (version >= 11 && !keep_alive) h.append("Connection: close\r\n");
    if (version < 11 && keep_alive) h.append("Connection: keep-alive\r\n");
    h.append("\r\n");
    return h;
  }

  // Writes the event stream until the client goes away or the server stops. The response has no
  // length: it ends when the connection closes, as EventSource expects.
  template <typename Stream>
  asio::awaitable<void> stream_events(Stream& stream, std::shared_ptr<EventStream> events) {
    beast::get_lowest_layer(stream).expires_never();
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n"
        "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n: connected\n\n";
    boost::system::error_code ec;
    co_await asio::async_write(stream, asio::buffer(head), asio::redirect_error(asio::use_awaitable, ec));
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto last_write = std::chrono::steady_clock::now();
    while (!ec) {
      timer.expires_after(std::chrono::milliseconds(250));
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      std::string text = events->poll();
      if (text.empty() && std::chrono::steady_clock::now() - last_write > std::chrono::seconds(15)) text = ": ping\n\n";
      if (text.empty()) continue;
      co_await asio::async_write(stream, asio::buffer(text), asio::redirect_error(asio::use_awaitable, ec));
      last_write = std::chrono::steady_clock::now();
    }
  }

  asio::awaitable<void> listen() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        continue;
      }
      asio::co_spawn(ioc, accept(std::move(socket)), asio::detached);
    }
  }
};

Server::Server(const Router& router, ServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(options))) {}

Server::~Server() {
  stop();
  wait();
}

std::optional<std::string> Server::start() {
  auto& im = *impl_;
  if (!im.opt.static_dir.empty()) im.static_root = std::filesystem::path(im.opt.static_dir);
  if (im.opt.tls) {
    auto made = TlsContext::create(*im.opt.tls);
    if (auto* err = std::get_if<std::string>(&made)) return "TLS: " + *err;
    im.tls = std::move(std::get<std::unique_ptr<TlsContext>>(made));
  }
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(im.opt.address, ec);
  if (ec) return "bad listen address " + im.opt.address;
  tcp::endpoint ep(addr, im.opt.port);
  im.acceptor.open(ep.protocol(), ec);
  if (!ec) im.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) im.acceptor.bind(ep, ec);
  if (!ec) im.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen on " + im.opt.address + ":" + std::to_string(im.opt.port) + ": " + ec.message();
  port_ = im.acceptor.local_endpoint().port();
  asio::co_spawn(im.ioc, im.listen(), asio::detached);
  // opt.threads handlers may run (and block) at once; the sockets need no more io threads than cores.
  const int handlers = std::max(1, im.opt.threads);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  im.handlers = std::make_unique<asio::thread_pool>(static_cast<std::size_t>(handlers));
  for (int i = 0; i < std::min(handlers, cores); ++i) {
    im.threads.emplace_back([&im] { im.ioc.run(); });
  }
  return std::nullopt;
}

void Server::stop() {
  if (!impl_) return;
  asio::post(impl_->ioc, [im = impl_.get()] {
    boost::system::error_code ec;
    im->acceptor.close(ec);
  });
  impl_->ioc.stop();
  if (impl_->handlers) impl_->handlers->stop();
}

void Server::wait() {
  if (!impl_) return;
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
  // After the io threads: a handler still running posts its response to the stopped io_context,
  // which drops it. Joining here means no handler outlives the router it uses.
  if (impl_->handlers) impl_->handlers->join();
  // A request answered from another thread (the store's writer) may still be on its way; its
  // answer goes to the stopped io_context, which must exist until then.
  std::unique_lock lock(impl_->in_flight_mu);
  impl_->in_flight_cv.wait(lock, [&] { return impl_->in_flight == 0; });
}

}  // namespace statgov::http

// The HTTP server core on Boost.Beast: request/response values, a router with path parameters,
// static files with a single-page-app fallback. Knows nothing of statistics.
//
// Thread safety: the Router is built before start() and only read afterwards. Handlers run on
// the server's handler pool (ServerOptions::threads threads), several at once, never on the io
// threads that read and write the sockets; they must be thread-safe themselves. The one
// exception: an asynchronous route added with RunOn::io_thread runs on the io thread that read
// the request, so it must never wait for long (see Router::add_async).
#pragma once

#include "base/result.hpp"
#include "http/forwarded.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace statgov::http {

struct CaseLess {
  bool operator()(const std::string& a, const std::string& b) const;
};

// The client certificate of a TLS connection (ServerOptions::tls with a client CA).
enum class ClientCert {
  none,       // plain HTTP, no client CA configured, or the client sent no certificate
  verified,   // issued by the client CA, in its validity period, not revoked
  revoked,    // issued by the client CA but on its revocation list (checked again on every request)
  untrusted,  // any other verification failure: another issuer, expired, not yet valid
};

struct Request {
  std::string method;  // upper case
  std::string target;  // raw, with query
  std::string path;    // decoded path without query
  std::map<std::string, std::string> query;
  std::map<std::string, std::string, CaseLess> headers;
  std::map<std::string, std::string> params;  // from the route pattern
  std::string body;
  std::string remote_ip;
  // Set from the connection's TLS client certificate; cn and serial also for revoked and
  // untrusted certificates (for the audit), but only `verified` proves an identity.
  ClientCert client_cert = ClientCert::none;
  std::string client_cert_cn;      // subject common name (UTF-8)
  std::string client_cert_serial;  // upper-case hex, as `statgov ca list` prints it

  std::string header(const std::string& name) const;
  std::optional<std::string> cookie(std::string_view name) const;
};

// A server-sent event stream: the server calls poll() about every 250 ms on an io thread and
// writes whatever text it returns ("" = nothing new). A ping comment keeps idle streams open.
class EventStream {
 public:
  virtual ~EventStream() = default;
  virtual std::string poll() = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::shared_ptr<EventStream> stream;  // set: answer with text/event-stream and stream until closed
  // Set: the answer is made by calling it, on the io thread that writes the response, just before
  // writing; it sets status, headers and body. An answer completed on a busy thread (a submit, on
  // the store's single writer thread) leaves its JSON to be built and serialised there (issue #6).
  // It must not block. A throw becomes a 500.
  std::function<Response()> make;

  static Response later(std::function<Response()> make);
  // Runs `make` if set (see above), in place.
  void finish();

  static Response json(int status, const nlohmann::json& body);
  // {"error": {"code", "message" (zh), "message_en", "details"}}, the one error body of every API.
  static Response error(int status, std::string_view code, std::string_view zh, std::string_view en,
                        nlohmann::json details = nlohmann::json::array());
  // An Error as its status (status_for) and body; unavailable also says Retry-After: 30.
  static Response from_error(const Error& e);
  static Response no_content();
};

// The one mapping from an error's kind to its HTTP status (400, 401, 403, 404, 409, 413, 422, 429,
// 500, 503), for the internal API and the public portal alike.
int status_for(ErrorKind k);

using Handler = std::function<Response(Request&)>;
// Completes a request, from any thread; call it exactly once.
using Respond = std::function<void(Response)>;
// A handler whose answer comes later, typically from another thread that finishes the work
// (a submit is answered by the store's writer once its commit is durable). It may also call
// respond before it returns.
using AsyncHandler = std::function<void(Request&, Respond)>;

// Where an asynchronous handler runs.
enum class RunOn {
  pool,       // the handler pool, like every synchronous handler
  io_thread,  // the io thread that read the request: no hand-off, but it must not block for
              // long (no network round trips, no waiting for a commit)
};

class Router {
 public:
  // Pattern segments in braces are parameters: "/api/v1/forms/{code}".
  void add(std::string method, std::string pattern, Handler h);
  void add_async(std::string method, std::string pattern, AsyncHandler h, RunOn where);
  // Answers 404 for an unknown path and 405 for a known path with another method. An
  // asynchronous route is waited for (tests and tools; the server does not call this).
  Response dispatch(Request& req) const;
  struct Route {
    std::string method, pattern;
    std::vector<std::string> segments;
    Handler handler;      // set for synchronous routes
    AsyncHandler async;   // set for asynchronous routes
    RunOn run_on = RunOn::pool;
  };
  // The route for the request, with req.params filled in; nullptr with `miss` set to the 404 or
  // 405 answer if there is none.
  const Route* match(Request& req, Response& miss) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// TLS termination in the server itself (docs/tls-ca.md). Files are PEM; all are read at start();
// crl_file is read again when it changes (checked at most once a second), so a revocation applies
// to new connections and to the next request of open ones without a restart.
struct TlsOptions {
  std::string cert_file;       // server certificate, then the intermediate/CA certificates
  std::string key_file;
  std::string client_ca_file;  // set: ask clients for a certificate issued by this CA (optional for them)
  std::string crl_file;        // revocation list of the client CA (needs client_ca_file)
  std::chrono::seconds handshake_timeout{10};  // a client slower than this loses its connection
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  unsigned short port = 8080;  // 0 = any free port
  int threads = 4;  // handlers that may run (and block) at once; io threads: min(threads, cores)
  std::size_t max_body = 32 * 1024 * 1024;
  std::string static_dir;  // serve files from here for non-API GETs; empty = none
  std::string api_prefix = "/api/";
  bool hsts = false;  // send Strict-Transport-Security (TLS at a proxy); always sent when `tls` is set
  // Requests per client address: a token bucket refilled at rate_per_second up to burst.
  // 0 disables the limit (load tests).
  double rate_per_second = 100;
  double rate_burst = 400;
  std::optional<TlsOptions> tls = std::nullopt;  // empty: plain HTTP (the default; loopback and behind a proxy)
  // Peers whose X-Forwarded-For names the client (reverse proxies); empty: the peer is the client.
  TrustedProxies trusted_proxies = {};
};

class Server {
 public:
  Server(const Router& router, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the io and handler threads; returns an error message on failure (e.g. port in use).
  std::optional<std::string> start();
  unsigned short port() const { return port_; }
  void stop();
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  unsigned short port_ = 0;
};

std::string url_decode(std::string_view s, bool plus_is_space);
std::map<std::string, std::string> parse_query(std::string_view q);

}  // namespace statgov::http

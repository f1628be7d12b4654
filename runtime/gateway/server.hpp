#pragma once

// The gateway's network side: one Boost.Beast server on one port for HTTP
// and WebSocket, on its own I/O thread. No CAF here: sessions reach actors
// through the `backend` interface, which the CAF side implements.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace grove::gateway {

/// A WebSocket connection as the CAF side sees it. Thread-safe.
class connection {
public:
  virtual ~connection() = default;
  /// Queues one text frame (frames are written one at a time, in order).
  /// Past `max_queued_bytes` of unwritten frames the client is not reading:
  /// the queue is dropped and the connection closed (1008).
  virtual void send(std::string text) = 0;
  /// Closes the connection (close code 1001, going away).
  virtual void close() = 0;
  /// The handler is done with one frame it was given (its answer, if any,
  /// is queued): the server reads at most `max_frames_in_flight` frames ahead.
  virtual void frame_done() = 0;
  /// The client's address (for limits per address); empty when unknown.
  virtual std::string peer() const { return {}; }
};

/// Receives what one connection sends; called on the I/O thread, must not block.
/// Every on_frame is answered by exactly one connection::frame_done.
class connection_handler {
public:
  virtual ~connection_handler() = default;
  virtual void on_frame(std::string text) = 0;
  virtual void on_close() = 0;
};

/// An HTTP answer.
struct http_reply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string set_cookie = {}; ///< a Set-Cookie header, if not empty
};

/// The business side: sessions and dynamic HTTP routes.
class backend {
public:
  virtual ~backend() = default;
  /// A WebSocket client connected; the handler lives as long as the connection.
  virtual std::unique_ptr<connection_handler> open(std::shared_ptr<connection> conn) = 0;
  /// Answers GET `path` (/metrics, /api/jobs, /output/<job>); `done` may run on any thread.
  virtual void get(const std::string& path, std::function<void(http_reply)> done) = 0;
};

/// Server limits and settings.
struct server_options {
  std::string host = "127.0.0.1";
  uint16_t port = 8080; ///< 0: any free port (see server::port)
  std::string token;    ///< empty: no authentication
  size_t max_frame_bytes = 64 * 1024;
  size_t max_connections = 256;
  size_t max_http_body_bytes = 64 * 1024;
  /// Unwritten outbound bytes per WebSocket connection before it is closed
  /// as a client that does not read (one frame larger than this still goes
  /// out when nothing else is queued).
  size_t max_queued_bytes = 4 * 1024 * 1024;
  /// Frames read ahead of their answers; then reading pauses (backpressure).
  size_t max_frames_in_flight = 8;
  /// The kernel's send buffer per WebSocket connection (SO_SNDBUF): what a
  /// client that does not read can hold beyond max_queued_bytes.
  int socket_send_buffer_bytes = 256 * 1024;
  /// Both set: HTTPS and WSS only (OpenSSL through Beast), this certificate
  /// chain and private key (PEM); both empty: plain HTTP and WS.
  std::string tls_cert;
  std::string tls_key;
};

/// Routes: GET / (dashboard), /app.js, /style.css, /healthz, /metrics,
/// /api/jobs, /api/nodes, /api/budget, /output/<job>; WebSocket upgrade on /ws. With a token set,
/// everything but /healthz needs `Authorization: Bearer <token>`,
/// `?token=<token>` (compared in constant time), or the session cookie that
/// `/?token=<token>` sets so the dashboard's own scripts and styles load.
class server final {
public:
  server(server_options opts, std::shared_ptr<backend> be);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds and starts serving; returns an error text, or empty on success.
  std::string start();

  /// The bound port (after start).
  uint16_t port() const;

  /// Whether it serves HTTPS and WSS (after start()).
  bool tls() const;

  /// Stops accepting connections; open ones go on.
  void stop_accepting();

  /// Closes every WebSocket connection and stops the I/O thread.
  void stop();

  /// Open WebSocket connections.
  size_t connections() const;

  struct impl; ///< shared with the sessions in server.cpp

private:
  std::shared_ptr<impl> impl_;
};

/// Constant-time comparison of a presented token with the expected one.
bool token_matches(const std::string& presented, const std::string& expected);

/// The dashboard's cookie value for `token`: a SHA-256 digest (hex), so the
/// token itself never sits in the browser's cookie store.
std::string session_cookie_value(const std::string& token);

} // namespace grove::gateway

#pragma once

// A small synchronous WebSocket client (Boost.Beast) for `grove submit` and
// the tests. One connection, blocking calls with a timeout.

#include <chrono>
#include <memory>
#include <string>

#include "messages/errors.hpp"

namespace grove::http {

class ws_client final {
public:
  /// Connects to ws://host:port/path or wss://host:port/path, with an
  /// optional bearer token in the Authorization header. Over wss the
  /// server's certificate is verified against the system's trust store, or
  /// against `ca_file` (PEM) when given, and against the host name.
  static messages::result<std::unique_ptr<ws_client>> connect(
    const std::string& url, const std::string& token, std::chrono::milliseconds timeout = std::chrono::seconds{10},
    const std::string& ca_file = {});
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  messages::status send_text(const std::string& text);
  messages::status send_binary(const std::string& bytes);

  /// The next text frame; fails on close, error or after `timeout`.
  messages::result<std::string> read(std::chrono::milliseconds timeout = std::chrono::seconds{60});

  void close();

private:
  struct impl;
  explicit ws_client(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

/// One HTTP GET over a fresh connection (tests, health checks); the body, or an error.
struct get_result {
  int status = 0;
  std::string content_type;
  std::string body;
};
messages::result<get_result> http_get(const std::string& url, const std::string& token = {},
                                      std::chrono::milliseconds timeout = std::chrono::seconds{10});

} // namespace grove::http

#pragma once

// Async HTTP(S) client on Boost.Beast, running on its own io_context thread.
// No Beast or Asio in this header: it is included by the providers.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messages/errors.hpp"

namespace grove::http {

/// A parsed http:// or https:// URL.
struct url {
  std::string scheme; ///< "http" or "https"
  std::string host;
  std::string port;   ///< defaulted from the scheme
  std::string target; ///< path and query, at least "/"
};

/// Parses an absolute http(s) URL; anything else is an error.
messages::result<url> parse_url(std::string_view text);

/// One request.
struct request {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{60000}; ///< whole exchange: resolve to last byte
  size_t max_response_bytes = 4 * 1024 * 1024;
};

/// One response, or a transport failure (`error` not empty, `status` 0).
struct response {
  int status = 0;
  std::map<std::string, std::string> headers; ///< names lower-cased
  std::string body;
  std::string error;
  bool timed_out = false;
  bool truncated = false; ///< the peer closed before the whole body arrived
  bool too_large = false; ///< the body exceeded max_response_bytes
  std::chrono::milliseconds latency{0};
};

/// Called once per request, on the client's I/O thread: never deliver a CAF
/// response promise from it; send a message to an actor instead.
using callback = std::function<void(response)>;

/// TLS settings: certificates and host names are always verified, against
/// the system trust store, or `ca_file` when given.
struct client_options {
  std::string ca_file;
};

/// Owns one I/O thread; requests run concurrently on it.
class client final {
public:
  explicit client(client_options opts = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Starts `req`; `done` runs exactly once (unless the client is destroyed first).
  void send(request req, callback done);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace grove::http

#pragma once

// Internal to the gateway's network side (server.cpp, ws_session.cpp): the
// server's shared state and small HTTP helpers. Beast inside: include it
// from these translation units only.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "runtime/gateway/server.hpp"

namespace grove::gateway {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;
namespace ssl = boost::asio::ssl;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

namespace detail {

/// An error frame (or body) `{"type":"error","code":…,"message":…}`.
std::string json_error(const std::string& code, const std::string& message);

/// The value of `key` in a list of `key=value` parts separated by `sep`
/// (spaces before a part ignored, as in a Cookie header), or empty.
std::string param(beast::string_view list, char sep, const std::string& key);

/// The value of `key` in the target's query string, or empty.
std::string query_param(beast::string_view target, const std::string& key);

/// The target without its query string.
std::string path_of(beast::string_view target);

/// The dashboard's session cookie.
inline constexpr const char* cookie_name = "grove_session";

} // namespace detail

struct server::impl : std::enable_shared_from_this<server::impl> {
  server_options opts;
  std::shared_ptr<backend> be;
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  std::atomic<size_t> open_connections{0};
  std::mutex mtx;
  std::vector<std::weak_ptr<connection>> sockets;
  uint16_t bound_port = 0;
  std::unique_ptr<ssl::context> tls; ///< set: every connection is TLS (opts.tls_cert, opts.tls_key)

  std::string cookie; ///< session_cookie_value(opts.token), once

  bool authorized(const bhttp::request<bhttp::string_body>& req) const {
    if (opts.token.empty()) return true;
    auto auth = req[bhttp::field::authorization];
    std::string bearer = "Bearer ";
    if (auth.size() > bearer.size() && auth.substr(0, bearer.size()) == bearer) {
      return token_matches(std::string{auth.substr(bearer.size())}, opts.token);
    }
    if (auto presented = detail::param(req[bhttp::field::cookie], ';', detail::cookie_name); !presented.empty()) {
      return token_matches(presented, cookie);
    }
    return token_matches(detail::query_param(req.target(), "token"), opts.token);
  }

  void accept();
};

/// Runs one upgraded connection: the WebSocket handshake, then frames both
/// ways with the server's limits (ws_session.cpp).
void start_ws_session(beast::tcp_stream&& stream, std::shared_ptr<server::impl> srv,
                      bhttp::request<bhttp::string_body> req);
void start_ws_session(tls_stream&& stream, std::shared_ptr<server::impl> srv, bhttp::request<bhttp::string_body> req);

} // namespace grove::gateway

#include "infra/http/ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <optional>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "infra/http/http_client.hpp"

namespace grove::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;
namespace ssl = boost::asio::ssl;
using messages::errc;
using messages::make_failure;

namespace {

messages::result<url> ws_url(const std::string& text) {
  std::string as_http = text;
  if (text.rfind("ws://", 0) == 0)
    as_http = "http://" + text.substr(5);
  else if (text.rfind("wss://", 0) == 0)
    as_http = "https://" + text.substr(6);
  else if (text.rfind("http://", 0) != 0 && text.rfind("https://", 0) != 0)
    return make_failure(errc::invalid_config, "not a ws:// or wss:// URL: " + text);
  auto u = parse_url(as_http);
  if (!u) return u.error();
  if (u->target == "/") u->target = "/ws";
  return u;
}

} // namespace

struct ws_client::impl {
  net::io_context ioc;
  ssl::context tls_ctx{ssl::context::tls_client};
  std::optional<websocket::stream<beast::tcp_stream>> plain;
  std::optional<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> tls;
  beast::flat_buffer buffer;

  /// `f` on whichever stream this connection has.
  template <class F>
  decltype(auto) with(F&& f) {
    return tls ? f(*tls) : f(*plain);
  }
  beast::tcp_stream& lowest() {
    return with([](auto& ws) -> beast::tcp_stream& { return beast::get_lowest_layer(ws); });
  }
};

namespace {

// A TLS failure in words a user can act on.
std::string tls_error(const beast::error_code& ec) {
  auto text = ec.message();
  if (ec.category() == net::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    return "certificate verify failed: the server's certificate is not signed by a trusted CA (give its CA with "
           "--cacert FILE) or does not name this host";
  }
  return text;
}

} // namespace

ws_client::ws_client(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

ws_client::~ws_client() {
  close();
}

messages::result<std::unique_ptr<ws_client>> ws_client::connect(const std::string& url_text, const std::string& token,
                                                                std::chrono::milliseconds timeout,
                                                                const std::string& ca_file) {
  auto u = ws_url(url_text);
  if (!u) return u.error();
  auto i = std::make_unique<impl>();
  beast::error_code ec;
  bool secure = u->scheme == "https";
  if (secure) {
    i->tls_ctx.set_verify_mode(ssl::verify_peer);
    i->tls_ctx.set_default_verify_paths(ec);
    if (!ca_file.empty()) i->tls_ctx.load_verify_file(ca_file, ec);
    if (ec) return make_failure(errc::invalid_config, "cannot read the CA file " + ca_file + ": " + ec.message());
    i->tls.emplace(i->ioc, i->tls_ctx);
    // SNI, then the certificate must name the host.
    SSL_set_tlsext_host_name(i->tls->next_layer().native_handle(), u->host.c_str());
    i->tls->next_layer().set_verify_callback(ssl::host_name_verification(u->host));
  } else {
    i->plain.emplace(i->ioc);
  }
  tcp::resolver resolver{i->ioc};
  auto results = resolver.resolve(u->host, u->port, ec);
  if (ec) return make_failure(errc::io, "resolve " + u->host + ": " + ec.message());
  auto& lowest = i->lowest();
  lowest.expires_after(timeout);
  lowest.connect(results, ec);
  if (ec) return make_failure(errc::io, "connect to " + u->host + ":" + u->port + ": " + ec.message());
  if (secure) {
    i->tls->next_layer().handshake(ssl::stream_base::client, ec);
    if (ec) return make_failure(errc::io, "TLS with " + u->host + ":" + u->port + ": " + tls_error(ec));
  }
  i->with([&](auto& ws) {
    ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
      req.set(bhttp::field::user_agent, "grove-submit");
      if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
    }));
  });
  // The async handshake hands back the server's response even when it declines
  // the upgrade (the sync one in Beast 1.74 does not): we want its status.
  websocket::response_type res;
  ec = net::error::would_block;
  i->with([&](auto& ws) {
    ws.async_handshake(res, u->host + ":" + u->port, u->target, [&ec](beast::error_code e) { ec = e; });
  });
  i->ioc.run_for(timeout);
  i->ioc.restart();
  if (ec == net::error::would_block) return make_failure(errc::timeout, "WebSocket handshake timed out");
  if (ec) {
    auto status = res.result_int();
    if (status == 401) return make_failure(errc::invalid_config, "the server refused the token (HTTP 401)");
    if (status == 503) return make_failure(errc::io, "the server is at its connection limit (HTTP 503)");
    if (ec == bhttp::error::end_of_stream && !secure) {
      return make_failure(errc::io,
                          "the server closed the connection at the WebSocket handshake (does it serve "
                          "TLS? then use wss://)");
    }
    return make_failure(
      errc::io, "WebSocket handshake: " + ec.message() + (status != 0 ? " (HTTP " + std::to_string(status) + ")" : ""));
  }
  lowest.expires_never();
  return std::unique_ptr<ws_client>(new ws_client(std::move(i)));
}

messages::status ws_client::send_text(const std::string& text) {
  beast::error_code ec;
  impl_->with([&](auto& ws) {
    ws.text(true);
    ws.write(net::buffer(text), ec);
  });
  if (ec) return make_failure(errc::io, "send: " + ec.message());
  return messages::ok();
}

messages::status ws_client::send_binary(const std::string& bytes) {
  beast::error_code ec;
  impl_->with([&](auto& ws) {
    ws.binary(true);
    ws.write(net::buffer(bytes), ec);
    ws.text(true);
  });
  if (ec) return make_failure(errc::io, "send: " + ec.message());
  return messages::ok();
}

messages::result<std::string> ws_client::read(std::chrono::milliseconds timeout) {
  // Sync reads have no timeout of their own: run one async read on our context with a deadline.
  beast::error_code result_ec = net::error::would_block;
  impl_->buffer.consume(impl_->buffer.size());
  impl_->with([&](auto& ws) { ws.async_read(impl_->buffer, [&](beast::error_code ec, size_t) { result_ec = ec; }); });
  impl_->ioc.restart();
  impl_->ioc.run_for(timeout);
  if (result_ec == net::error::would_block) {
    impl_->lowest().cancel();
    impl_->ioc.restart();
    impl_->ioc.run();
    return make_failure(errc::timeout, "no frame within " + std::to_string(timeout.count()) + " ms");
  }
  if (result_ec) return make_failure(errc::io, "read: " + result_ec.message());
  return beast::buffers_to_string(impl_->buffer.data());
}

void ws_client::close() {
  if (!impl_ || !impl_->with([](auto& ws) { return ws.is_open(); })) return;
  beast::error_code ec;
  impl_->lowest().expires_after(std::chrono::seconds{2});
  impl_->with([&](auto& ws) { ws.close(websocket::close_code::normal, ec); });
}

messages::result<get_result> http_get(const std::string& url_text, const std::string& token,
                                      std::chrono::milliseconds timeout) {
  auto u = parse_url(url_text);
  if (!u) return u.error();
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::error_code ec;
  tcp::resolver resolver{ioc};
  auto results = resolver.resolve(u->host, u->port, ec);
  if (ec) return make_failure(errc::io, "resolve: " + ec.message());
  stream.expires_after(timeout);
  stream.connect(results, ec);
  if (ec) return make_failure(errc::io, "connect: " + ec.message());
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, u->target, 11};
  req.set(bhttp::field::host, u->host + ":" + u->port);
  if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
  bhttp::write(stream, req, ec);
  if (ec) return make_failure(errc::io, "write: " + ec.message());
  beast::flat_buffer buf;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buf, res, ec);
  if (ec) return make_failure(errc::io, "read: " + ec.message());
  get_result out;
  out.status = static_cast<int>(res.result_int());
  out.content_type = std::string{res[bhttp::field::content_type]};
  out.body = std::move(res.body());
  return out;
}

} // namespace grove::http

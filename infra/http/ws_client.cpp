#include "infra/http/ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "infra/http/http_client.hpp"

namespace grove::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;
using messages::errc;
using messages::make_failure;

namespace {

messages::result<url> ws_url(const std::string& text) {
  std::string as_http = text;
  if (text.rfind("ws://", 0) == 0)
    as_http = "http://" + text.substr(5);
  else if (text.rfind("wss://", 0) == 0)
    return make_failure(errc::invalid_config, "wss:// is not supported yet; use ws:// on a trusted network");
  else if (text.rfind("http://", 0) != 0)
    return make_failure(errc::invalid_config, "not a ws:// URL: " + text);
  auto u = parse_url(as_http);
  if (!u) return u.error();
  if (u->target == "/") u->target = "/ws";
  return u;
}

} // namespace

struct ws_client::impl {
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
};

ws_client::ws_client(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

ws_client::~ws_client() {
  close();
}

messages::result<std::unique_ptr<ws_client>> ws_client::connect(const std::string& url_text, const std::string& token,
                                                                std::chrono::milliseconds timeout) {
  auto u = ws_url(url_text);
  if (!u) return u.error();
  auto i = std::make_unique<impl>();
  beast::error_code ec;
  tcp::resolver resolver{i->ioc};
  auto results = resolver.resolve(u->host, u->port, ec);
  if (ec) return make_failure(errc::io, "resolve " + u->host + ": " + ec.message());
  auto& lowest = beast::get_lowest_layer(i->ws);
  lowest.expires_after(timeout);
  lowest.connect(results, ec);
  if (ec) return make_failure(errc::io, "connect to " + u->host + ":" + u->port + ": " + ec.message());
  i->ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
    req.set(bhttp::field::user_agent, "grove-submit");
    if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
  }));
  // The async handshake hands back the server's response even when it declines
  // the upgrade (the sync one in Beast 1.74 does not): we want its status.
  websocket::response_type res;
  ec = net::error::would_block;
  i->ws.async_handshake(res, u->host + ":" + u->port, u->target, [&ec](beast::error_code e) { ec = e; });
  i->ioc.run_for(timeout);
  i->ioc.restart();
  if (ec == net::error::would_block) return make_failure(errc::timeout, "WebSocket handshake timed out");
  if (ec) {
    auto status = res.result_int();
    if (status == 401) return make_failure(errc::invalid_config, "the server refused the token (HTTP 401)");
    if (status == 503) return make_failure(errc::io, "the server is at its connection limit (HTTP 503)");
    return make_failure(
      errc::io, "WebSocket handshake: " + ec.message() + (status != 0 ? " (HTTP " + std::to_string(status) + ")" : ""));
  }
  lowest.expires_never();
  return std::unique_ptr<ws_client>(new ws_client(std::move(i)));
}

messages::status ws_client::send_text(const std::string& text) {
  beast::error_code ec;
  impl_->ws.text(true);
  impl_->ws.write(net::buffer(text), ec);
  if (ec) return make_failure(errc::io, "send: " + ec.message());
  return messages::ok();
}

messages::status ws_client::send_binary(const std::string& bytes) {
  beast::error_code ec;
  impl_->ws.binary(true);
  impl_->ws.write(net::buffer(bytes), ec);
  impl_->ws.text(true);
  if (ec) return make_failure(errc::io, "send: " + ec.message());
  return messages::ok();
}

messages::result<std::string> ws_client::read(std::chrono::milliseconds timeout) {
  // Sync reads have no timeout of their own: run one async read on our context with a deadline.
  beast::error_code result_ec = net::error::would_block;
  impl_->buffer.consume(impl_->buffer.size());
  impl_->ws.async_read(impl_->buffer, [&](beast::error_code ec, size_t) { result_ec = ec; });
  impl_->ioc.restart();
  impl_->ioc.run_for(timeout);
  if (result_ec == net::error::would_block) {
    beast::get_lowest_layer(impl_->ws).cancel();
    impl_->ioc.restart();
    impl_->ioc.run();
    return make_failure(errc::timeout, "no frame within " + std::to_string(timeout.count()) + " ms");
  }
  if (result_ec) return make_failure(errc::io, "read: " + result_ec.message());
  return beast::buffers_to_string(impl_->buffer.data());
}

void ws_client::close() {
  if (!impl_ || !impl_->ws.is_open()) return;
  beast::error_code ec;
  beast::get_lowest_layer(impl_->ws).expires_after(std::chrono::seconds{2});
  impl_->ws.close(websocket::close_code::normal, ec);
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

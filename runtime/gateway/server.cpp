#include "runtime/gateway/server.hpp"

#include <optional>

#include <boost/asio/strand.hpp>
#include <boost/beast/websocket.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "runtime/gateway/server_impl.hpp"
#include "runtime/gateway/web_assets.hpp"

namespace grove::gateway {

namespace websocket = boost::beast::websocket;

bool token_matches(const std::string& presented, const std::string& expected) {
  // Same work whatever the content: no early exit on the first difference.
  unsigned char diff = presented.size() == expected.size() ? 0 : 1;
  size_t n = std::max(presented.size(), expected.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char a = i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0;
    unsigned char b = i < expected.size() ? static_cast<unsigned char>(expected[i]) : 0;
    diff |= static_cast<unsigned char>(a ^ b);
  }
  return diff == 0;
}

namespace detail {

std::string json_error(const std::string& code, const std::string& message) {
  std::string out = R"({"type":"error","code":")" + code + R"(","message":")";
  for (char c : message) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"}";
}

// The value of `key` in a list of `key=value` parts separated by `sep`
// (spaces before a part ignored, as in a Cookie header), or empty.
std::string param(beast::string_view list, char sep, const std::string& key) {
  std::string text{list};
  size_t pos = 0;
  while (pos <= text.size()) {
    while (pos < text.size() && text[pos] == ' ') ++pos;
    auto end = text.find(sep, pos);
    auto part = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (part.rfind(key + "=", 0) == 0) return part.substr(key.size() + 1);
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return {};
}

std::string query_param(beast::string_view target, const std::string& key) {
  auto q = target.find('?');
  return q == beast::string_view::npos ? std::string{} : param(target.substr(q + 1), '&', key);
}

std::string path_of(beast::string_view target) {
  auto q = target.find('?');
  return std::string{q == beast::string_view::npos ? target : target.substr(0, q)};
}

} // namespace detail

using namespace detail;

namespace {

// One HTTP connection: static assets, health, dynamic routes, or the upgrade.
// `Stream` is beast::tcp_stream, or tls_stream (HTTPS, then WSS).
template <class Stream>
class http_session final : public std::enable_shared_from_this<http_session<Stream>> {
public:
  http_session(Stream&& stream, std::shared_ptr<server::impl> srv) : stream_(std::move(stream)), srv_(std::move(srv)) {}

  void run() {
    if constexpr (std::is_same_v<Stream, tls_stream>) {
      // The handshake is bounded like a request: a client that connects and says nothing is cut off.
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds{30});
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return; // not TLS, an untrusted or broken client: nothing was opened
        self->read();
      });
    } else {
      read();
    }
  }

private:
  void read() {
    parser_.emplace();
    parser_->body_limit(srv_->opts.max_http_body_bytes);
    parser_->header_limit(16 * 1024);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds{30});
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&http_session::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec == bhttp::error::end_of_stream) return close();
    if (ec) return; // timeout, reset or a malformed request: drop the connection
    auto req = parser_->release();
    if (websocket::is_upgrade(req)) return upgrade(std::move(req));
    handle(std::move(req));
  }

  void upgrade(bhttp::request<bhttp::string_body> req) {
    // The endpoint is /ws; a client pointed at the bare server URL is answered there too.
    if (auto path = path_of(req.target()); path != "/ws" && path != "/") {
      return reply(req, {404, "application/json", json_error("not_found", "the WebSocket endpoint is /ws (or /)")});
    }
    if (!srv_->authorized(req)) {
      return reply(req, {401, "application/json", json_error("unauthorized", "missing or wrong token")});
    }
    if (srv_->open_connections.load() >= srv_->opts.max_connections) {
      return reply(
        req, {503, "application/json", json_error("too_many_connections", "the server is at its connection limit")});
    }
    auto& lowest = beast::get_lowest_layer(stream_);
    lowest.expires_never();
    beast::error_code ec;
    lowest.socket().set_option(net::socket_base::send_buffer_size(srv_->opts.socket_send_buffer_bytes), ec);
    start_ws_session(std::move(stream_), srv_, std::move(req));
  }

  void handle(bhttp::request<bhttp::string_body> req) {
    auto path = path_of(req.target());
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      return reply(req, {405, "application/json", json_error("method_not_allowed", "only GET")});
    }
    if (path == "/healthz") return reply(req, {200, "text/plain; charset=utf-8", "ok\n"});
    if (path == "/ws") {
      return reply(req, {426, "application/json",
                         json_error("upgrade_required", "/ws is the WebSocket endpoint: connect with a WebSocket client "
                                                        "(ws:// or wss://), e.g. grove submit ws://HOST:PORT/ws")});
    }
    if (!srv_->authorized(req)) {
      return reply(req, {401, "application/json", json_error("unauthorized", "missing or wrong token")});
    }
    if (auto asset = web::find(path == "/" ? "/index.html" : path)) {
      http_reply r{200, std::string{asset->content_type}, std::string{asset->body}};
      // A browser opened /?token=…: its scripts, styles and WebSocket carry this cookie instead.
      if (path == "/" && !srv_->opts.token.empty()) {
        r.set_cookie = std::string{cookie_name} + "=" + srv_->cookie + "; Path=/; HttpOnly; SameSite=Strict";
      }
      return reply(req, std::move(r));
    }
    if (path == "/metrics" || path == "/api/jobs" || path == "/api/nodes" || path == "/api/budget" ||
        path.rfind("/output/", 0) == 0) {
      auto self = this->shared_from_this();
      auto keep = std::make_shared<bhttp::request<bhttp::string_body>>(std::move(req));
      srv_->be->get(path, [self, keep](http_reply r) {
        // The backend answers on an actor thread: hop back onto the stream's executor.
        net::post(self->stream_.get_executor(),
                  [self, keep, r = std::move(r)]() mutable { self->reply(*keep, std::move(r)); });
      });
      return;
    }
    reply(req, {404, "application/json", json_error("not_found", "no such page: " + path)});
  }

  void reply(const bhttp::request<bhttp::string_body>& req, http_reply r) {
    auto res =
      std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(r.status), req.version());
    res->set(bhttp::field::server, "grove");
    res->set(bhttp::field::content_type, r.content_type);
    res->set(bhttp::field::cache_control, "no-store");
    res->set("X-Content-Type-Options", "nosniff");
    if (!r.set_cookie.empty()) res->set(bhttp::field::set_cookie, r.set_cookie);
    res->keep_alive(req.keep_alive());
    if (req.method() != bhttp::verb::head) res->body() = std::move(r.body);
    res->prepare_payload();
    bhttp::async_write(stream_, *res, [self = this->shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec) return;
      if (!res->keep_alive()) return self->close();
      self->read();
    });
  }

  void close() {
    if constexpr (std::is_same_v<Stream, tls_stream>) {
      // close_notify, then the socket; bounded by the stream's timeout.
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds{5});
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ec;
        beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
      });
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  Stream stream_;
  std::shared_ptr<server::impl> srv_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
};

} // namespace

void server::impl::accept() {
  acceptor.async_accept(net::make_strand(ioc), [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !self->acceptor.is_open()) return;
    if (!ec && self->tls) {
      std::make_shared<http_session<tls_stream>>(tls_stream{std::move(socket), *self->tls}, self)->run();
    } else if (!ec) {
      std::make_shared<http_session<beast::tcp_stream>>(beast::tcp_stream{std::move(socket)}, self)->run();
    }
    self->accept();
  });
}

std::string session_cookie_value(const std::string& token) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::string salted = "grove-dashboard:" + token;
  EVP_Digest(salted.data(), salted.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

server::server(server_options opts, std::shared_ptr<backend> be) : impl_(std::make_shared<impl>()) {
  impl_->opts = std::move(opts);
  if (!impl_->opts.token.empty()) impl_->cookie = session_cookie_value(impl_->opts.token);
  impl_->be = std::move(be);
}

server::~server() {
  stop();
}

std::string server::start() {
  beast::error_code ec;
  if (impl_->opts.tls_cert.empty() != impl_->opts.tls_key.empty()) {
    return "TLS needs both a certificate (--tls-cert) and its private key (--tls-key)";
  }
  if (!impl_->opts.tls_cert.empty()) {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    ctx->use_certificate_chain_file(impl_->opts.tls_cert, ec);
    if (ec) return "cannot load the TLS certificate " + impl_->opts.tls_cert + ": " + ec.message();
    ctx->use_private_key_file(impl_->opts.tls_key, ssl::context::pem, ec);
    auto mismatch =
      "the TLS private key " + impl_->opts.tls_key + " does not match the certificate " + impl_->opts.tls_cert;
    if (ec) {
      bool wrong_key = ec.category() == net::error::get_ssl_category() &&
                       ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH;
      return wrong_key ? mismatch : "cannot load the TLS private key " + impl_->opts.tls_key + ": " + ec.message();
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) return mismatch;
    impl_->tls = std::move(ctx);
  }
  auto address = net::ip::make_address(impl_->opts.host, ec);
  if (ec) return "bad listen address " + impl_->opts.host + ": " + ec.message();
  tcp::endpoint ep{address, impl_->opts.port};
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen on " + impl_->opts.host + ":" + std::to_string(impl_->opts.port) + ": " + ec.message();
  impl_->bound_port = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread{[i = impl_] { i->ioc.run(); }};
  return {};
}

bool server::tls() const {
  return impl_->tls != nullptr;
}

uint16_t server::port() const {
  return impl_->bound_port;
}

void server::stop_accepting() {
  net::post(impl_->ioc, [i = impl_] {
    beast::error_code ec;
    i->acceptor.close(ec);
  });
}

void server::stop() {
  if (!impl_->thread.joinable()) return;
  stop_accepting();
  std::vector<std::shared_ptr<connection>> open;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    for (auto& w : impl_->sockets) {
      if (auto c = w.lock()) open.push_back(c);
    }
    impl_->sockets.clear();
  }
  for (auto& c : open) c->close();
  open.clear();
  // Give close frames a moment to go out, then stop the loop.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{2};
  while (impl_->open_connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  impl_->ioc.stop();
  impl_->thread.join();
}

size_t server::connections() const {
  return impl_->open_connections.load();
}

} // namespace grove::gateway

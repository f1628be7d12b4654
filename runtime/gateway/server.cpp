#include "runtime/gateway/server.hpp"

#include <atomic>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "runtime/gateway/web_assets.hpp"

namespace grove::gateway {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

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

namespace {

std::string json_error(const std::string& code, const std::string& message) {
  std::string out = R"({"type":"error","code":")" + code + R"(","message":")";
  for (char c : message) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"}";
}

std::string query_param(beast::string_view target, const std::string& key) {
  auto q = target.find('?');
  if (q == beast::string_view::npos) return {};
  auto query = std::string{target.substr(q + 1)};
  size_t pos = 0;
  while (pos <= query.size()) {
    auto amp = query.find('&', pos);
    auto part = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (part.rfind(key + "=", 0) == 0) return part.substr(key.size() + 1);
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return {};
}

std::string path_of(beast::string_view target) {
  auto q = target.find('?');
  return std::string{q == beast::string_view::npos ? target : target.substr(0, q)};
}

} // namespace

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

  bool authorized(const bhttp::request<bhttp::string_body>& req) const {
    if (opts.token.empty()) return true;
    auto auth = req[bhttp::field::authorization];
    std::string bearer = "Bearer ";
    if (auth.size() > bearer.size() && auth.substr(0, bearer.size()) == bearer) {
      return token_matches(std::string{auth.substr(bearer.size())}, opts.token);
    }
    return token_matches(query_param(req.target(), "token"), opts.token);
  }

  void accept();
};

namespace {

// One WebSocket connection. Reads frames and hands them to the handler;
// writes queued frames one at a time on the connection's strand.
class ws_session final : public connection, public std::enable_shared_from_this<ws_session> {
public:
  ws_session(tcp::socket&& socket, std::shared_ptr<server::impl> srv)
    : ws_(std::move(socket)), srv_(std::move(srv)) {
    ++srv_->open_connections;
  }

  ~ws_session() override { --srv_->open_connections; }

  void run(bhttp::request<bhttp::string_body> req) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    // Frames up to 4x the limit are read and answered with frame_too_large;
    // beyond that the connection is closed with 1009 (message too big).
    ws_.read_message_max(std::max<size_t>(srv_->opts.max_frame_bytes * 4, 1 << 20));
    ws_.async_accept(req, beast::bind_front_handler(&ws_session::on_accept, shared_from_this()));
  }

  void send(std::string text) override {
    net::post(ws_.get_executor(), [self = shared_from_this(), text = std::move(text)]() mutable {
      if (self->closing_) return;
      self->queue_.push_back(std::move(text));
      if (self->queue_.size() == 1) self->write_next();
    });
  }

  /// Closes once every queued frame is written (a close is a write too: never two at once).
  void close() override {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      if (self->closing_) return;
      self->closing_ = true;
      if (self->queue_.empty()) self->do_close();
    });
  }

private:
  void on_accept(beast::error_code ec) {
    if (ec) return; // handshake failed: nothing was opened
    handler_ = srv_->be->open(shared_from_this());
    {
      std::lock_guard<std::mutex> guard{srv_->mtx};
      srv_->sockets.push_back(weak_from_this());
    }
    read();
  }

  void read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&ws_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t bytes) {
    if (ec) {
      // closed, timed out or too big: the session ends either way.
      if (handler_) handler_->on_close();
      handler_.reset();
      return;
    }
    auto text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (!ws_.got_text()) {
      send(json_error("binary_not_supported", "frames must be JSON text; binary frames are not supported"));
    } else if (bytes > srv_->opts.max_frame_bytes) {
      send(json_error("frame_too_large", "the frame is " + std::to_string(bytes) + " bytes; the limit is " +
                                           std::to_string(srv_->opts.max_frame_bytes)));
    } else if (handler_) {
      handler_->on_frame(std::move(text));
    }
    read();
  }

  void write_next() {
    ws_.text(true);
    ws_.async_write(net::buffer(queue_.front()), beast::bind_front_handler(&ws_session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, size_t) {
    if (ec) {
      queue_.clear();
      return;
    }
    queue_.pop_front();
    if (!queue_.empty()) {
      write_next();
    } else if (closing_) {
      do_close();
    }
  }

  void do_close() {
    ws_.async_close(websocket::close_code::going_away, [self = shared_from_this()](beast::error_code) {});
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<server::impl> srv_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  std::unique_ptr<connection_handler> handler_;
  bool closing_ = false;
};

// One HTTP connection: static assets, health, dynamic routes, or the upgrade.
class http_session final : public std::enable_shared_from_this<http_session> {
public:
  http_session(tcp::socket&& socket, std::shared_ptr<server::impl> srv) : stream_(std::move(socket)), srv_(std::move(srv)) {}

  void run() { read(); }

private:
  void read() {
    parser_.emplace();
    parser_->body_limit(srv_->opts.max_http_body_bytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(std::chrono::seconds{30});
    bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&http_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec == bhttp::error::end_of_stream) return close();
    if (ec) return; // timeout, reset or a malformed request: drop the connection
    auto req = parser_->release();
    if (websocket::is_upgrade(req)) return upgrade(std::move(req));
    handle(std::move(req));
  }

  void upgrade(bhttp::request<bhttp::string_body> req) {
    if (path_of(req.target()) != "/ws") {
      return reply(req, {404, "application/json", json_error("not_found", "WebSocket endpoint is /ws")});
    }
    if (!srv_->authorized(req)) {
      return reply(req, {401, "application/json", json_error("unauthorized", "missing or wrong token")});
    }
    if (srv_->open_connections.load() >= srv_->opts.max_connections) {
      return reply(req, {503, "application/json", json_error("too_many_connections", "the server is at its connection limit")});
    }
    stream_.expires_never();
    std::make_shared<ws_session>(stream_.release_socket(), srv_)->run(std::move(req));
  }

  void handle(bhttp::request<bhttp::string_body> req) {
    auto path = path_of(req.target());
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      return reply(req, {405, "application/json", json_error("method_not_allowed", "only GET")});
    }
    if (path == "/healthz") return reply(req, {200, "text/plain; charset=utf-8", "ok\n"});
    if (!srv_->authorized(req)) {
      return reply(req, {401, "application/json", json_error("unauthorized", "missing or wrong token")});
    }
    if (auto asset = web::find(path == "/" ? "/index.html" : path)) {
      return reply(req, {200, std::string{asset->content_type}, std::string{asset->body}});
    }
    if (path == "/metrics" || path == "/api/jobs" || path.rfind("/output/", 0) == 0) {
      auto self = shared_from_this();
      auto keep = std::make_shared<bhttp::request<bhttp::string_body>>(std::move(req));
      srv_->be->get(path, [self, keep](http_reply r) {
        // The backend answers on an actor thread: hop back onto the stream's executor.
        net::post(self->stream_.get_executor(), [self, keep, r = std::move(r)]() mutable { self->reply(*keep, std::move(r)); });
      });
      return;
    }
    reply(req, {404, "application/json", json_error("not_found", "no such page: " + path)});
  }

  void reply(const bhttp::request<bhttp::string_body>& req, http_reply r) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(r.status), req.version());
    res->set(bhttp::field::server, "grove");
    res->set(bhttp::field::content_type, r.content_type);
    res->set(bhttp::field::cache_control, "no-store");
    res->set("X-Content-Type-Options", "nosniff");
    res->keep_alive(req.keep_alive());
    if (req.method() != bhttp::verb::head) res->body() = std::move(r.body);
    res->prepare_payload();
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec) return;
      if (!res->keep_alive()) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  std::shared_ptr<server::impl> srv_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
};

} // namespace

void server::impl::accept() {
  acceptor.async_accept(net::make_strand(ioc), [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !self->acceptor.is_open()) return;
    if (!ec) std::make_shared<http_session>(std::move(socket), self)->run();
    self->accept();
  });
}

server::server(server_options opts, std::shared_ptr<backend> be) : impl_(std::make_shared<impl>()) {
  impl_->opts = std::move(opts);
  impl_->be = std::move(be);
}

server::~server() {
  stop();
}

std::string server::start() {
  beast::error_code ec;
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

#include "runtime/gateway/server.hpp"

#include <atomic>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <openssl/evp.h>

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

constexpr const char* cookie_name = "grove_session";

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

  std::string cookie; ///< session_cookie_value(opts.token), once

  bool authorized(const bhttp::request<bhttp::string_body>& req) const {
    if (opts.token.empty()) return true;
    auto auth = req[bhttp::field::authorization];
    std::string bearer = "Bearer ";
    if (auth.size() > bearer.size() && auth.substr(0, bearer.size()) == bearer) {
      return token_matches(std::string{auth.substr(bearer.size())}, opts.token);
    }
    if (auto presented = param(req[bhttp::field::cookie], ';', cookie_name); !presented.empty()) {
      return token_matches(presented, cookie);
    }
    return token_matches(query_param(req.target(), "token"), opts.token);
  }

  void accept();
};

namespace {

// One WebSocket connection. Reads frames and hands them to the handler;
// writes queued frames one at a time on the connection's strand. Bounded:
// at most `max_frames_in_flight` frames read ahead of their answers and
// `max_queued_bytes` of unwritten answers (then reading pauses); a client
// whose queue still grows past the cap is closed (1008) and its queue freed.
class ws_session final : public connection, public std::enable_shared_from_this<ws_session> {
public:
  ws_session(tcp::socket&& socket, std::shared_ptr<server::impl> srv)
    : srv_(std::move(srv)), ws_(std::move(socket)), grace_(ws_.get_executor()) {
    ++srv_->open_connections;
  }

  ~ws_session() override { --srv_->open_connections; }

  void run(bhttp::request<bhttp::string_body> req) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    // A frame over the limit is drained in small reads, never buffered whole,
    // and answered with frame_too_large; past 4x the limit (at least 1 MiB)
    // Beast closes the connection with 1009 (message too big).
    ws_.read_message_max(std::max<size_t>(srv_->opts.max_frame_bytes * 4, 1 << 20));
    ws_.async_accept(req, beast::bind_front_handler(&ws_session::on_accept, shared_from_this()));
  }

  void send(std::string text) override {
    net::post(ws_.get_executor(), [self = shared_from_this(), text = std::move(text)]() mutable {
      if (self->closing_ || self->closed_) return;
      if (!self->queue_.empty() && self->queued_bytes_ + text.size() > self->srv_->opts.max_queued_bytes) {
        return self->overflow();
      }
      self->queued_bytes_ += text.size();
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

  void frame_done() override {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      if (self->in_flight_ > 0) --self->in_flight_;
      self->read();
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

  // Reads the next piece of a frame, unless the client is ahead of us: too
  // many frames unanswered, or answers it has not taken yet.
  void read() {
    if (reading_ || closed_ || closing_) return;
    bool mid_frame = frame_bytes_ > 0;
    if (!mid_frame && (in_flight_ >= srv_->opts.max_frames_in_flight || queued_bytes_ > srv_->opts.max_queued_bytes / 2)) {
      return; // backpressure: frame_done() or a finished write reads again
    }
    reading_ = true;
    ws_.async_read_some(buffer_, read_chunk, beast::bind_front_handler(&ws_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t bytes) {
    reading_ = false;
    if (ec) return end(); // closed, timed out or too big: the session ends either way
    frame_bytes_ += bytes;
    if (frame_bytes_ > srv_->opts.max_frame_bytes) buffer_.consume(buffer_.size()); // drained, not kept
    if (!ws_.is_message_done()) return read();
    auto size = frame_bytes_;
    frame_bytes_ = 0;
    if (size > srv_->opts.max_frame_bytes) {
      send(json_error("frame_too_large", "the frame is " + std::to_string(size) + " bytes; the limit is " +
                                           std::to_string(srv_->opts.max_frame_bytes)));
    } else if (!ws_.got_text()) {
      buffer_.consume(buffer_.size());
      send(json_error("binary_not_supported", "frames must be JSON text; binary frames are not supported"));
    } else if (handler_) {
      auto text = beast::buffers_to_string(buffer_.data());
      buffer_.consume(buffer_.size());
      ++in_flight_;
      handler_->on_frame(std::move(text));
    }
    read();
  }

  // The client does not read: drop what it has not taken, say why if it
  // ever reads again, and cut the connection if it does not within a grace.
  void overflow() {
    queue_.erase(queue_.begin() + 1, queue_.end());
    queued_bytes_ = queue_.front().size();
    closing_ = true;
    close_reason_ = websocket::close_reason{websocket::close_code::policy_error, "client too slow: over " +
                                            std::to_string(srv_->opts.max_queued_bytes) + " bytes queued"};
    grace_.expires_after(std::chrono::seconds{5});
    grace_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      beast::get_lowest_layer(self->ws_).close();
      self->end();
    });
  }

  // The connection is over: what it still had queued is freed now (but the
  // frame being written), and the handler hears it once, even when no read
  // was pending (backpressure) to report it.
  void end() {
    if (closed_) return;
    closed_ = true;
    if (queue_.size() > 1) queue_.erase(queue_.begin() + 1, queue_.end());
    if (handler_) handler_->on_close();
    handler_.reset();
  }

  void write_next() {
    ws_.text(true);
    ws_.async_write(net::buffer(queue_.front()), beast::bind_front_handler(&ws_session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, size_t) {
    if (ec) {
      queue_.clear();
      queued_bytes_ = 0;
      return end(); // the client is gone, or was cut off
    }
    queued_bytes_ -= queue_.front().size();
    queue_.pop_front();
    if (!queue_.empty()) {
      write_next();
    } else if (closing_) {
      do_close();
    }
    read(); // the client took some: it may send again
  }

  void do_close() {
    ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code) {
      self->grace_.cancel();
      self->end();
    });
  }

  static constexpr size_t read_chunk = 16 * 1024;

  std::shared_ptr<server::impl> srv_; ///< first: the I/O context outlives the socket below
  websocket::stream<beast::tcp_stream> ws_;
  net::steady_timer grace_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  size_t in_flight_ = 0;    ///< frames handed to the handler and not yet done
  size_t frame_bytes_ = 0;  ///< bytes of the frame being read
  std::unique_ptr<connection_handler> handler_;
  websocket::close_reason close_reason_{websocket::close_code::going_away};
  bool reading_ = false;
  bool closing_ = false;
  bool closed_ = false;
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
    auto socket = stream_.release_socket();
    beast::error_code ec;
    socket.set_option(net::socket_base::send_buffer_size(srv_->opts.socket_send_buffer_bytes), ec);
    std::make_shared<ws_session>(std::move(socket), srv_)->run(std::move(req));
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
      http_reply r{200, std::string{asset->content_type}, std::string{asset->body}};
      // A browser opened /?token=…: its scripts, styles and WebSocket carry this cookie instead.
      if (path == "/" && !srv_->opts.token.empty()) {
        r.set_cookie = std::string{cookie_name} + "=" + srv_->cookie + "; Path=/; HttpOnly; SameSite=Strict";
      }
      return reply(req, std::move(r));
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
    if (!r.set_cookie.empty()) res->set(bhttp::field::set_cookie, r.set_cookie);
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

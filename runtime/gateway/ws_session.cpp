// One WebSocket connection of the gateway, bounded in what it reads ahead
// and in what it queues for a client that does not read.

#include <algorithm>
#include <deque>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "runtime/gateway/server_impl.hpp"

namespace grove::gateway {

namespace websocket = boost::beast::websocket;
using detail::json_error;

namespace {

// One WebSocket connection. Reads frames and hands them to the handler;
// writes queued frames one at a time on the connection's strand. Bounded:
// at most `max_frames_in_flight` frames read ahead of their answers and
// `max_queued_bytes` of unwritten answers (then reading pauses); a client
// whose queue still grows past the cap is closed (1008) and its queue freed.
// `Next` is beast::tcp_stream (ws://) or tls_stream (wss://).
template <class Next>
class ws_session final : public connection, public std::enable_shared_from_this<ws_session<Next>> {
  using std::enable_shared_from_this<ws_session<Next>>::shared_from_this;
  using std::enable_shared_from_this<ws_session<Next>>::weak_from_this;

public:
  ws_session(Next&& stream, std::shared_ptr<server::impl> srv)
    : srv_(std::move(srv)), ws_(std::move(stream)), grace_(ws_.get_executor()) {
    beast::error_code ec;
    auto remote = beast::get_lowest_layer(ws_).socket().remote_endpoint(ec);
    if (!ec) peer_ = remote.address().to_string();
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

  std::string peer() const override { return peer_; }

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
    if (!mid_frame &&
        (in_flight_ >= srv_->opts.max_frames_in_flight || queued_bytes_ > srv_->opts.max_queued_bytes / 2)) {
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
    close_reason_ =
      websocket::close_reason{websocket::close_code::policy_error,
                              "client too slow: over " + std::to_string(srv_->opts.max_queued_bytes) + " bytes queued"};
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
  std::string peer_;
  websocket::stream<Next> ws_;
  net::steady_timer grace_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  size_t in_flight_ = 0;   ///< frames handed to the handler and not yet done
  size_t frame_bytes_ = 0; ///< bytes of the frame being read
  std::unique_ptr<connection_handler> handler_;
  websocket::close_reason close_reason_{websocket::close_code::going_away};
  bool reading_ = false;
  bool closing_ = false;
  bool closed_ = false;
};

} // namespace

void start_ws_session(beast::tcp_stream&& stream, std::shared_ptr<server::impl> srv,
                      bhttp::request<bhttp::string_body> req) {
  std::make_shared<ws_session<beast::tcp_stream>>(std::move(stream), std::move(srv))->run(std::move(req));
}

void start_ws_session(tls_stream&& stream, std::shared_ptr<server::impl> srv, bhttp::request<bhttp::string_body> req) {
  std::make_shared<ws_session<tls_stream>>(std::move(stream), std::move(srv))->run(std::move(req));
}

} // namespace grove::gateway

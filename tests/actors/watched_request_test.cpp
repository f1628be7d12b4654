// Requests bounded by a deadline the asking actor keeps (step_watch) instead
// of a CAF request timeout: an answer in time is delivered once, silence ends
// in request_timeout once, and an answer after that is dropped.

#include <gtest/gtest.h>

#include <caf/all.hpp>

#include "actors/watched_request.hpp"
#include "messages/registry.hpp"

using namespace grove;
using namespace std::chrono_literals;

namespace {

struct system_config : caf::actor_system_config {
  system_config() { messages::register_messages(*this); }
};

using ping_atom = caf::atom_constant<caf::atom("ping")>;
using late_atom = caf::atom_constant<caf::atom("late")>;

// Answers ping with its count at once, unless it holds the answer back for `delay`.
struct echo_state {
  std::vector<std::pair<int, caf::typed_response_promise<int>>> held;
};
caf::behavior echo(caf::stateful_actor<echo_state>* self, caf::timespan delay) {
  return {
    [self, delay](ping_atom, int x) -> caf::result<int> {
      if (delay == caf::timespan{0}) return x;
      self->state.held.emplace_back(x, self->make_response_promise<int>());
      self->delayed_send(self, delay, late_atom::value);
      return self->state.held.back().second;
    },
    [self](late_atom) {
      for (auto& [x, rp] : self->state.held) rp.deliver(x);
      self->state.held.clear();
    },
  };
}

struct asker_state {
  actors::step_watch watch;
};

// Asks `dest` once with `timeout` and tells `report` each word it gets: ("ok", x) or ("fail", why).
caf::behavior asker(caf::stateful_actor<asker_state>* self, caf::actor dest, caf::timespan timeout, caf::actor report,
                    bool through_service) {
  auto ok = [self, report](int x) { self->send(report, std::string{"ok"}, std::to_string(x)); };
  auto fail = [self, report](caf::error& err) {
    self->send(report, std::string{"fail"}, std::string{err == caf::sec::request_timeout ? "timeout" : "other"});
  };
  if (through_service) {
    actors::watched_service(self, timeout, dest, caf::make_message(ping_atom::value, 7), ok, fail);
  } else {
    actors::watched_request(self, timeout, dest, caf::make_message(ping_atom::value, 7), ok, fail);
  }
  return {
    [self](actors::step_timer_atom) { actors::on_watch_timer(self); },
    [self](caf::get_atom) { return static_cast<int>(self->state.watch.size()); },
  };
}

// Every word `report` gets within `wait`.
std::vector<std::string> words(caf::scoped_actor& self, caf::timespan wait) {
  std::vector<std::string> got;
  bool more = true;
  while (more) {
    self->receive([&](const std::string& kind, const std::string& what) { got.push_back(kind + ":" + what); },
                  caf::after(wait) >> [&] { more = false; });
  }
  return got;
}

} // namespace

TEST(step_watch, settles_once_and_expires_only_what_is_due) {
  actors::step_watch w;
  auto t0 = actors::step_watch::clock::now();
  int expired = 0;
  auto a = w.add(t0 + 10s, [&] { ++expired; });
  auto b = w.add(t0 + 5s, [&] { expired += 10; });
  EXPECT_EQ(w.next_due(), t0 + 5s);
  EXPECT_TRUE(w.take_due(t0 + 1s).empty());
  auto due = w.take_due(t0 + 6s);
  ASSERT_EQ(due.size(), 1u);
  due[0]();
  EXPECT_EQ(expired, 10);
  EXPECT_FALSE(w.settle(b)) << "expired: its late answer is dropped";
  EXPECT_TRUE(w.settle(a));
  EXPECT_FALSE(w.settle(a)) << "one word per request";
  EXPECT_FALSE(w.next_due());
  EXPECT_EQ(w.size(), 0u);
}

TEST(watched_request, an_answer_in_time_arrives_once_and_leaves_nothing_watched) {
  system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  for (bool service : {false, true}) {
    auto e = sys.spawn(echo, caf::timespan{0});
    auto a = sys.spawn(asker, e, caf::timespan{200ms}, caf::actor{self}, service);
    // Past the deadline, nothing more comes: the timer found nothing due.
    EXPECT_EQ(words(self, 500ms), std::vector<std::string>{"ok:7"}) << service;
    self->request(a, 5s, caf::get_atom::value).receive([](int n) { EXPECT_EQ(n, 0); }, [](caf::error&) { FAIL(); });
    self->send_exit(a, caf::exit_reason::user_shutdown);
    self->send_exit(e, caf::exit_reason::user_shutdown);
  }
}

TEST(watched_request, silence_ends_in_one_timeout_and_a_late_answer_is_dropped) {
  system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  for (bool service : {false, true}) {
    auto e = sys.spawn(echo, caf::timespan{600ms});
    auto start = std::chrono::steady_clock::now();
    auto a = sys.spawn(asker, e, caf::timespan{150ms}, caf::actor{self}, service);
    self->receive(
      [&](const std::string& kind, const std::string& what) { EXPECT_EQ(kind + ":" + what, "fail:timeout"); },
      caf::after(5s) >> [] { FAIL() << "no timeout"; });
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 150ms);
    EXPECT_LT(took, 550ms) << "the deadline, not the answer, ended it";
    // The echo answers at 600 ms: that answer reaches no one.
    EXPECT_TRUE(words(self, 900ms).empty()) << service;
    self->send_exit(a, caf::exit_reason::user_shutdown);
    self->send_exit(e, caf::exit_reason::user_shutdown);
  }
}

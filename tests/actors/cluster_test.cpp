// The serving node's placement (actors/cluster.hpp) without a network: nodes
// join with a generator host, requests get a generator on the node with the
// most free capacity, wait in order when all are busy, honour retries'
// preferences and deadlines, and a node whose host dies is lost.

#include <gtest/gtest.h>

#include <mutex>

#include <caf/all.hpp>

#include "actors/cluster.hpp"
#include "messages/clock.hpp"
#include "messages/registry.hpp"

using namespace grove;
using namespace std::chrono_literals;

namespace {

struct cluster_system : caf::actor_system_config {
  cluster_system() { messages::register_messages(*this); }
};

struct placed {
  caf::actor gen;
  std::string node;
  std::string error;
};

placed place(caf::scoped_actor& self, const actors::cluster_actor& c, messages::placement_request req,
             std::chrono::milliseconds timeout = 2s) {
  placed out;
  self->request(c, timeout, std::move(req))
    .receive(
      [&](caf::actor& gen, std::string& node) {
        out.gen = std::move(gen);
        out.node = std::move(node);
      },
      [&](caf::error& err) { out.error = self->system().render(err); });
  return out;
}

std::vector<messages::node_info> nodes(caf::scoped_actor& self, const actors::cluster_actor& c) {
  std::vector<messages::node_info> out;
  self->request(c, 2s, actors::nodes_atom::value)
    .receive([&](std::vector<messages::node_info>& n) { out = std::move(n); }, [](caf::error&) {});
  return out;
}

} // namespace

TEST(cluster, places_by_free_capacity_waits_in_order_and_honours_retry_preferences) {
  cluster_system cfg;
  caf::actor_system sys{cfg};
  actors::generator_config gcfg; // generators that are never asked: placement only
  std::mutex mtx;
  std::vector<std::string> lines;
  actors::cluster_config cc;
  cc.name = "srv";
  cc.local_capacity = 1;
  cc.local = actors::spawn_worker_host(sys, gcfg);
  cc.probe_interval = 50ms;
  cc.log = [&](const std::string& l) {
    std::lock_guard<std::mutex> g{mtx};
    lines.push_back(l);
  };
  auto cluster = actors::spawn_cluster(sys, cc);
  caf::scoped_actor self{sys};

  auto first = place(self, cluster, {"j", "a", 1, "", "", 0});
  ASSERT_EQ(first.node, "srv") << first.error;
  // Full: the next request waits until it times out (its deadline), answered with an error.
  auto waited = place(self, cluster, {"j", "b", 1, "", "", messages::now_ms() + 150}, 2s);
  EXPECT_TRUE(waited.gen == nullptr);
  EXPECT_NE(waited.error.find("timeout"), std::string::npos) << waited.error;

  // A worker joins: the waiting line moves to it.
  auto w1 = actors::spawn_worker_host(sys, gcfg);
  std::string serving;
  self->request(cluster, 2s, messages::node_hello{"w1", "10.0.0.2", 2, {"strong"}}, caf::actor_cast<caf::actor>(w1))
    .receive([&](std::string& name, caf::actor&) { serving = name; }, [](caf::error&) {});
  EXPECT_EQ(serving, "srv");
  auto second = place(self, cluster, {"j", "b", 1, "", "", 0});
  EXPECT_EQ(second.node, "w1");
  // A generator that ends frees its node's place.
  caf::anon_send_exit(first.gen, caf::exit_reason::user_shutdown);
  std::this_thread::sleep_for(100ms);
  // A retry of an attempt that failed on srv escalates to the node with the stronger provider ...
  auto escalated = place(self, cluster, {"j", "c", 2, "srv", "strong", 0});
  EXPECT_EQ(escalated.node, "w1");
  // ... and one that failed on w1 goes elsewhere when there is room.
  auto elsewhere = place(self, cluster, {"j", "d", 2, "w1", "", 0});
  EXPECT_EQ(elsewhere.node, "srv");
  auto listed = nodes(self, cluster);
  ASSERT_EQ(listed.size(), 2u);
  for (auto& n : listed) {
    EXPECT_TRUE(n.up);
    EXPECT_EQ(n.in_flight, n.capacity) << n.name << " is full";
  }

  // The worker's host dies: the node is lost, and says so once.
  caf::anon_send_exit(w1, caf::exit_reason::kill);
  std::this_thread::sleep_for(200ms);
  for (auto& n : nodes(self, cluster)) {
    if (n.name == "w1") {
      EXPECT_FALSE(n.up);
      EXPECT_EQ(n.lost, 1u);
    }
  }
  {
    std::lock_guard<std::mutex> g{mtx};
    ASSERT_GE(lines.size(), 2u);
    EXPECT_NE(lines.front().find("node w1 joined from 10.0.0.2, capacity 2"), std::string::npos) << lines.front();
    EXPECT_NE(lines.back().find("node w1 (10.0.0.2) lost"), std::string::npos) << lines.back();
  }
  // A name of its own is required.
  std::string refused;
  self->request(cluster, 2s, messages::node_hello{"srv", "x", 1, {}}, caf::actor_cast<caf::actor>(cc.local))
    .receive([](std::string&, caf::actor&) {}, [&](caf::error& e) { refused = sys.render(e); });
  EXPECT_NE(refused.find("a name of its own"), std::string::npos) << refused;
  for (auto& g : {second.gen, escalated.gen, elsewhere.gen}) caf::anon_send_exit(g, caf::exit_reason::kill);
  caf::anon_send_exit(cluster, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(cc.local, caf::exit_reason::user_shutdown);
}

TEST(cluster, what_a_joining_peer_sends_is_bounded) {
  cluster_system cfg;
  caf::actor_system sys{cfg};
  actors::generator_config gcfg;
  actors::cluster_config cc;
  cc.name = "srv";
  auto cluster = actors::spawn_cluster(sys, cc);
  auto host = actors::spawn_worker_host(sys, gcfg);
  caf::scoped_actor self{sys};
  auto join = [&](messages::node_hello hello) {
    std::string err;
    self->request(cluster, 2s, std::move(hello), caf::actor_cast<caf::actor>(host))
      .receive([](std::string&, caf::actor&) {}, [&](caf::error& e) { err = sys.render(e); });
    return err;
  };
  EXPECT_NE(join({std::string(10000, 'n'), "a", 1, {}}).find("at most 128 bytes"), std::string::npos);
  EXPECT_NE(join({"w", std::string(10000, 'a'), 1, {}}).find("at most 128 bytes"), std::string::npos);
  EXPECT_NE(join({"w", "a", 1, std::vector<std::string>(1000, "p")}).find("at most 64 providers"), std::string::npos);
  EXPECT_NE(join({"w", "a", 1, {std::string(500, 'p')}}).find("too long"), std::string::npos);
  // A flood of names fills the table once, then is refused; a known name may still rejoin.
  for (int i = 0; i < 256; ++i) ASSERT_EQ(join({"w" + std::to_string(i), "a", 1, {}}), "") << i;
  EXPECT_NE(join({"one-too-many", "a", 1, {}}).find("256 nodes already"), std::string::npos);
  EXPECT_EQ(join({"w7", "a", 2, {}}), "");
  EXPECT_EQ(nodes(self, cluster).size(), 256u);
  caf::anon_send_exit(cluster, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(host, caf::exit_reason::user_shutdown);
}

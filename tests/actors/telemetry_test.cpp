// The event log: appended line by line and rotated by size, never through a link.

#include <gtest/gtest.h>

#include <fstream>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/telemetry.hpp"
#include "messages/registry.hpp"
#include "support.hpp"

using namespace grove;
using namespace std::chrono_literals;

namespace {

struct system_config : caf::actor_system_config {
  system_config() { messages::register_messages(*this); }
};

std::vector<std::string> lines_of(const std::filesystem::path& p) {
  std::vector<std::string> out;
  std::ifstream in{p};
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Sends `n` events numbered from `from` and waits until the actor has written them.
void log_events(caf::actor_system& sys, actors::telemetry_actor& t, int from, int n) {
  for (int i = from; i < from + n; ++i) {
    messages::telemetry_event ev;
    ev.job = "job-" + std::to_string(i);
    ev.component = "navbar";
    ev.stage = messages::stage::generating;
    ev.detail = std::string(100, 'x');
    caf::anon_send(t, ev);
  }
  caf::scoped_actor self{sys};
  self->request(t, 10s, actors::stats_atom::value).receive([](messages::telemetry_stats&) {}, [](caf::error&) {});
}

} // namespace

TEST(telemetry_log, rotates_by_size_keeps_a_few_files_and_loses_no_recent_line) {
  system_config cfg;
  caf::actor_system sys{cfg};
  test::temp_dir dir;
  auto grove_dir = dir.path() / ".grove";
  auto log = grove_dir / "telemetry.jsonl";
  // A link the user left where an old log would go: rotation moves the link, never writes through it.
  std::filesystem::create_directories(grove_dir);
  test::write_file(dir.path() / "precious.txt", "the user's\n");
  std::filesystem::create_symlink(dir.path() / "precious.txt", grove_dir / "telemetry.jsonl.1");

  actors::telemetry_log_limits limits{4096, 2};
  auto t = actors::spawn_telemetry(sys, log, nullptr, limits);
  log_events(sys, t, 0, 300); // ~190 bytes a line: about 14 files' worth
  caf::anon_send_exit(t, caf::exit_reason::user_shutdown);

  EXPECT_TRUE(std::filesystem::exists(log));
  EXPECT_TRUE(std::filesystem::exists(grove_dir / "telemetry.jsonl.1"));
  EXPECT_TRUE(std::filesystem::exists(grove_dir / "telemetry.jsonl.2"));
  EXPECT_FALSE(std::filesystem::exists(grove_dir / "telemetry.jsonl.3"));
  EXPECT_EQ(test::read_file(dir.path() / "precious.txt"), "the user's\n");
  std::vector<int> seen;
  for (auto* name : {"telemetry.jsonl.2", "telemetry.jsonl.1", "telemetry.jsonl"}) {
    auto p = grove_dir / name;
    EXPECT_FALSE(std::filesystem::is_symlink(p)) << name;
    EXPECT_LE(std::filesystem::file_size(p), limits.max_bytes + 400) << name;
    for (auto& line : lines_of(p)) {
      auto j = nlohmann::json::parse(line); // whole lines only
      seen.push_back(std::stoi(j["job"].get<std::string>().substr(4)));
    }
  }
  // The newest events, in order and without a gap, up to the last one sent.
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), 299);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_EQ(seen[i], seen[i - 1] + 1);
  EXPECT_GT(seen.size(), 30u);
  EXPECT_LT(seen.size(), 300u) << "old files were dropped";

  // A restart appends to the current file and goes on rotating from its size.
  auto before = std::filesystem::file_size(log);
  auto t2 = actors::spawn_telemetry(sys, log, nullptr, limits);
  log_events(sys, t2, 300, 1);
  caf::anon_send_exit(t2, caf::exit_reason::user_shutdown);
  EXPECT_TRUE(std::filesystem::file_size(log) > before || std::filesystem::file_size(log) < 400);
}

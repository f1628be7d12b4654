#pragma once

// A cluster of real grove processes for tests: one serving node
// (grove serve --cluster-port 0) and worker nodes (grove node --join), each
// with its own log, driven through grove submit as a user would.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace grove::test {

inline const std::string grove_bin = GROVE_BINARY;

/// Milliseconds since the epoch (the clock telemetry timestamps use).
/// A TCP port free on 127.0.0.1 a moment ago (for a server that must come back on the same port).
inline std::string free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return std::to_string(ntohs(a.sin_port));
}

inline int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// Waits until `needle` shows in `file`; false on timeout.
inline bool wait_for_text(const std::filesystem::path& file, const std::string& needle,
                          std::chrono::milliseconds timeout, size_t count = 1) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto text = read_file(file);
    size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    if (n >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return false;
}

/// The telemetry events of a workspace (its JSONL log).
inline std::vector<nlohmann::json> telemetry_events(const std::filesystem::path& ws) {
  std::vector<nlohmann::json> out;
  std::istringstream in{read_file(ws / ".grove" / "telemetry.jsonl")};
  for (std::string line; std::getline(in, line);) {
    auto ev = nlohmann::json::parse(line, nullptr, false);
    if (ev.is_object()) out.push_back(ev);
  }
  return out;
}

/// Every node a report's attempts ran on.
inline std::set<std::string> nodes_of(const nlohmann::json& report) {
  std::set<std::string> out;
  for (auto& c : report["components"])
    for (auto& n : c["nodes"]) out.insert(n.get<std::string>());
  return out;
}

class cluster_processes {
public:
  explicit cluster_processes(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::filesystem::path ws() const { return dir_ / "ws"; }
  std::filesystem::path log(const std::string& who) const { return dir_ / (who + ".log"); }

  /// Starts grove serve (no local generations unless told) and waits for both
  /// of its ports; `prefix` runs it through another command (ip netns exec).
  void serve(const std::string& flags = "--local-capacity 0", const std::string& env = {},
             const std::string& prefix = {}) {
    std::filesystem::remove(log("serve")); // a log of an earlier run must not answer for this one
    serve_ =
      std::make_unique<child_process>("cd '" + dir_.string() + "' && " + env + " exec " + prefix + " '" + grove_bin +
                                      "' serve --repo ws --port 0 --cluster-port " + serve_cluster_port +
                                      " --name srv " + flags + " 2>'" + log("serve").string() + "'");
    cluster_port = wait_for_number_after(log("serve"), "worker nodes on " + bind_host + ":", std::chrono::seconds{20});
    http_port = wait_for_number_after(log("serve"), "on http://127.0.0.1:", std::chrono::seconds{20});
    ASSERT_FALSE(cluster_port.empty() || http_port.empty()) << read_file(log("serve"));
  }

  /// Starts a worker; waits until the serving node has it (unless `wait` is false).
  void worker(const std::string& name, const std::string& flags, const std::string& env = {}, bool wait = true,
              const std::string& prefix = {}) {
    std::filesystem::remove(log(name));
    workers_[name] = std::make_unique<child_process>(
      "cd '" + dir_.string() + "' && " + env + " exec " + prefix + " '" + grove_bin + "' node --join " + host + ":" +
      cluster_port + " --name " + name + " " + flags + " 2>'" + log(name).string() + "'");
    if (wait) {
      ASSERT_TRUE(wait_for_text(log(name), "joined", std::chrono::seconds{20})) << read_file(log(name));
    }
  }

  child_process& process(const std::string& name) { return *workers_.at(name); }
  child_process& serving() { return *serve_; }

  /// Waits until telemetry shows a generation starting on `node`.
  bool generating_on(const std::string& node, std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& ev : telemetry_events(ws())) {
        if (ev.value("stage", "") == "generating" && ev.value("node", "") == node) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    return false;
  }

  /// Runs grove submit with a request (or `--plan FILE`); the report.
  nlohmann::json submit(const std::string& what, const std::string& prefix = {}) {
    auto r = run(prefix + "'" + grove_bin + "' submit --url ws://127.0.0.1:" + http_port + " " + what +
                 " --json -q 2>>'" + log("submit").string() + "'");
    auto report = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(report.is_object()) << r.out << read_file(log("submit"));
    return report;
  }

  /// Stops the serving node (SIGTERM: it drains and settles the workspace), then the workers.
  void stop() {
    if (serve_) {
      serve_->signal(SIGTERM);
      EXPECT_EQ(serve_->wait(std::chrono::seconds{60}), 0) << read_file(log("serve"));
      serve_.reset();
    }
    for (auto& [_, w] : workers_) {
      w->signal(SIGCONT);
      w->signal(SIGTERM);
      w->wait(std::chrono::seconds{10});
    }
    workers_.clear();
  }

  ~cluster_processes() { stop(); }

  std::string host = "127.0.0.1";       ///< where workers find the cluster port
  std::string bind_host = "127.0.0.1";  ///< what the serving node binds it to (--cluster-host)
  std::string serve_cluster_port = "0"; ///< --cluster-port (fixed when the serving node must come back on it)
  std::string cluster_port;
  std::string http_port;

private:
  std::filesystem::path dir_;
  std::unique_ptr<child_process> serve_;
  std::map<std::string, std::unique_ptr<child_process>> workers_;
};

/// Every planned component is on main exactly once, and in the library.
inline void expect_landed_once(const std::filesystem::path& ws, const nlohmann::json& report) {
  for (auto& c : report["components"]) {
    auto name = c["name"].get<std::string>();
    EXPECT_EQ(c["status"], "landed") << c.dump();
    auto merges = git_cli(ws, "log --oneline --grep='^grove: merge " + name + "$' main").out;
    EXPECT_EQ(count_lines(merges), 1u) << name << " must be on main exactly once";
  }
}

} // namespace grove::test

#pragma once

// Test support: temporary folders and running commands. Each fixture owns its own.

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <csignal>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "logic/library.hpp"

namespace grove::test {

/// A fresh folder under $TMPDIR, removed with the object.
class temp_dir final {
public:
  temp_dir() {
    auto base = std::filesystem::temp_directory_path() / "grove-test-XXXXXX";
    std::string tmpl = base.string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
};

/// Where the component `name` lives in the workspace `ws`: output/components/<xx>/<name>.json.
inline std::filesystem::path library_file(const std::filesystem::path& ws, const std::string& name) {
  return ws / "output" / "components" / logic::library::file(name);
}

/// Output and exit status of a shell command.
struct command_result {
  int status = -1;
  std::string out;
};

/// Runs `cmd` through /bin/sh, capturing stdout (append `2>&1` for stderr).
inline command_result run(const std::string& cmd) {
  command_result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

/// `git -C dir <args>` with its output.
inline command_result git_cli(const std::filesystem::path& dir, const std::string& args) {
  return run("git -C '" + dir.string() + "' " + args + " 2>&1");
}

/// Number of lines in `s`.
/// `prefix` followed by `n` (avoids GCC 12's false -Wrestrict on "literal" + std::string&&).
inline std::string numbered(const char* prefix, int n) {
  std::string out{prefix};
  out += std::to_string(n);
  return out;
}

inline size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& content) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out{p, std::ios::binary};
  out << content;
}

/// A child process started through /bin/sh (for `grove serve`, chromium);
/// killed with SIGKILL if still running when destroyed.
class child_process final {
public:
  explicit child_process(const std::string& command) {
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    if (::posix_spawn(&pid_, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0) pid_ = -1;
  }
  ~child_process() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) { ::kill(pid_, sig); }

  /// The exit status, waiting up to `timeout`; -1 if it is still running.
  int wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    return -1;
  }

private:
  pid_t pid_ = -1;
  bool exited_ = false;
};

/// Polls `file` until `pattern` appears in it; returns the text after it up to
/// the first non-digit (e.g. a port), or empty on timeout.
inline std::string wait_for_number_after(const std::filesystem::path& file, const std::string& pattern,
                                         std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto text = read_file(file);
    auto at = text.find(pattern);
    if (at != std::string::npos) {
      std::string digits;
      for (size_t i = at + pattern.size(); i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i)
        digits += text[i];
      if (!digits.empty()) return digits;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return {};
}

/// The repository invariants after any build: clean status, only the main
/// worktree, no feat/* branch, git fsck clean.
inline void expect_clean_repository(const std::filesystem::path& root) {
  EXPECT_EQ(git_cli(root, "status --porcelain").out, "");
  EXPECT_EQ(count_lines(git_cli(root, "worktree list").out), 1u) << git_cli(root, "worktree list").out;
  EXPECT_EQ(git_cli(root, "branch --list 'feat/*'").out, "");
  auto fsck = git_cli(root, "fsck --strict");
  EXPECT_EQ(fsck.status, 0) << fsck.out;
}

} // namespace grove::test

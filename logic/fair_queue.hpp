#pragma once

// The waiting line of a serving node: jobs beyond --max-jobs wait here, FIFO
// per owner (a connection), owners served in turn, so one client's burst
// cannot starve the others. Pure: ids in, ids out.

#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace grove::logic {

class fair_queue final {
public:
  /// Adds `id` at the end of `owner`'s line.
  void push(const std::string& owner, std::string id);

  /// The next job to start: the head of the line whose turn it is.
  std::optional<std::string> pop();

  /// Takes `id` out wherever it waits (a cancel); false if it is not queued.
  bool remove(const std::string& id);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  /// Every queued id in the order pop() would serve them.
  std::vector<std::string> order() const;

  /// 1-based place of `id` in that order, or 0 when it is not queued.
  size_t position(const std::string& id) const;

private:
  std::map<std::string, std::deque<std::string>> lines_;
  std::deque<std::string> turn_; ///< owners with waiting jobs, next first
  size_t size_ = 0;
};

} // namespace grove::logic

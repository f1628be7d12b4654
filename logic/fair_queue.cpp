#include "logic/fair_queue.hpp"

#include <algorithm>

namespace grove::logic {

void fair_queue::push(const std::string& owner, std::string id) {
  auto& line = lines_[owner];
  if (line.empty()) turn_.push_back(owner);
  line.push_back(std::move(id));
  ++size_;
}

std::optional<std::string> fair_queue::pop() {
  if (turn_.empty()) return std::nullopt;
  auto owner = turn_.front();
  turn_.pop_front();
  auto& line = lines_[owner];
  auto id = std::move(line.front());
  line.pop_front();
  if (line.empty()) {
    lines_.erase(owner);
  } else {
    turn_.push_back(owner); // its next job waits for the others' turns
  }
  --size_;
  return id;
}

bool fair_queue::remove(const std::string& id) {
  for (auto it = lines_.begin(); it != lines_.end(); ++it) {
    auto& line = it->second;
    auto pos = std::find(line.begin(), line.end(), id);
    if (pos == line.end()) continue;
    line.erase(pos);
    if (line.empty()) {
      turn_.erase(std::find(turn_.begin(), turn_.end(), it->first));
      lines_.erase(it);
    }
    --size_;
    return true;
  }
  return false;
}

std::vector<std::string> fair_queue::order() const {
  // Replays pop() on copies: one job per owner per round, owners in turn order.
  std::vector<std::string> out;
  out.reserve(size_);
  std::vector<std::pair<const std::deque<std::string>*, size_t>> rounds;
  for (auto& owner : turn_) rounds.push_back({&lines_.at(owner), 0});
  while (out.size() < size_) {
    for (auto& [line, next] : rounds) {
      if (next < line->size()) out.push_back((*line)[next++]);
    }
  }
  return out;
}

size_t fair_queue::position(const std::string& id) const {
  auto all = order();
  auto it = std::find(all.begin(), all.end(), id);
  return it == all.end() ? 0 : static_cast<size_t>(it - all.begin()) + 1;
}

} // namespace grove::logic

#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace grove::messages {

/// Error codes shared by every layer; rendered with `to_string`.
enum class errc : uint8_t {
  none = 0,
  invalid_name,
  invalid_json,
  schema_violation,
  invalid_plan,
  invalid_config,
  git,
  workspace,
  io,
  model,
  generation_crashed,
  restart_limit,
  qa_rejected,
  timeout,
  cancelled,
  busy,          ///< a limit is reached (jobs in flight, jobs per connection): try later
  not_found,     ///< no such job (or other named thing)
  shutting_down, ///< the node is stopping and takes no new work
  service_down,  ///< a node service stopped before answering (it is being restarted): ask again
  stale_base,    ///< main changed a branch's file since the branch started: rebase it and merge again
  budget,        ///< a spending limit (the job's max_cost_usd, the server's daily budget) is reached
};

/// A stable, lower-case name for `x`.
const char* to_string(errc x);

/// An error as a value: a code and a human message.
struct failure {
  errc code = errc::none;
  std::string message;
};

/// A value or a failure (std::expected is C++23; we build C++20).
template <class T>
class [[nodiscard]] result {
public:
  result(T value) : data_(std::move(value)) {}
  result(failure err) : data_(std::move(err)) {}

  explicit operator bool() const { return data_.index() == 0; }
  bool ok() const { return data_.index() == 0; }
  T& value() { return std::get<0>(data_); }
  const T& value() const { return std::get<0>(data_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const failure& error() const { return std::get<1>(data_); }

private:
  std::variant<T, failure> data_;
};

/// Success without a value.
struct unit {};
using status = result<unit>;

inline status ok() {
  return unit{};
}

inline failure make_failure(errc code, std::string message) {
  return failure{code, std::move(message)};
}

} // namespace grove::messages

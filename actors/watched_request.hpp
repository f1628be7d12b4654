#pragma once

// Requests bounded by a deadline kept in the asking actor's state (a
// step_watch, step_watch.hpp says why) instead of a CAF request timeout each.
// The actor's state has `step_watch watch`, and its behavior answers
// step_timer_atom with on_watch_timer(self). Include from actor
// implementations only (full CAF headers).

#include <algorithm>
#include <chrono>
#include <utility>

#include <caf/all.hpp>

#include "actors/interfaces.hpp"
#include "actors/service_call.hpp"
#include "actors/step_watch.hpp"

namespace grove::actors {

/// Sets the timer toward `due`, unless one is set that fires by then.
template <class Self>
void arm_watch_timer(Self self, step_watch::clock::time_point due) {
  if (!self->state.watch.needs_timer(due)) return;
  auto wait = std::max(due - step_watch::clock::now(), step_watch::clock::duration::zero());
  self->delayed_send(self, std::chrono::duration_cast<std::chrono::microseconds>(wait), step_timer_atom::value);
}

/// The timer fired: what is due gets its timeout, and the timer is set toward the next.
template <class Self>
void on_watch_timer(Self self) {
  auto& w = self->state.watch;
  w.timer_fired();
  for (auto& expire : w.take_due(step_watch::clock::now())) expire();
  if (auto next = w.next_due()) arm_watch_timer(self, *next);
}

namespace detail {

// `f` wrapped to run only when its answer is the first word on watched
// request `id`, with f's own parameter list so a typed actor's `then` still checks it.
template <class Self, class F, class Args = typename caf::detail::get_callable_trait<F>::arg_types>
struct watch_guard;

template <class Self, class F, class... Ts>
struct watch_guard<Self, F, caf::detail::type_list<Ts...>> {
  static auto wrap(Self self, uint64_t id, F f) {
    return [self, id, f = std::move(f)](Ts... xs) mutable {
      if (self->state.watch.settle(id)) f(std::forward<Ts>(xs)...);
    };
  }
};

template <class Self, class Fail>
uint64_t watch(Self self, caf::timespan timeout, Fail& fail) {
  auto due = step_watch::clock::now() + timeout;
  auto id = self->state.watch.add(due, [fail]() mutable {
    caf::error err = caf::sec::request_timeout;
    fail(err);
  });
  arm_watch_timer(self, due);
  return id;
}

} // namespace detail

/// `self->request(dest, timeout, msg).then(ok, fail)` with the timeout kept by
/// the actor: past it `fail` gets caf::sec::request_timeout and a late answer is dropped.
template <class Self, class Handle, class Msg, class Ok, class Fail>
void watched_request(Self self, caf::timespan timeout, const Handle& dest, Msg msg, Ok ok, Fail fail) {
  auto id = detail::watch(self, timeout, fail);
  self->request(dest, caf::infinite, std::move(msg))
    .then(detail::watch_guard<Self, Ok>::wrap(self, id, std::move(ok)),
          detail::watch_guard<Self, Fail>::wrap(self, id, std::move(fail)));
}

/// `ask_service(self, dest, timeout, msg, ok, fail)` with the timeout (over the
/// asks again after a service restart too) kept by the actor.
template <class Self, class Handle, class Msg, class Ok, class Fail>
void watched_service(Self self, caf::timespan timeout, const Handle& dest, Msg msg, Ok ok, Fail fail) {
  auto id = detail::watch(self, timeout, fail);
  ask_service(self, dest, caf::infinite, std::move(msg), detail::watch_guard<Self, Ok>::wrap(self, id, std::move(ok)),
              detail::watch_guard<Self, Fail>::wrap(self, id, std::move(fail)));
}

} // namespace grove::actors

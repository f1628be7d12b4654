// A job's side of the memory of past mistakes: which lessons a settled
// component teaches, and how the lessons it was given did. The lessons a
// generation is given are fetched in job_attempt.cpp; the store is
// actors/lessons.cpp over infra/journal/lessons.hpp.

#include <set>

#include <caf/all.hpp>

#include "actors/job_flow.hpp"
#include "infra/journal/lessons.hpp"
#include "messages/secrets.hpp"

namespace grove::actors::job_flow {

// What a settled component teaches: each rejection a later attempt got past
// becomes a lesson (its advice is the reviewer's, or the rule's message
// turned round); and the lessons it was given are scored by whether it
// passed on its first attempt.
void learn_from(self_ptr self, size_t idx, messages::stage outcome) {
  auto& st = self->state;
  auto& s = st.slots[idx];
  if (!st.deps.lessons || outcome == messages::stage::cached) return;
  if (!s.lessons.empty()) {
    messages::lesson_outcome o;
    for (auto& l : s.lessons) o.ids.push_back(l.id);
    o.passed_first = outcome == messages::stage::landed && s.report.attempts == 1 && s.report.rebases == 0;
    self->send(st.deps.lessons, std::move(o));
  }
  if (outcome != messages::stage::landed) return;
  std::set<std::string> taught;
  for (auto& v : s.rejections) {
    // Not mistakes of the component: timeouts, failed calls, and anything about keys.
    if (v.code == "generation_timeout" || v.code == "generation_failed" || v.code.rfind("secret", 0) == 0) continue;
    if (!taught.insert(v.code).second) continue;
    auto cut = v.message.find(". Advice: ");
    auto what = messages::redact(v.message.substr(0, cut));
    auto advice = cut == std::string::npos ? "the attempt that passed avoided this: " + what
                                           : messages::redact(v.message.substr(cut + 10));
    self->send(st.deps.lessons, messages::lesson_learned{journal::kind_of(s.spec.name), v.code, what, advice});
  }
}

} // namespace grove::actors::job_flow

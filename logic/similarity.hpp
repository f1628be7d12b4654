#pragma once

// Nearest neighbours by cosine similarity, for recalling lessons by the
// meaning of their text (embeddings) rather than by shared words.

#include <cstddef>
#include <vector>

namespace grove::logic::similarity {

/// Cosine of the angle between `a` and `b`; 0 when either is zero or their dimensions differ.
double cosine(const std::vector<float>& a, const std::vector<float>& b);

/// One candidate's place and score.
struct scored {
  size_t index = 0;
  double score = 0;
};

/// At most `limit` candidates with cosine at least `min_score`, best first
/// (ties: the earlier candidate first); candidates of another dimension never match.
std::vector<scored> nearest(const std::vector<float>& query, const std::vector<std::vector<float>>& candidates,
                            size_t limit, double min_score);

} // namespace grove::logic::similarity

// redactor: the ONE place that knows the process's secrets and removes them
// from text.
//
// Operation: `redactor::global()` holds every secret this process may send:
//   each target's auth.value (and the part after its scheme word, the bare
//   key of "Bearer KEY"), auth.client_id, auth.client_secret (registered by
//   every authenticator at construction), and each OAuth2 token as it is
//   fetched (the newest max_tokens are kept). `add()` also registers the
//   forms a target may echo a secret in: percent-encoded (upper- and
//   lower-case hex), form-encoded (space as '+'), and JSON-escaped (with and
//   without "\/"). `apply(text)` replaces every occurrence of every form
//   with "***", longest first.
//   It is applied where outside text enters the process (every HTTP answer's
//   body and transport error, in send_driver and authenticator, BEFORE it is
//   truncated, mapped to record errors, journaled or stored) and where text
//   leaves it (every log line, engine/logging). So the ledger, the journal,
//   last errors, events, stdout/stderr and logs never hold a secret the
//   process knows; metrics labels are closed sets (docs/metrics.md).
// Concurrency: thread-safe: add() takes a unique lock, apply() a shared one.
// Limitations: only secrets the process knows (it cannot redact a token it
//   never fetched, or an echo in an encoding not listed above); a secret
//   shorter than min_length characters is not matched on its own (it would
//   blank out ordinary words; `check` refuses such secrets).
#pragma once

#include <cstddef>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace stampede {

struct auth_config;

/// Replaces every occurrence of each non-empty secret with "***" (the
/// redactor's primitive; `secrets` in the order to try).
std::string redact(std::string_view text, const std::vector<std::string>& secrets);

class redactor {
public:
  static constexpr std::size_t min_length = 4;  // shorter secrets are not matched
  static constexpr std::size_t max_tokens = 16;  // newest OAuth2 tokens kept

  /// The process's redactor.
  static redactor& global();

  /// Registers a long-lived secret (and its encoded forms). Idempotent.
  void add(std::string_view secret);
  /// Registers auth.value (and its bare key), auth.client_id and auth.client_secret.
  void add(const auth_config& auth);
  /// Registers a fetched OAuth2 token (bounded: the oldest are dropped).
  void add_token(std::string_view token);

  /// `text` with every known secret replaced by "***".
  std::string apply(std::string_view text) const;
  /// Same, in place; returns whether anything was replaced.
  bool apply_in_place(std::string& text) const;

  /// Forgets everything (tests).
  void clear();

private:
  void rebuild_locked();

  mutable std::shared_mutex mu_;
  std::vector<std::string> secrets_;  // as registered
  std::vector<std::string> tokens_;   // newest last
  std::vector<std::string> forms_;    // every form of every secret, longest first
};

} // namespace stampede

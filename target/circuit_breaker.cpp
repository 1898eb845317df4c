#include "target/circuit_breaker.hpp"

#include <algorithm>

namespace stampede {

circuit_breaker::circuit_breaker(std::uint32_t failures, duration cooldown, now_fn now)
    : failures_(std::max<std::uint32_t>(1, failures)), cooldown_(cooldown), now_(std::move(now)) {}

void circuit_breaker::notify(breaker_state from, breaker_state to, const std::string& reason) {
  if (from != to && on_change_) on_change_(from, to, reason);
}

bool circuit_breaker::admit(bool* probe) {
  if (probe) *probe = false;
  breaker_state from = breaker_state::closed, to = breaker_state::closed;
  {
    std::lock_guard lk(mu_);
    from = state_;
    switch (state_) {
      case breaker_state::closed:
        return true;
      case breaker_state::half_open:
        if (probing_) return false;
        probing_ = true;
        if (probe) *probe = true;
        return true;
      case breaker_state::open:
        if (now_() - opened_at_ < cooldown_) return false;
        state_ = breaker_state::half_open;
        probing_ = true;
        if (probe) *probe = true;
        to = state_;
        break;
    }
  }
  notify(from, to, {});
  return true;
}

void circuit_breaker::success() {
  breaker_state from;
  {
    std::lock_guard lk(mu_);
    from = state_;
    state_ = breaker_state::closed;
    consecutive_ = 0;
    probing_ = false;
  }
  notify(from, breaker_state::closed, {});
}

void circuit_breaker::failure(const std::string& reason) {
  breaker_state from, to;
  {
    std::lock_guard lk(mu_);
    from = state_;
    ++consecutive_;
    last_failure_ = reason;
    if (state_ == breaker_state::half_open ||
        (state_ == breaker_state::closed && consecutive_ >= failures_)) {
      state_ = breaker_state::open;
      opened_at_ = now_();
      probing_ = false;
    }
    to = state_;
  }
  notify(from, to, reason);
}

void circuit_breaker::abandon(bool probe) {
  if (!probe) return;
  std::lock_guard lk(mu_);
  probing_ = false;
}

breaker_snapshot circuit_breaker::snapshot() const {
  std::lock_guard lk(mu_);
  breaker_snapshot s;
  s.state = state_;
  s.consecutive_failures = consecutive_;
  s.last_failure = last_failure_;
  if (state_ == breaker_state::open) {
    auto left = cooldown_ - std::chrono::duration_cast<duration>(now_() - opened_at_);
    s.retry_in = std::max(left, duration{0});
  }
  return s;
}

}  // namespace stampede

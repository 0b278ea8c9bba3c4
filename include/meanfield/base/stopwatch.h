#pragma once

#include <chrono>

namespace MeanField {
/// Adds the wall seconds of its lifetime to an accumulator (the time split of a step).
class Stopwatch {
public:
  explicit Stopwatch(double &accumulator)
      : total(accumulator)
      , start(std::chrono::steady_clock::now()) {}
  ~Stopwatch() {
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  Stopwatch(const Stopwatch &) = delete;
  Stopwatch &operator=(const Stopwatch &) = delete;

private:
  double &total;
  std::chrono::steady_clock::time_point start;
};
} // namespace MeanField

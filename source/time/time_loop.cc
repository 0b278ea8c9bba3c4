#include <meanfield/base/exceptions.h>
#include <meanfield/base/interrupt.h>
#include <meanfield/time/time_loop.h>

#include <deal.II/base/timer.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <optional>

namespace MeanField {
std::string to_string(const StopReason reason) {
  switch (reason) {
  case StopReason::end_time:
    return "end time";
  case StopReason::max_steps:
    return "maximum number of steps";
  case StopReason::stationary:
    return "stationary";
  case StopReason::observer:
    return "stop criterion of the run mode";
  }
  return "";
}

TimeLoop::TimeLoop(const TimeLoopSettings &settings_, MPI_Comm comm_,
                   dealii::ConditionalOStream &pcout_)
    : settings(settings_)
    , comm(comm_)
    , pcout(pcout_)
    , tolerance(1e-12 * std::max(1.0, settings_.end_time)) {
  std::sort(settings.output_times.begin(), settings.output_times.end());
}

double TimeLoop::next_output_after(const double t) const {
  const double T = settings.end_time;
  if (!settings.output_times.empty()) {
    for (const double s : settings.output_times)
      if (s > t + tolerance)
        return std::min(s, T);
    return T;
  }
  if (settings.output_interval <= 0)
    return T;
  // the first multiple of the interval beyond t (counted, not accumulated: no drift)
  const double k = std::floor((t + tolerance) / settings.output_interval) + 1;
  return std::min(k * settings.output_interval, T);
}

bool TimeLoop::output_due(const Stepper &stepper, const double next_output) const {
  return stepper.time() >= next_output - tolerance ||
         (settings.output_steps > 0 && stepper.step_number() % settings.output_steps == 0);
}

void TimeLoop::print_progress(const Stepper &stepper, const double elapsed) const {
  const double fraction = stepper.time() / settings.end_time;
  pcout << "  " << settings.step_name << ' ' << std::setw(8) << stepper.step_number()
        << "  t = " << std::setw(10) << std::setprecision(4) << stepper.time() << " / "
        << settings.end_time << "  F = " << std::setw(12) << std::setprecision(6) << stepper.F()
        << "  " << stepper.progress() << "  elapsed " << std::setprecision(3) << elapsed
        << " s  ETA " << (fraction > 0 ? elapsed * (1 - fraction) / fraction : 0.0) << " s"
        << std::endl;
}

StopReason TimeLoop::run(Stepper &stepper, TimeLoopObserver &observer) {
  const double T = settings.end_time;
  // the first output time at or after the start (a run starts on one: t = 0 or a study time)
  double next_output = settings.output_times.empty() && stepper.time() <= tolerance
                           ? 0.0
                           : next_output_after(stepper.time() - 2 * tolerance);
  dealii::Timer wall(comm, true);
  double last_progress = -1.0;
  while (true) {
    try {
      stepper.prepare();
    } catch (...) { // a blow-up: the tables up to the last good state
      observer.flush();
      throw;
    }
    const double t = stepper.time();
    const bool due = output_due(stepper, next_output);
    if (t >= next_output - tolerance)
      next_output = next_output_after(t);
    observer.state(stepper, due);

    std::optional<StopReason> reason;
    if (t >= T - tolerance)
      reason = StopReason::end_time;
    else if (stepper.step_number() >= settings.max_steps)
      reason = StopReason::max_steps;
    else if (settings.stationarity_tolerance > 0 &&
             stepper.stationarity_residual() < settings.stationarity_tolerance)
      reason = StopReason::stationary;
    else if (observer.stop(stepper))
      reason = StopReason::observer;
    if (reason) {
      observer.final_state(stepper);
      observer.flush();
      return *reason;
    }
    if (const int signal = interrupt_signal(comm)) { // SIGINT, SIGTERM: stop between two steps
      observer.final_state(stepper);
      observer.flush();
      throw Interrupted::at(signal, stepper.step_number(), t);
    }

    double dt = 0.0;
    try {
      dt = stepper.advance(std::min(next_output, T) - t);
    } catch (const RunError &) { // the stepper kept the state of the start of the step
      observer.final_state(stepper);
      observer.flush();
      throw;
    }
    observer.step(stepper, dt);
    if (due)
      observer.flush();
    const double elapsed = wall.wall_time();
    if (settings.progress && elapsed - last_progress >= 1.0) {
      last_progress = elapsed;
      print_progress(stepper, elapsed);
    }
  }
}
} // namespace MeanField

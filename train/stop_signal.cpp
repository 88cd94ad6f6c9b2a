#include "train/stop_signal.h"

#include <signal.h>

#include <csignal>

namespace zoo {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int sig) {
  g_stop_signal = sig;
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGINT, &dfl, nullptr);  // async-signal-safe: the next signal takes the default action
  sigaction(SIGTERM, &dfl, nullptr);
}

}  // namespace

void install_stop_handlers() {
  g_stop_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // a read or write in progress is not interrupted
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int stop_signal() { return g_stop_signal; }

void request_stop(int sig) { g_stop_signal = sig; }

}  // namespace zoo

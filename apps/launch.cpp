#include "apps/launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace zoo {

namespace {

volatile std::sig_atomic_t g_signal = 0;  // SIGINT/SIGTERM received by the launcher
extern "C" void on_signal(int sig) { g_signal = sig; }

const char* const kLaunchUsage =
    "usage: zoo launch --nproc N [--master-addr ADDR] [--master-port PORT] -- COMMAND [ARGS...]\n"
    "Starts N local ranks of COMMAND with RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,\n"
    "MASTER_ADDR and MASTER_PORT set (the torchrun convention), forwards SIGINT/SIGTERM to them,\n"
    "and ends the job when a rank fails, naming it. Default address 127.0.0.1, port: a free one.\n";

int parse_int(const std::string& flag, const std::string& value, int lo, int hi) {
  char* end = nullptr;
  const long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || v < lo || v > hi)
    throw std::runtime_error(flag + " '" + value + "' is not an integer in [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
  return static_cast<int>(v);
}

// A port nobody listens on now (the kernel picks it); rank 0's store binds it moments later.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string("cannot find a free port: ") + std::strerror(errno));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  const int sig = WTERMSIG(status);
  return "was killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
}

}  // namespace

int launch_command(int argc, char** argv) {
  int nproc = 0, port = 0;
  std::string addr = "127.0.0.1";
  std::vector<std::string> command;
  try {
    int i = 1;
    for (; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--") break;
      if (a == "--help" || a == "-h") {
        std::cout << kLaunchUsage;
        return 0;
      }
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      if (a == "--nproc") nproc = parse_int(a, argv[++i], 1, 1024);
      else if (a == "--master-port") port = parse_int(a, argv[++i], 1, 65535);
      else if (a == "--master-addr") addr = argv[++i];
      else throw std::runtime_error("unknown option '" + a + "'");
    }
    for (++i; i < argc; ++i) command.emplace_back(argv[i]);
    if (nproc == 0) throw std::runtime_error("--nproc N is required");
    if (command.empty()) throw std::runtime_error("no command after --");
    if (port == 0) port = free_port();
  } catch (const std::exception& e) {
    std::cerr << "zoo launch: error: " << e.what() << "\n" << kLaunchUsage;
    return 2;
  }

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);  // a closed terminal: passed on like SIGTERM

  std::map<pid_t, int> running;  // pid -> rank
  std::cout << "zoo launch: " << nproc << " ranks, MASTER_ADDR=" << addr << " MASTER_PORT=" << port << std::endl;
  for (int rank = 0; rank < nproc; ++rank) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::cerr << "zoo launch: fork failed: " << std::strerror(errno) << "\n";
      for (const auto& [p, r] : running) ::kill(p, SIGTERM);
      return 1;
    }
    if (pid == 0) {
      // Its own process group: Ctrl-C in a terminal reaches the launcher alone, which passes it
      // on once; a second signal to a rank would end it before its checkpoint is written.
      ::setpgid(0, 0);
      ::setenv("RANK", std::to_string(rank).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("MASTER_ADDR", addr.c_str(), 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      std::vector<char*> args;
      for (auto& c : command) args.push_back(c.data());
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      std::cerr << "zoo launch: cannot run '" << command[0] << "': " << std::strerror(errno) << "\n";
      ::_exit(127);
    }
    running[pid] = rank;
    std::cout << "zoo launch: rank " << rank << " pid " << pid << std::endl;
  }

  // Poll rather than block in waitpid: a signal then never races with the wait.
  int exit_code = 0;
  bool stopping = false;
  std::chrono::steady_clock::time_point kill_at;
  auto stop_all = [&](int sig, std::chrono::seconds grace) {
    for (const auto& [p, r] : running) ::kill(p, sig);
    stopping = true;
    kill_at = std::chrono::steady_clock::now() + grace;
  };
  while (!running.empty()) {
    if (g_signal != 0 && !stopping) {
      const int sig = g_signal;
      std::cerr << "zoo launch: got signal " << sig << " (" << strsignal(sig) << "); passing it to the "
                << running.size() << " running rank(s)\n";
      exit_code = 128 + sig;
      stop_all(sig, std::chrono::seconds(60));  // time to finish a step and write last.pt
    }
    // Reap every rank that has ended since the last poll. When one dies, its peers may die of it
    // within milliseconds (SIGPIPE or an error on the broken connection); the rank to blame is
    // then the one that did not die of a broken pipe.
    std::vector<std::tuple<pid_t, int, int>> failures;  // pid, rank, status
    bool reaped = false;
    for (int status = 0;;) {
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      if (!running.count(pid)) continue;
      reaped = true;
      const int rank = running[pid];
      running.erase(pid);
      if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) failures.emplace_back(pid, rank, status);
    }
    if (!failures.empty() && !stopping) {
      auto culprit = failures.front();
      for (const auto& f : failures)
        if (WIFSIGNALED(std::get<2>(f)) && WTERMSIG(std::get<2>(f)) != SIGPIPE) {
          culprit = f;
          break;
        }
      const auto [pid, rank, status] = culprit;
      std::cerr << "zoo launch: rank " << rank << " (pid " << pid << ") " << describe(status)
                << "; stopping the other " << running.size() << " rank(s)\n";
      exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      stop_all(SIGTERM, std::chrono::seconds(5));
    }
    if (reaped) continue;
    if (stopping && std::chrono::steady_clock::now() > kill_at) {
      for (const auto& [p, r] : running) ::kill(p, SIGKILL);
      kill_at = std::chrono::steady_clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exit_code;
}

}  // namespace zoo
